package cost

import (
	"fmt"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/config"
)

// Limit is a budget and where it was set, for the message that refuses it.
type Limit struct {
	USD float64
	// From names where it was set: "max_cost" (the cluster file) or "the
	// max-cost input".
	From string
}

// ClusterLimit is the budget of c: override (the action's max-cost input)
// when it is set, else the cluster file's max_cost; USD 0 for none.
func ClusterLimit(c *config.Cluster, override float64) Limit {
	if override > 0 {
		return Limit{USD: override, From: "the max-cost input"}
	}
	return Limit{USD: c.MaxCost, From: "max_cost"}
}

// Check refuses a cluster whose worst case is over its limit, or cannot be
// bounded because a node has no price: a guard that let an unpriced node
// through would guard nothing. The error is at max_cost in the cluster
// file (or on the file, for the input), and says both numbers, what costs
// the most and what to change. Nothing is checked without a limit.
func Check(c *config.Cluster, p Projection, limit Limit) error {
	if limit.USD <= 0 || p.Local {
		return nil
	}
	at := c.MaxCostError
	if limit.From != "max_cost" {
		// The limit is the input's: the file's max_cost, if any, is not
		// what to change.
		at = func(msg string) *config.Error { return &config.Error{File: c.File, Msg: msg} }
	}
	if !p.Complete() {
		covered := "the regions it covers"
		if p.Table == nil {
			covered = "its regions"
		}
		return at(fmt.Sprintf("%s %s cannot be checked: sear's price table has no price for %s in %s "+
			"(see internal/report/prices.json for %s); choose an instance type it prices, run in a region it covers, or remove %s. Nothing was launched",
			limit.From, USD(limit.USD), strings.Join(p.Unknown, ", "), orUnknown(p.Region), covered, limit.From))
	}
	if c.GuardsExpected() {
		return checkExpected(c, p, limit, at)
	}
	if p.WorstUSD <= limit.USD {
		return nil
	}
	d := p.Driver()
	bounds, fix := c.TimeBudget().Sum(config.FormatDuration), "Lower max_duration or factories_num, or choose a smaller instance type"
	if c.SpotRetry != "" {
		bounds, fix = "2 × ("+bounds+"), as spot_retry may run the job again on a second cluster", fix+", or drop spot_retry"
	}
	return at(fmt.Sprintf("the worst case of this cluster is %s, over %s %s: %d node(s) for up to %s each "+
		"(%s) at %s an hour in %s (%s). "+
		"The biggest cost is the %s, %s of it. %s, "+
		"or raise %s to at least %s. Nothing was launched",
		USD(p.WorstUSD), limit.From, USD(limit.USD), c.Nodes(), config.FormatDuration(p.Worst),
		bounds, USD(p.HourlyUSD), p.Region, p.Source(),
		d.Describe(), USD(cents(d.WorstUSD)), fix, limit.From, USD(p.WorstUSD)))
}

// checkExpected is Check under max_cost_mode: expected: the run is
// stopped when its cost reaches the limit, so what is refused before
// launch is a cluster whose expected case, the job running its whole
// max_duration, already exceeds it: it would be stopped every time.
func checkExpected(c *config.Cluster, p Projection, limit Limit, at func(string) *config.Error) error {
	if p.ExpectedUSD <= limit.USD {
		// The expected case prices spot nodes at their spot price, the
		// stop at the on-demand price with the collect and teardown
		// bounds held back: a budget the first holds can still stop the
		// job before its max_duration and the time before it are up.
		stop, ok := StopAfter(c, p, limit)
		if need := c.MaxDuration + expectedOverhead(c); ok && stop < need {
			return at(fmt.Sprintf("%s %s (max_cost_mode: expected) would stop the job %s after the launch: %s at the on-demand %s an hour, "+
				"less %s held back for collecting the outputs and tearing down; the job needs %s (max_duration and the %s sear expects before it). "+
				"Lower max_duration, or raise %s to at least %s. Nothing was launched",
				limit.From, USD(limit.USD), config.FormatDuration(max(stop, 0)), config.FormatDuration(stop+StopReserve(c)), USD(p.HourlyUSD),
				config.FormatDuration(StopReserve(c)), config.FormatDuration(need), config.FormatDuration(expectedOverhead(c)),
				limit.From, USD(cents(p.HourlyUSD*(need+StopReserve(c)).Hours()))))
		}
		return nil
	}
	atMost := ""
	if p.ExpectedUpperBound {
		atMost = "at most "
	}
	return at(fmt.Sprintf("the expected case of this cluster is %s%s, over %s %s (max_cost_mode: expected): %d node(s) for %s each "+
		"(max_duration and %s around it) at %s an hour in %s (%s), so the run would be stopped at the budget before its job could end. "+
		"Lower max_duration or factories_num, or choose a smaller instance type, or raise %s to at least %s. Nothing was launched",
		atMost, USD(p.ExpectedUSD), limit.From, USD(limit.USD), c.Nodes(), config.FormatDuration(p.Expected),
		config.FormatDuration(p.Expected-c.MaxDuration), USD(p.HourlyUSD), p.Region, p.Source(), limit.From, USD(p.ExpectedUSD)))
}

// StopAfter is how long after the launch a run guarded by
// max_cost_mode: expected may go on before its job is stopped: until the
// cluster's cost so far (every node at its on-demand price, HourlyUSD),
// with what collecting the outputs and tearing down may add at most
// (StopReserve), reaches limit. Zero or less stops the job at once; the
// bool is false when nothing is to be stopped (no limit, the worst-case
// mode, no price).
func StopAfter(c *config.Cluster, p Projection, limit Limit) (time.Duration, bool) {
	if !c.GuardsExpected() || limit.USD <= 0 || p.Local || p.HourlyUSD <= 0 {
		return 0, false
	}
	// Truncated to the second: sooner, never later, than the limit.
	return (time.Duration(limit.USD/p.HourlyUSD*float64(time.Hour)) - StopReserve(c)).Truncate(time.Second), true
}

// StopReserve is the time a stopped run still needs after its job, held
// back from the budget: the bounds of collecting the outputs and tearing
// down.
func StopReserve(c *config.Cluster) time.Duration {
	b := c.TimeBudget()
	return b.Collect + b.Teardown
}
