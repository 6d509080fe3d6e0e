package plan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/plan"
)

// serviceSpec is AWS's Service Authorization Reference as cfn-lint ships
// it (cfnlint/data/AdditionalSpecs/Policies.json): per service, each
// action's resource types, and each resource type's ARN formats and
// condition keys. It is the only offline copy of that reference on the
// project's machines; IAM's own validators (Access Analyzer's
// ValidatePolicy, SimulateCustomPolicy) are API calls.
type serviceSpec map[string]struct {
	Actions   map[string]struct{ Resources []string }
	Resources map[string]struct {
		ARNFormats    []string
		ConditionKeys []string
	}
}

var (
	specOnce sync.Once
	spec     serviceSpec
	specSkip string // why there is no spec
)

// loadServiceSpec finds cfn-lint's copy, from SEAR_IAM_SPEC or the
// installed cfnlint package, and fails the test when there is none. It
// reads the large file once for all tests.
func loadServiceSpec(t *testing.T) serviceSpec {
	t.Helper()
	specOnce.Do(func() { spec, specSkip = readServiceSpec() })
	if specSkip != "" {
		// Not a skip: without the oracle the policy's shape goes
		// unchecked, and a skipped test in CI proves nothing. cfn-lint
		// is on the machines this project builds on.
		t.Fatal(specSkip)
	}
	return spec
}

func readServiceSpec() (serviceSpec, string) {
	path := os.Getenv("SEAR_IAM_SPEC")
	if path == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "python3", "-c",
			`import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("cfnlint").origin))`).Output()
		if err != nil {
			return nil, "no cfn-lint (pip install cfn-lint), whose copy of the Service Authorization Reference this test reads; or set SEAR_IAM_SPEC"
		}
		path = filepath.Join(strings.TrimSpace(string(out)), "data", "AdditionalSpecs", "Policies.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Sprintf("no Service Authorization Reference: %v", err)
	}
	var s serviceSpec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Sprintf("%s is not the reference cfn-lint ships: %v", path, err)
	}
	return s, ""
}

// resourceTypes are the resource types of service whose ARN format arn
// matches. The account may be empty: AWS's public SSM parameters belong to
// no account (arn:aws:ssm:REGION::parameter/aws/service/…).
func (s serviceSpec) resourceTypes(service, arn string) []string {
	var out []string
	for name, rt := range s[service].Resources {
		for _, f := range rt.ARNFormats {
			re := regexp.QuoteMeta(f)
			re = strings.ReplaceAll(re, `\.\*`, `.*`)
			re = strings.NewReplacer(`\$\{Partition\}`, `aws[a-z-]*`, `\$\{Region\}`, `(\*|[a-z0-9-]+)`, `\$\{Account\}`, `(\*|[0-9]{12}|`+regexp.QuoteMeta(plan.AccountPlaceholder)+`|)`).Replace(re)
			if regexp.MustCompile("^" + re + "$").MatchString(arn) {
				out = append(out, name)
			}
		}
	}
	return out
}

// TestPoliciesMatchServiceReference checks every permission policy sear
// plan makes against the reference: each action exists; each resource is
// an ARN of a resource type the action takes; and each service condition
// key (ec2:InstanceType, ec2:Owner, ...) is one that every resource type of
// its statement has. A key a resource type lacks is absent from that
// resource's request context, which fails StringEquals: such a statement
// would deny sear's own launches.
func TestPoliciesMatchServiceReference(t *testing.T) {
	spec := loadServiceSpec(t)
	for _, f := range awsClusters(t) {
		for _, in := range []plan.Input{{}, {NodeRole: "ml/node-role"}} {
			for _, st := range policyFor(t, f, in).Permissions.Statement {
				for _, p := range checkStatement(spec, st) {
					t.Errorf("%s: %s: %s", f, st.Sid, p)
				}
			}
		}
	}
}

// unlisted are resource types the reference does not list for an action
// and the policy names all the same, with why.
var unlisted = map[string]string{
	// sear launches spot nodes with RunInstances, tagging the spot request
	// in the same call; the EC2 User Guide's spot examples authorise
	// RunInstances on spot-instances-request/* with aws:RequestTag, and an
	// Allow on a resource IAM never asks about is inert.
	"ec2:RunInstances spot-instances-request": "the EC2 User Guide's spot examples",
}

// TestServiceReferenceCheckCatchesMistakes keeps the check above honest:
// it finds a misspelt action, a resource the action does not take and an
// instance-only key on a statement about volumes.
func TestServiceReferenceCheckCatchesMistakes(t *testing.T) {
	spec := loadServiceSpec(t)
	for _, st := range []plan.Statement{
		{Action: []string{"ec2:RunInstancez"}, Resource: []string{"arn:aws:ec2:eu-west-1:*:instance/*"}},
		{Action: []string{"ec2:RunInstances"}, Resource: []string{"arn:aws:ec2:eu-west-1:*:vpc/*"}},
		{Action: []string{"ec2:RunInstances"}, Resource: []string{"arn:aws:ec2:eu-west-1:*:volume/*"},
			Condition: map[string]any{"StringEquals": map[string]any{"ec2:InstanceType": "t3.large"}}},
		{Action: []string{"iam:PassRole"}, Resource: []string{"arn:aws:iam::<ACCOUNT_ID>:instance-profile/x"}},
	} {
		if len(checkStatement(spec, st)) == 0 {
			t.Errorf("no problem found in %+v", st)
		}
	}
}

func checkStatement(spec serviceSpec, st plan.Statement) []string {
	var problems []string
	takes := map[string]bool{} // the resource types the statement's actions take
	for _, action := range st.Action {
		service, name, _ := strings.Cut(action, ":")
		found := false
		for a, def := range spec[service].Actions {
			if strings.EqualFold(a, name) {
				found = true
				for _, rt := range def.Resources {
					takes[service+" "+rt] = true
				}
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s is not an action of %s", action, service))
		}
		for k := range unlisted {
			if a, rt, _ := strings.Cut(k, " "); a == action {
				takes[service+" "+rt] = true
			}
		}
	}
	var types []string // the resource types of the statement's resources
	for _, r := range st.Resource {
		if r == "*" {
			continue
		}
		service := strings.SplitN(r, ":", 4)[2]
		rts := spec.resourceTypes(service, r)
		ok := false
		for _, rt := range rts {
			ok = ok || takes[service+" "+rt]
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s (resource type %v) is a resource of none of %v", r, rts, st.Action))
		}
		types = append(types, rts...)
	}
	for _, block := range st.Condition {
		for key := range block.(map[string]any) {
			service, _, _ := strings.Cut(key, ":")
			if service == "aws" {
				continue // global keys; aws:RequestTag and aws:ResourceTag are on every EC2 resource type
			}
			known := false
			for _, rt := range spec[service].Resources {
				known = known || contains(rt.ConditionKeys, key)
			}
			if !known {
				continue // a key of the action (ec2:CreateAction, iam:PassedToService), not of a resource
			}
			for _, rt := range types {
				if !contains(spec[service].Resources[rt].ConditionKeys, key) {
					problems = append(problems, fmt.Sprintf("condition key %s does not exist for resource type %s, so IAM would deny it", key, rt))
				}
			}
		}
	}
	return problems
}
