// Package cost projects what a cluster may cost before anything is
// launched: the worst case, which the budget guard (max_cost) holds against
// its limit, and an expected case, with its assumption said. Both count the
// instances alone, at the prices of package report's table for the
// cluster's region (report.PricesIn): EBS volumes, data transfer and taxes
// are not counted, and the plan says so.
//
// The worst case is every node billed, at its on-demand price, for the
// cluster's whole config.Cluster.Lifetime: the sum of the run's time budget
// (package timebudget: ready_timeout, max_duration and sear's bounds for the
// other phases). That is the nodes' own shutdown deadline (the dead-man's
// switch ends them then whatever became of the runner), so no node of a
// run is billed longer. Spot nodes count at the on-demand price too: sear
// asks for spot without a maximum price (cloud/ec2's launch sets no
// SpotOptions.MaxPrice), so a node pays the current Spot price (EC2 API
// Reference, SpotMarketOptions: "If you do not specify this parameter,
// you will pay the current Spot price"), which is at most the on-demand
// price, the default maximum (EC2 User Guide, "How Spot Instances work").
package cost

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/report"
)

// ExpectedOverhead is the nodes' time around the job in the expected case:
// boot and SSH (20 to 40 s on EC2, BENCHMARKS.md), upload, setup_cmds,
// collecting outputs and teardown.
const ExpectedOverhead = 10 * time.Minute

// ExpectedBootstrap is what a setup: bootstrap adds to it. BENCHMARKS.md
// measured 22 s with Debian's packages from a repository next to the nodes,
// and 8m42s for the same on an overloaded machine; pip's engine packages
// (torch's, ray's wheels) come from PyPI over the network and are larger,
// so the expected case keeps ten minutes, which overstates a quick one.
const ExpectedBootstrap = 10 * time.Minute

// ExpectedAssumption says what the expected case of c assumes, for the
// plan.
func ExpectedAssumption(c *config.Cluster) string {
	around := "10m booting, collecting outputs and tearing down"
	if c.Setup != nil {
		around = "10m booting, collecting outputs and tearing down, plus 10m bootstrapping setup:"
	}
	return "the job runs its whole max_duration, the nodes spend " + around +
		", and spot nodes are billed at the table's spot price (at most the on-demand price when it has none)"
}

// expectedOverhead is ExpectedOverhead, and ExpectedBootstrap for a
// cluster with setup:.
func expectedOverhead(c *config.Cluster) time.Duration {
	if c.Setup != nil {
		return ExpectedOverhead + ExpectedBootstrap
	}
	return ExpectedOverhead
}

// Projection is what a cluster may cost.
type Projection struct {
	// Region is the region priced; Table is its prices, nil when the
	// table sear ships has none for it.
	Region string
	Table  *report.PriceTable
	Lines  []Line
	// Worst is how long each node may be billed; WorstUSD is every node
	// billed that long at its on-demand price.
	Worst    time.Duration
	WorstUSD float64
	// Expected is how long each node is billed in the expected case;
	// ExpectedUSD is its cost, an upper bound when ExpectedUpperBound.
	Expected           time.Duration
	ExpectedUSD        float64
	ExpectedUpperBound bool
	// HourlyUSD is the whole cluster's on-demand price per hour.
	HourlyUSD float64
	// Unknown lists the instance types without a price in Region; the
	// sums leave them out.
	Unknown []string
	// Local says the nodes run on this machine and cost nothing.
	Local bool
}

// Line is the nodes of one role.
type Line struct {
	Role string
	// Type is the instance type the worst case prices: the dearest of
	// Choices, the types the capacity failover may launch the role on
	// (first choice first).
	Type    string
	Choices []string
	Spot    bool
	Nodes   int
	// Hourly is Type's on-demand price of one node-hour; ExpectedHourly
	// the first choice's, which the expected case takes (its spot price,
	// when the table has one), as the failover moves on only when EC2
	// has no room for it.
	Hourly, ExpectedHourly float64
	// Known says every choice has a price.
	Known                 bool
	WorstUSD, ExpectedUSD float64
}

// Project prices cluster c in region (the region it will run in: its
// region_name, else the action's input or the environment) with the
// offline table sear ships.
func Project(c *config.Cluster, region string) Projection {
	t, _ := report.PricesIn(region)
	return ProjectWith(c, region, t)
}

// ProjectWith prices cluster c in region with table, nil for none (every
// type is then unpriced).
func ProjectWith(c *config.Cluster, region string, table *report.PriceTable) Projection {
	if c.Kind != config.AWS {
		return Projection{Local: true, Lines: []Line{}, Unknown: []string{}}
	}
	p := Projection{Region: region, Worst: c.Lifetime(), Lines: []Line{}, Unknown: []string{}}
	if c.SpotRetry != "" {
		// spot_retry may run the job again on a second cluster, on
		// demand, after the first lived its whole life.
		p.Worst *= 2
	}
	p.Expected = min(c.MaxDuration+expectedOverhead(c), p.Worst)
	p.Table = table
	p.Lines = append(p.Lines, p.line("orchestrator", c.OrchestratorTypeChoices(), c.Spot, 1))
	if c.FactoriesNum > 0 {
		p.Lines = append(p.Lines, p.line("factory", c.FactoriesTypeChoices(), c.Spot, c.FactoriesNum))
	}
	for i := range p.Lines {
		l := &p.Lines[i]
		if !l.Known {
			continue
		}
		// Billing is per second with a 60-second minimum, far below
		// either duration, so the minimum never shows here.
		l.WorstUSD = float64(l.Nodes) * l.Hourly * p.Worst.Hours()
		l.ExpectedUSD = float64(l.Nodes) * l.ExpectedHourly * p.Expected.Hours()
		p.HourlyUSD += float64(l.Nodes) * l.Hourly
		p.WorstUSD += l.WorstUSD
		p.ExpectedUSD += l.ExpectedUSD
		p.ExpectedUpperBound = p.ExpectedUpperBound || (l.Spot && l.ExpectedHourly == p.Table.OnDemand[l.Choices[0]])
	}
	slices.Sort(p.Unknown)
	p.WorstUSD, p.ExpectedUSD = cents(p.WorstUSD), cents(p.ExpectedUSD)
	return p
}

// cents rounds up to the cent: a bound rounded down would let a run the
// budget refuses by a fraction of a cent through.
func cents(usd float64) float64 { return math.Ceil(math.Round(usd*1e6)/1e4) / 100 }

// line prices a role's nodes; an unpriced choice goes to p.Unknown.
func (p *Projection) line(role string, choices []string, spot bool, n int) Line {
	l := Line{Role: role, Choices: choices, Spot: spot, Nodes: n, Known: len(choices) > 0}
	if len(choices) > 0 {
		l.Type = choices[0]
	}
	for i, typ := range choices {
		h, ok := 0.0, false
		if p.Table != nil {
			h, ok = p.Table.OnDemand[typ]
		}
		if !ok {
			l.Known = false
			if !slices.Contains(p.Unknown, typ) {
				p.Unknown = append(p.Unknown, typ)
			}
			continue
		}
		if h > l.Hourly {
			l.Type, l.Hourly = typ, h
		}
		if i == 0 {
			l.ExpectedHourly = h
			if s, ok := p.Table.Spot[typ]; ok && spot && s < h {
				l.ExpectedHourly = s
			}
		}
	}
	if !l.Known {
		l.Hourly, l.ExpectedHourly = 0, 0
	}
	return l
}

// Complete says every node has a price, so the sums are the cluster's.
func (p Projection) Complete() bool { return p.Local || len(p.Unknown) == 0 }

// Source says where the prices come from: "offline table of DATE", or
// "live" when they were read from AWS.
func (p Projection) Source() string {
	if p.Table == nil {
		return "none: sear's price table has no prices for " + orUnknown(p.Region)
	}
	return p.Table.SourceName()
}

// Driver is the line that costs the most in the worst case.
func (p Projection) Driver() Line {
	var d Line
	for _, l := range p.Lines {
		if l.WorstUSD > d.WorstUSD {
			d = l
		}
	}
	return d
}

// Describe is a line's nodes: "4 c6i.2xlarge factories", or "4
// factories, at most on g5.xlarge" when the failover has choices.
func (l Line) Describe() string {
	role := l.Role
	if l.Nodes != 1 {
		role = strings.TrimSuffix(role, "y") + map[bool]string{true: "ies", false: "s"}[strings.HasSuffix(role, "y")]
	}
	if len(l.Choices) > 1 {
		return fmt.Sprintf("%d %s, priced on the dearest of their types, %s", l.Nodes, role, l.Type)
	}
	return fmt.Sprintf("%d %s %s", l.Nodes, l.Type, role)
}

// USD writes an amount as the reports do: "$0.42", "$1,234.50".
func USD(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return "$" + whole + "." + frac
}

func orUnknown(region string) string {
	if region == "" {
		return "an unnamed region (set region_name)"
	}
	return region
}
