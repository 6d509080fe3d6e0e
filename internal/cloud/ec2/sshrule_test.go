package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// namedGroup makes a group in the default VPC with the given inbound rules,
// as a user would before naming it in security_group.
func namedGroup(t *testing.T, f *fixture, perms ...types.IpPermission) string {
	t.Helper()
	c := awsec2.NewFromConfig(f.cfg())
	ctx := context.Background()
	vpcs, err := c.DescribeVpcs(ctx, &awsec2.DescribeVpcsInput{})
	if err != nil || len(vpcs.Vpcs) == 0 {
		t.Fatalf("DescribeVpcs: %v", err)
	}
	out, err := c.CreateSecurityGroup(ctx, &awsec2.CreateSecurityGroupInput{GroupName: aws.String("ml-" + t.Name()[strings.LastIndex(t.Name(), "/")+1:]),
		Description: aws.String("the team's group"), VpcId: vpcs.Vpcs[0].VpcId})
	if err != nil {
		t.Fatal(err)
	}
	if len(perms) > 0 {
		if _, err := c.AuthorizeSecurityGroupIngress(ctx, &awsec2.AuthorizeSecurityGroupIngressInput{GroupId: out.GroupId, IpPermissions: perms}); err != nil {
			t.Fatal(err)
		}
	}
	return aws.ToString(out.GroupId)
}

func tcp(from, to int32, cidr string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(from), ToPort: aws.Int32(to),
		IpRanges: []types.IpRange{{CidrIp: aws.String(cidr)}}}
}

// TestNamedGroupMustAdmitSSH: a security_group is used only if one of its
// rules admits tcp port 22 from the runner's address (or the whole
// ssh_ingress_cidr); otherwise the launch is refused before anything is
// created, naming the group, the rule and the command that adds it.
func TestNamedGroupMustAdmitSSH(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		perms func(f *fixture) []types.IpPermission
		extra []string
		ok    bool
	}{
		{name: "runner's /32", perms: func(*fixture) []types.IpPermission { return []types.IpPermission{tcp(22, 22, runnerIP+"/32")} }, ok: true},
		{name: "anywhere", perms: func(*fixture) []types.IpPermission { return []types.IpPermission{tcp(22, 22, "0.0.0.0/0")} }, ok: true},
		{name: "a port range with 22", perms: func(*fixture) []types.IpPermission { return []types.IpPermission{tcp(0, 1024, "203.0.113.0/24")} }, ok: true},
		{name: "all traffic", perms: func(*fixture) []types.IpPermission {
			return []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24")}}}}
		}, ok: true},
		{name: "no rules", perms: func(*fixture) []types.IpPermission { return nil }},
		{name: "another address", perms: func(*fixture) []types.IpPermission { return []types.IpPermission{tcp(22, 22, "198.51.100.7/32")} }},
		{name: "another port", perms: func(*fixture) []types.IpPermission { return []types.IpPermission{tcp(2222, 2222, "0.0.0.0/0")} }},
		{name: "udp", perms: func(*fixture) []types.IpPermission {
			return []types.IpPermission{{IpProtocol: aws.String("udp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
		}},
		{name: "another group", perms: func(f *fixture) []types.IpPermission {
			other := namedGroup(t, f)
			return []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(other)}}}}
		}},
		{name: "narrower than ssh_ingress_cidr", extra: []string{"ssh_ingress_cidr: 203.0.113.0/24"},
			perms: func(*fixture) []types.IpPermission { return []types.IpPermission{tcp(22, 22, runnerIP+"/32")} }},
		{name: "covering ssh_ingress_cidr", extra: []string{"ssh_ingress_cidr: 203.0.113.0/24"},
			perms: func(*fixture) []types.IpPermission { return []types.IpPermission{tcp(22, 22, "203.0.0.0/16")} }, ok: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			group := namedGroup(t, f, tt.perms(f)...)
			p := f.provider()
			spec := newSpec(t, parseCluster(t, clusterYAML(append(tt.extra, "security_group: "+group)...)), "run-1")
			nodes, err := p.Launch(context.Background(), spec)
			if tt.ok {
				if err != nil {
					t.Fatalf("Launch: %v", err)
				}
				if len(nodes) != 5 {
					t.Errorf("%d nodes", len(nodes))
				}
				teardown(t, p)
				assertClean(t, f)
				return
			}
			if err == nil {
				teardown(t, p)
				t.Fatal("Launch succeeded in a group that does not admit SSH")
			}
			src := runnerIP + "/32"
			if len(tt.extra) > 0 {
				src = "203.0.113.0/24"
			}
			for _, w := range []string{group, "tcp port 22 from " + src,
				"aws ec2 authorize-security-group-ingress --region us-east-1 --group-id " + group + " --protocol tcp --port 22 --cidr " + src} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			// Refused before the launches' DryRuns: nothing was asked.
			if n := len(calls(f, "RunInstances", false)) + len(calls(f, "RunInstances", true)); n != 0 {
				t.Errorf("%d RunInstances calls in a group that does not admit SSH", n)
			}
		})
	}
}

// TestNamedGroupWithPrivateIP: with use_private_ip and no
// ssh_ingress_cidr, sear connects from inside the VPC at an address it
// does not know, so the group is not refused (and the log says why).
func TestNamedGroupWithPrivateIP(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	group := namedGroup(t, f)
	p := f.provider()
	launch(t, p, newSpec(t, parseCluster(t, clusterYAML("security_group: "+group, "use_private_ip: true")), "run-1"))
	if !strings.Contains(f.log.String(), "not checked for an SSH rule") {
		t.Errorf("the log does not say the group went unchecked:\n%s", f.log.String())
	}
	teardown(t, p)
	assertClean(t, f)
}
