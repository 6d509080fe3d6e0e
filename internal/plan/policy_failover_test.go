package plan_test

import (
	"testing"

	"github.com/sear-ci/sear/internal/config"
)

const failoverCluster = "!AWSCluster\nname: exp\nregion_name: us-east-1\nfactories_num: 2\n" +
	"factories_type: [g5.xlarge, g4dn.xlarge]\norchestrator_type: [t3.large, m5.large]\n" +
	"factory_ami: ami-0a1b2c3d4e5f60001\norchestrator_ami: ami-0a1b2c3d4e5f60001\n" +
	"subnet_id: [subnet-0aaa0aaa, subnet-0bbb0bbb]\n"

// TestFailoverLaunchesAreAllowed: the capacity failover may launch any
// listed type into any listed subnet, so the policy must allow each of
// them, and still nothing else: a type or subnet left out would be denied
// exactly when AWS has no capacity for the first choice.
func TestFailoverLaunchesAreAllowed(t *testing.T) {
	c, err := config.ParseCluster("cluster.yaml", []byte(failoverCluster))
	if err != nil {
		t.Fatal(err)
	}
	doc := policyOf(t, failoverCluster)
	for _, itype := range []string{"t3.large", "m5.large", "g5.xlarge", "g4dn.xlarge"} {
		for _, subnet := range []string{"subnet-0aaa0aaa", "subnet-0bbb0bbb"} {
			l := searLaunch(c, repo, false)
			l.itype, l.subnet = itype, subnet
			if r := denied(t, doc, l); r != "" {
				t.Errorf("a failover launch of %s into %s is denied on %s", itype, subnet, r)
			}
		}
	}
	for _, bad := range []struct{ itype, subnet string }{{"p4d.24xlarge", "subnet-0aaa0aaa"}, {"g5.xlarge", "subnet-0ccc0ccc"}} {
		l := searLaunch(c, repo, true)
		l.itype, l.subnet = bad.itype, bad.subnet
		if denied(t, doc, l) == "" {
			t.Errorf("a launch of %s into %s, which the cluster file does not list, is allowed", bad.itype, bad.subnet)
		}
	}
}
