package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

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
// cancelled run, not one whose teardown left something behind.
func TestRetryOnDemand(t *testing.T) {
	t.Parallel()
	c := pricedCluster(t, "spot: true\nspot_retry: on-demand\n")
	x := &execution{out: redact.NewWriter(io.Discard, nil)}
	interrupted := fmt.Errorf("job: %w: spot node exp_orchestrator (rank 0) was interrupted by EC2", run.ErrSpotInterrupted)
	retry := x.retryOnDemand(context.Background(), c, &run.Result{}, interrupted)
	if retry == nil || retry.Spot || retry.SpotRetry != "" || !c.Spot || c.SpotRetry == "" {
		t.Fatalf("retry %+v of %+v: want a copy on demand, without spot_retry, the original untouched", retry, c)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for name, tc := range map[string]struct {
		ctx context.Context
		err error
	}{
		"another failure": {context.Background(), run.ErrJobFailed},
		"cancelled":       {cancelled, interrupted},
		"leftovers":       {context.Background(), errors.Join(interrupted, leftover{})},
		"no spot_retry":   {context.Background(), interrupted},
	} {
		cl := c
		if name == "no spot_retry" {
			cl = pricedCluster(t, "spot: true\n")
		}
		if got := x.retryOnDemand(tc.ctx, cl, &run.Result{}, tc.err); got != nil {
			t.Errorf("%s: retried", name)
		}
	}
}
