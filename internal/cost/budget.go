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
	if p.WorstUSD <= limit.USD {
		return nil
	}
	d := p.Driver()
	return at(fmt.Sprintf("the worst case of this cluster is %s, over %s %s: %d node(s) for up to %s each "+
		"(%s) at %s an hour in %s (%s). "+
		"The biggest cost is the %s, %s of it. Lower max_duration or factories_num, or choose a smaller instance type, "+
		"or raise %s to at least %s. Nothing was launched",
		USD(p.WorstUSD), limit.From, USD(limit.USD), c.Nodes(), duration(p.Worst),
		c.TimeBudget().Sum(duration), USD(p.HourlyUSD), p.Region, p.Source(),
		d.Describe(), USD(cents(d.WorstUSD)), limit.From, USD(p.WorstUSD)))
}

// duration writes d the way cluster files do ("10m", "6h25m").
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
