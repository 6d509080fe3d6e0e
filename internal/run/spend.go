package run

import (
	"context"
	"errors"
	"time"
)

// ErrOverBudget is returned when the job was stopped because the
// cluster's cost so far reached the budget (max_cost_mode: expected).
var ErrOverBudget = errors.New("the job was stopped at the budget")

// SpendLimit stops the job when the cluster has cost what it may. Cost is
// counted from the first launch call, as EC2 bills from the moment an
// instance starts, at HourlyUSD for the whole cluster.
type SpendLimit struct {
	// After is how long after the first launch call the job may run; the
	// caller (package cost) has taken off what collecting the outputs and
	// tearing down may add, so the whole run stays within LimitUSD.
	After     time.Duration
	HourlyUSD float64
	LimitUSD  float64
}

// spendDeadline is when the job must stop for the budget; false without
// a limit or before the launch began.
func (st *state) spendDeadline() (time.Time, bool) {
	if st.opts.Spend == nil || st.sched == nil {
		return time.Time{}, false
	}
	return st.sched.Started().Add(st.opts.Spend.After), true
}

// withSpendLimit bounds ctx by the budget's deadline, with ErrOverBudget
// as its cause.
func (st *state) withSpendLimit(ctx context.Context) (context.Context, context.CancelFunc) {
	at, ok := st.spendDeadline()
	if !ok {
		return ctx, func() {}
	}
	return context.WithDeadlineCause(ctx, at, ErrOverBudget)
}

// spentBy is what the cluster has cost from the first launch call to at.
func (st *state) spentBy(at time.Time) float64 {
	if st.opts.Spend == nil || st.sched == nil {
		return 0
	}
	return at.Sub(st.sched.Started()).Hours() * st.opts.Spend.HourlyUSD
}
