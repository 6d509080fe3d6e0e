package command

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// TestRunCapacityFailover: EC2 has no capacity for the factories' first
// type in the first zone. The run fails over, as a whole, to the second
// zone and succeeds there on real nodes; the instance the failed attempt
// launched (the orchestrator) is terminated before the second attempt
// launches anything; the log and the report name both attempts; and
// nothing of the run is left.
func TestRunCapacityFailover(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, true, world.Options{BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond,
		Faults: &world.Faults{EC2: &world.EC2Faults{Capacity: []world.CapacityFault{{AZ: "us-east-1a", Type: "t3.micro"}}}}})
	dir := workspace(t, "print('ran in the second zone')\n",
		"!AWSCluster\nname: roomy\nfactories_num: 1\nfactories_type: [t3.micro, t3.small]\norchestrator_type: t3.small\nready_timeout: 3m\nmax_duration: 5m\n")
	report := filepath.Join(t.TempDir(), "report.md")
	code, stdout, stderr := searRun(t, runEnv(w, "8201"), dir, "--report-file", report)
	if code != ExitOK || !strings.Contains(stdout, "ran in the second zone") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"attempt 1 in us-east-1a (orchestrator t3.small, factories t3.micro, on-demand) failed: InsufficientInstanceCapacity for roomy_factory_1",
		"launched 2 instances in us-east-1b",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the log lacks %q:\n%s", want, stdout)
		}
	}

	// The call log: one refusal, then the failed attempt's orchestrator
	// terminated, then the second attempt's two launches, in us-east-1b.
	var order []string
	subnets := map[string]string{}
	for _, i := range w.State().EC2.Instances {
		subnets[i.SubnetID] = i.AvailabilityZone
	}
	for _, c := range w.EC2().Calls() {
		if c.Params["DryRun"] == "true" {
			continue
		}
		switch c.Action {
		case "RunInstances":
			order = append(order, "run "+subnets[c.Params["SubnetId"]]+" "+c.Params["InstanceType"]+" "+c.ErrorCode)
		case "TerminateInstances":
			order = append(order, "terminate")
		}
	}
	if len(order) < 5 || order[2] != "terminate" || !strings.Contains(strings.Join(order[:2], "|"), "run us-east-1a t3.micro InsufficientInstanceCapacity") ||
		!strings.HasPrefix(order[3], "run us-east-1b") || !strings.HasPrefix(order[4], "run us-east-1b") {
		t.Errorf("calls in this order: %q; want two launches in us-east-1a (one refused), a terminate, then the launches in us-east-1b", order)
	}
	for _, i := range w.State().EC2.Instances {
		if i.AvailabilityZone == "us-east-1a" && i.State != "terminated" {
			t.Errorf("%s of the failed attempt is %s", i.ID, i.State)
		}
	}

	md, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []*regexp.Regexp{
		regexp.MustCompile("(?m)^#### Launch attempts$"),
		regexp.MustCompile("(?m)^\\| 1 \\| `us-east-1a` \\| `t3\\.small` \\| `t3\\.micro` \\| on-demand \\| ❌ `InsufficientInstanceCapacity` \\(`roomy_factory_1`\\) \\|$"),
		regexp.MustCompile("(?m)^\\| 2 \\| `us-east-1b` \\| `t3\\.small` \\| `t3\\.micro` \\| on-demand \\| ✓ launched \\|$"),
	} {
		if !row.Match(md) {
			t.Errorf("the report has no line matching %s:\n%s", row, md)
		}
	}
	nothingLeft(t, w, "8201-1", stdout, stderr)
}

// TestRunCapacityExhausted: no capacity for the factories' type anywhere,
// and no alternate: the run fails after one attempt per zone, the error
// says what to list, the report names every attempt, and nothing is left.
func TestRunCapacityExhausted(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond,
		Faults: &world.Faults{EC2: &world.EC2Faults{Capacity: []world.CapacityFault{{Type: "t3.micro"}}}}})
	dir := workspace(t, "", hangingCluster)
	report := filepath.Join(t.TempDir(), "report.md")
	code, stdout, stderr := searRun(t, runEnv(w, "8202"), dir, "--report-file", report)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"InsufficientInstanceCapacity", "after 3 attempts", "subnet_id", "factories_type"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	md, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, az := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		if !regexp.MustCompile("(?m)^\\| [0-9] \\| `" + az + "` \\|.*InsufficientInstanceCapacity").Match(md) {
			t.Errorf("the report has no failed attempt in %s:\n%s", az, md)
		}
	}
	nothingLeft(t, w, "8202-1", stdout, stderr)
}
