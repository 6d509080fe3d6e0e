package run

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud/local"
)

// TestSpendLimitStopsTheJob: with a spend limit, a job that would run on
// is stopped when the cluster's cost so far reaches it, counted from the
// launch: the run says so (ErrOverBudget, OverBudget, the cost so far),
// tears down as after any stop, and does not wait for max_duration.
func TestSpendLimitStopsTheJob(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: spend\nmax_duration: 1h\n")
	// $1 a second: the 3s allowed are $3.
	spend := &SpendLimit{After: 3 * time.Second, HourlyUSD: 3600, LimitUSD: 5}
	start := time.Now()
	res, err := Run(context.Background(), Options{Runnable: r, Cluster: c, Workspace: t.TempDir(), OutputDir: t.TempDir(),
		Provider: local.New(), Command: "sleep 120", Spend: spend})
	took := time.Since(start)
	if !errors.Is(err, ErrOverBudget) {
		t.Fatalf("err = %v, want ErrOverBudget", err)
	}
	if !res.OverBudget || res.TimedOut {
		t.Errorf("OverBudget %v, TimedOut %v", res.OverBudget, res.TimedOut)
	}
	// The job stopped 3s after the launch began: at least $3, and no
	// more than the whole run's seconds.
	if res.SpentUSD < 3 || res.SpentUSD > took.Seconds() {
		t.Errorf("spent $%.2f in a run of %s, want about $3", res.SpentUSD, took)
	}
	if took > 60*time.Second {
		t.Errorf("the run took %s: the job was not stopped at the budget", took)
	}
	if ph, ok := phase(res, "teardown"); ok && ph.Err != nil {
		t.Errorf("teardown after the stop: %v", ph.Err)
	}
}

// TestSpendLimitLeavesAJobInsideIt: a job that ends before the limit is
// untouched.
func TestSpendLimitLeavesAJobInsideIt(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: inside\n")
	res, err := Run(context.Background(), Options{Runnable: r, Cluster: c, Workspace: t.TempDir(), OutputDir: t.TempDir(),
		Provider: local.New(), Command: "true", Spend: &SpendLimit{After: time.Hour, HourlyUSD: 1, LimitUSD: 2}})
	if err != nil || res.OverBudget || res.ExitStatus != 0 {
		t.Fatalf("err %v, OverBudget %v, exit %d", err, res.OverBudget, res.ExitStatus)
	}
}
