package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/redact"
	"github.com/sear-ci/sear/internal/run"
)

// leftover is a teardown that left something, as a provider reports it.
type leftover struct{}

func (leftover) Error() string { return "security group sg-1 left" }
func (leftover) Leftovers() []cloud.Leftover {
	return []cloud.Leftover{{Resource: "security group sg-1"}}
}
func (leftover) Unwrap() error { return nil }

// TestRetryOnDemand: spot_retry retries, on demand and only once, a job a
// spot interruption ended, and nothing else: not another failure, not a
// cancelled run, not one whose teardown left something behind, not one a
// limit stopped (max_duration, the budget) while a notice was out, and
// not when the first cluster spent what the budget allows.
func TestRetryOnDemand(t *testing.T) {
	t.Parallel()
	c := pricedCluster(t, "spot: true\nspot_retry: on-demand\n")
	x := &execution{out: redact.NewWriter(io.Discard, nil), loaded: &loadedFiles{cluster: c}}
	interrupted := fmt.Errorf("job: %w: spot node exp_orchestrator (rank 0) was interrupted by EC2", run.ErrSpotInterrupted)
	retry := x.retryOnDemand(context.Background(), c, &run.Result{}, interrupted)
	if retry == nil || retry.Spot || retry.SpotRetry != "" || !c.Spot || c.SpotRetry == "" {
		t.Fatalf("retry %+v of %+v: want a copy on demand, without spot_retry, the original untouched", retry, c)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for name, tc := range map[string]struct {
		ctx context.Context
		res run.Result
		err error
	}{
		"another failure":  {context.Background(), run.Result{}, run.ErrJobFailed},
		"cancelled":        {cancelled, run.Result{}, interrupted},
		"leftovers":        {context.Background(), run.Result{}, errors.Join(interrupted, leftover{})},
		"no spot_retry":    {context.Background(), run.Result{}, interrupted},
		"over budget":      {context.Background(), run.Result{OverBudget: true}, fmt.Errorf("%w: %w", run.ErrSpotInterrupted, run.ErrOverBudget)},
		"at max_duration":  {context.Background(), run.Result{TimedOut: true}, fmt.Errorf("%w: %w", run.ErrSpotInterrupted, run.ErrTimedOut)},
		"the budget spent": {context.Background(), run.Result{Duration: 100 * time.Hour}, interrupted},
	} {
		cl := c
		switch name {
		case "no spot_retry":
			cl = pricedCluster(t, "spot: true\n")
		case "the budget spent":
			cl = pricedCluster(t, "spot: true\nspot_retry: on-demand\nmax_cost: 10\nmax_cost_mode: expected\n")
		}
		x := &execution{out: redact.NewWriter(io.Discard, nil), loaded: &loadedFiles{cluster: cl}}
		if got := x.retryOnDemand(tc.ctx, cl, &tc.res, tc.err); got != nil {
			t.Errorf("%s: retried", name)
		}
	}
}
