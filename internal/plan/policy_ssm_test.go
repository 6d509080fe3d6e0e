package plan_test

import (
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/plan"
)

// dlamiParam is the ARN of the parameter sear reads for an x86_64 GPU node,
// as IAM sees it: a public parameter, in no account.
var dlamiParam = "arn:aws:ssm:us-east-1::parameter" + ec2.DLAMIParameter("x86_64")

func policyOf(t *testing.T, yaml string) plan.Document {
	t.Helper()
	c, err := config.ParseCluster("cluster.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Make(plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: c, Repository: repo})
	if p.Policy == nil {
		t.Fatal("no IAM policy")
	}
	return p.Policy.Permissions
}

func hasAction(doc plan.Document, action string) bool {
	for _, st := range doc.Statement {
		if contains(st.Action, action) {
			return true
		}
	}
	return false
}

// TestGPUPolicyReadsOnlyTheDLAMIParameters: a GPU node without an AMI
// gets ssm:GetParameter on AWS's Deep Learning AMI parameters and nothing
// else of Parameter Store, may launch the images Amazon publishes, and may
// ask DescribeInstanceTypes; the CPU node beside it still gets Canonical's.
func TestGPUPolicyReadsOnlyTheDLAMIParameters(t *testing.T) {
	doc := policyOf(t, "!AWSCluster\nname: exp\nregion_name: us-east-1\nfactories_num: 2\nfactories_type: g4dn.xlarge\norchestrator_type: t3.large\n")
	for _, r := range []request{
		{"ssm:GetParameter", dlamiParam, map[string]string{}},
		{"ssm:GetParameter", "arn:aws:ssm:us-east-1::parameter" + ec2.DLAMIParameter("arm64"), map[string]string{}},
		{"ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-0d1a2b3c4d5e60010", map[string]string{"ec2:Owner": "amazon"}},
		{"ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-0a1b2c3d4e5f60001", map[string]string{"ec2:Owner": ec2.CanonicalOwner}},
		{"ec2:DescribeInstanceTypes", "*", map[string]string{}},
	} {
		if !allows(t, doc, r) {
			t.Errorf("the policy denies %s on %s (%v)", r.action, r.resource, r.ctx)
		}
	}
	for _, r := range []request{
		{"ssm:GetParameter", "arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", map[string]string{}},
		{"ssm:GetParameter", "arn:aws:ssm:us-east-1:" + testAccount + ":parameter/team/db-password", map[string]string{}},
		{"ssm:GetParameters", dlamiParam, map[string]string{}},
		{"ssm:GetParametersByPath", dlamiParam, map[string]string{}},
		{"ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-0bad0bad0bad0bad0", map[string]string{"ec2:Owner": "999999999999"}},
	} {
		if allows(t, doc, r) {
			t.Errorf("the policy allows %s on %s (%v)", r.action, r.resource, r.ctx)
		}
	}
}

// TestNoSSMWithoutGPUDefault: CPU clusters and GPU clusters that name
// their AMIs get no ssm permission and no Amazon image; DescribeInstanceTypes
// only where a GPU type is used; and a cluster of GPU nodes alone no
// Canonical image.
func TestNoSSMWithoutGPUDefault(t *testing.T) {
	base := "!AWSCluster\nname: exp\nfactories_num: 1\n"
	tests := []struct {
		name, yaml         string
		ssm, types, ubuntu bool
	}{
		{"cpu", base + "factories_type: c6i.xlarge\norchestrator_type: c6i.large\n", false, false, true},
		{"gpu with AMIs named", base + "factories_type: g5.xlarge\norchestrator_type: t3.large\nfactory_ami: ami-0fedcba9876543210\norchestrator_ami: ami-0123456789abcdef0\n", false, true, false},
		{"gpu only", base + "factories_type: g5.xlarge\norchestrator_type: g4dn.xlarge\n", true, true, false},
		{"gpu orchestrator", "!AWSCluster\nname: exp\nfactories_num: 0\nfactories_type: c6i.large\norchestrator_type: p4d.24xlarge\n", true, true, false},
	}
	for _, tt := range tests {
		doc := policyOf(t, tt.yaml)
		if got := hasAction(doc, "ssm:GetParameter"); got != tt.ssm {
			t.Errorf("%s: ssm:GetParameter %v, want %v", tt.name, got, tt.ssm)
		}
		if got := hasAction(doc, "ec2:DescribeInstanceTypes"); got != tt.types {
			t.Errorf("%s: ec2:DescribeInstanceTypes %v, want %v", tt.name, got, tt.types)
		}
		amazon := allows(t, doc, request{"ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-0d1a2b3c4d5e60010", map[string]string{"ec2:Owner": "amazon"}})
		if amazon != tt.ssm {
			t.Errorf("%s: launching Amazon's images %v, want %v", tt.name, amazon, tt.ssm)
		}
		ubuntu := allows(t, doc, request{"ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-0a1b2c3d4e5f60001", map[string]string{"ec2:Owner": ec2.CanonicalOwner}})
		if ubuntu != tt.ubuntu {
			t.Errorf("%s: launching Canonical's images %v, want %v", tt.name, ubuntu, tt.ubuntu)
		}
		for _, st := range doc.Statement {
			for _, r := range st.Resource {
				if contains(st.Action, "ssm:GetParameter") && !strings.HasSuffix(r, "::parameter/aws/service/deeplearning/*") {
					t.Errorf("%s: %s reads parameters %s", tt.name, st.Sid, r)
				}
			}
		}
	}
}

// TestGPUPolicyMatchesServiceReference: the GPU statements pass the same
// check against AWS's Service Authorization Reference as every example's
// policy (TestPoliciesMatchServiceReference), which has no GPU node
// without an AMI to check them on.
func TestGPUPolicyMatchesServiceReference(t *testing.T) {
	spec := loadServiceSpec(t)
	for _, region := range []string{"region_name: us-east-1\n", ""} {
		doc := policyOf(t, "!AWSCluster\nname: exp\n"+region+"factories_num: 1\nfactories_type: g5g.xlarge\norchestrator_type: g5.xlarge\n")
		for _, st := range doc.Statement {
			for _, p := range checkStatement(spec, st) {
				t.Errorf("%s: %s", st.Sid, p)
			}
		}
	}
}
