package run

import (
	"context"
	"fmt"
	"time"

	"github.com/sear-ci/sear/internal/timebudget"
)

// bounded runs a step within its phase's deadline from the run's schedule
// (package timebudget): the one place a step's time is bounded, so the
// nodes' lifetime, which is the budget's sum, outlasts every step. The
// first bounded step, launch, starts the schedule, and with it the nodes'
// lifetime. A step that runs out says which bound it was and what to raise.
func bounded(p timebudget.Phase, run func(context.Context, *state) error) func(context.Context, *state) error {
	return func(ctx context.Context, st *state) error {
		if st.sched == nil {
			st.fillBudget()
			st.sched = st.budget.Start(time.Now)
			// The tag and the nodes' shutdown use the caller's clock, at
			// the same instant the schedule starts.
			st.expiresAt = st.opts.Now().Add(st.budget.Lifetime())
		}
		exceeded := st.budget.Exceeded(p)
		bctx, cancel := context.WithDeadlineCause(ctx, st.sched.Begin(p), exceeded)
		defer cancel()
		err := run(bctx, st)
		st.sched.End(p)
		if err != nil && ctx.Err() == nil && bctx.Err() != nil {
			return fmt.Errorf("%w: %w", exceeded, err)
		}
		return err
	}
}

// fillBudget sets the cluster's budget on a state made without Run (tests
// that run single steps), so that no step sees a zero budget.
func (st *state) fillBudget() {
	if st.budget == (timebudget.Budget{}) {
		st.budget = st.opts.Cluster.TimeBudget()
	}
}

// tearingDown bounds a cleanup by the schedule's teardown deadline, the
// first cleanup starting it; the pipeline's CleanupTimeout (the same
// bound) covers a run that failed before launch.
func tearingDown(cleanup func(context.Context, *state) error) func(context.Context, *state) error {
	return func(ctx context.Context, st *state) error {
		if st.sched == nil {
			return cleanup(ctx, st)
		}
		if st.teardownBy.IsZero() {
			st.teardownBy = st.sched.Begin(timebudget.Teardown)
		}
		tctx, cancel := context.WithDeadlineCause(ctx, st.teardownBy, st.budget.Exceeded(timebudget.Teardown))
		defer cancel()
		err := cleanup(tctx, st)
		if err != nil && ctx.Err() == nil && tctx.Err() != nil {
			return fmt.Errorf("%w: %w", st.budget.Exceeded(timebudget.Teardown), err)
		}
		return err
	}
}
