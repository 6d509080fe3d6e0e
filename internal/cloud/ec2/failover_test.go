package ec2

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// TestFailoverToNextZone: no capacity for the factories' type in the
// first zone: the whole cluster launches in the second, the instances of
// the failed attempt are terminated, and the nodes carry both attempts.
func TestFailoverToNextZone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{Capacity: []fakeec2.CapacityFault{{AZ: "us-east-1a", Type: "t3.micro"}}})
	p := f.provider()
	nodes := launch(t, p, newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	want := []cloud.LaunchAttempt{
		{Zone: "us-east-1a", OrchestratorType: "t3.small", FactoriesType: "t3.micro", Market: "on-demand", Code: "InsufficientInstanceCapacity"},
		{Zone: "us-east-1b", OrchestratorType: "t3.small", FactoriesType: "t3.micro", Market: "on-demand"},
	}
	got := nodes[0].Attempts
	if len(got) != len(want) {
		t.Fatalf("attempts %+v, want %+v", got, want)
	}
	for i := range want {
		g := got[i]
		g.Subnet, g.Node = "", ""
		if g != want[i] {
			t.Errorf("attempt %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
	byID := map[string]fakeec2.InstanceState{}
	for _, inst := range f.srv.State().Instances {
		byID[inst.ID] = inst
	}
	for _, n := range nodes {
		if inst := byID[n.ID]; inst.AvailabilityZone != "us-east-1b" {
			t.Errorf("%s launched in %s, want us-east-1b", n.Name, inst.AvailabilityZone)
		}
	}
	for _, inst := range live(f.srv.State()) {
		if inst.AvailabilityZone == "us-east-1a" && inst.State != "shutting-down" {
			t.Errorf("%s of the failed attempt is %s", inst.ID, inst.State)
		}
	}
	if !strings.Contains(f.log.String(), "attempt 1 in us-east-1a (orchestrator t3.small, factories t3.micro, on-demand) failed: InsufficientInstanceCapacity") {
		t.Errorf("the log does not tell of the failed attempt:\n%s", f.log)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestFailoverToAlternateType: the first factories type has no capacity
// in any zone: sear tries every zone, then the alternate, and changes only
// the role EC2 refused.
func TestFailoverToAlternateType(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{Capacity: []fakeec2.CapacityFault{{Type: "t3.micro"}}})
	p := f.provider()
	c := parseCluster(t, clusterYAML("factories_type: [t3.micro, t3.medium]", "orchestrator_type: [t3.small, t3.large]"))
	nodes := launch(t, p, newSpec(t, c, "run-1"))
	at := nodes[0].Attempts
	if len(at) != 4 {
		t.Fatalf("%d attempts, want 4 (3 zones with t3.micro, then t3.medium): %+v", len(at), at)
	}
	last := at[3]
	if last.Zone != "us-east-1a" || last.OrchestratorType != "t3.small" || last.FactoriesType != "t3.medium" || last.Code != "" {
		t.Errorf("last attempt %+v, want us-east-1a with t3.small and t3.medium", last)
	}
	for _, n := range nodes[1:] {
		if n.Type != "t3.medium" {
			t.Errorf("%s is %s, want t3.medium", n.Name, n.Type)
		}
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestFailoverExhausted: no capacity anywhere: the launch fails with every
// attempt in a *LaunchError, each zone tried once, and nothing is left.
func TestFailoverExhausted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{Capacity: []fakeec2.CapacityFault{{Type: "t3.micro", Code: "Unsupported"}}})
	p := f.provider()
	_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	var le *LaunchError
	if !errors.As(err, &le) {
		t.Fatalf("want a *LaunchError, got %v", err)
	}
	if len(le.Attempts) != 3 || le.Attempts[2].Code != "Unsupported" {
		t.Errorf("attempts %+v, want one per zone, each Unsupported", le.Attempts)
	}
	for _, w := range []string{"after 3 attempts", "subnet_id", "factories_type"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestFailoverNotForQuota: a quota is the region's: no other zone is
// tried.
func TestFailoverNotForQuota(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.setHook(func(w http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") == "RunInstances" && form.Get("DryRun") != "true" && form.Get("InstanceType") == "t3.micro" {
			ec2Error(w, 400, "VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 4 allows for the instance bucket that the specified instance type belongs to.")
			return true
		}
		return false
	})
	p := f.provider()
	_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	var le *LaunchError
	if !errors.As(err, &le) || len(le.Attempts) != 1 || le.Attempts[0].Code != "VcpuLimitExceeded" {
		t.Fatalf("want one attempt ended by VcpuLimitExceeded, got %v", err)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestSubnetListPreflight: subnet_id's list must be of one VPC, and every
// listed type offered in one of its zones.
func TestSubnetListPreflight(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, err := f.srv.SeedSubnet("us-east-1a", "172.31.200.0/24")
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.srv.SeedSubnet("us-east-1c", "172.31.201.0/24")
	if err != nil {
		t.Fatal(err)
	}
	p := f.provider()
	err = p.Preflight(context.Background(), newSpec(t, parseCluster(t, clusterYAML("subnet_id: ["+c+", "+a+"]", "factories_type: [t3.micro, g5.xlarge]")), "run-1"))
	if err != nil {
		t.Fatalf("g5.xlarge is offered in us-east-1a, one of the subnets' zones: %v", err)
	}
	err = p.Preflight(context.Background(), newSpec(t, parseCluster(t, clusterYAML("subnet_id: ["+c+"]", "factories_type: [t3.micro, g5.xlarge]")), "run-1"))
	if err == nil || !strings.Contains(err.Error(), `factories_type "g5.xlarge" is not offered in us-east-1c`) {
		t.Errorf("an alternate offered in no subnet's zone: %v", err)
	}
	err = p.Preflight(context.Background(), newSpec(t, parseCluster(t, clusterYAML("subnet_id: ["+a+", subnet-0000000000000dead]")), "run-1"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing subnet in the list: %v", err)
	}
	assertNothingCreated(t, f)
}
