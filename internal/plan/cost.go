package plan

import (
	"fmt"
	"strings"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/cost"
	"github.com/sear-ci/sear/internal/report"
)

// Cost is what the cluster may cost (package cost), before it exists.
type Cost struct {
	// Local says the nodes run on this machine: no cloud cost.
	Local bool `json:"local,omitempty"`
	// Region is the region priced; Source says which prices:
	// "offline table of DATE" (sear's own, to re-check at SourceURL),
	// or none for a region the table lacks.
	Region    string     `json:"region,omitempty"`
	Source    string     `json:"source,omitempty"`
	SourceURL string     `json:"source_url,omitempty"`
	Nodes     []CostLine `json:"nodes,omitempty"`
	// HourlyUSD is the whole cluster's on-demand price per hour.
	HourlyUSD float64 `json:"hourly_usd"`
	// WorstUSD is every node billed for WorstPerNode (its whole life) at
	// the on-demand price: the most the run's instances can cost.
	WorstUSD     float64 `json:"worst_usd"`
	WorstPerNode string  `json:"worst_per_node,omitempty"`
	// ExpectedUSD is the expected case under ExpectedAssumption; at most
	// that when ExpectedAtMost (a spot node without a spot price).
	ExpectedUSD        float64 `json:"expected_usd"`
	ExpectedPerNode    string  `json:"expected_per_node,omitempty"`
	ExpectedAssumption string  `json:"expected_assumption,omitempty"`
	ExpectedAtMost     bool    `json:"expected_at_most,omitempty"`
	// Unpriced are the instance types without a price: the sums leave
	// them out, and a max_cost cannot be checked.
	Unpriced []string `json:"unpriced_types,omitempty"`
	// MaxCostUSD is the cluster file's max_cost, 0 for none; Within says
	// the worst case is within it.
	MaxCostUSD float64 `json:"max_cost_usd,omitempty"`
	Within     bool    `json:"within_max_cost,omitempty"`
	// MaxCostMode is "expected" when the budget holds the expected case
	// and stops the job StopsAfter the launch; empty for the worst case.
	MaxCostMode string `json:"max_cost_mode,omitempty"`
	StopsAfter  string `json:"stops_after,omitempty"`
	// LivePrices says the run prices the cluster again with the AWS Price
	// List API before launching (live_prices), which the plan cannot do.
	LivePrices bool `json:"live_prices,omitempty"`
	// SpotRetry says the worst case counts two clusters' lives: the spot
	// one, and spot_retry's on-demand one after it.
	SpotRetry bool `json:"spot_retry,omitempty"`
	// Counts says what the sums count and what they leave out.
	Counts string `json:"counts,omitempty"`
	// WorstByRegion is the worst case in each region the table covers
	// where every node has a price, for choosing where to run.
	WorstByRegion map[string]float64 `json:"worst_usd_by_region,omitempty"`
}

// CostLine is the nodes of one role.
type CostLine struct {
	Role         string `json:"role"`
	Nodes        int    `json:"nodes"`
	InstanceType string `json:"instance_type"`
	// InstanceTypes are the capacity failover's choices, first first, when
	// there are several; InstanceType is then the dearest, which the
	// worst case prices.
	InstanceTypes []string `json:"instance_types,omitempty"`
	Market        string   `json:"market"`
	Priced        bool     `json:"priced"`
	HourlyUSD     float64  `json:"hourly_usd"`
	WorstUSD      float64  `json:"worst_usd"`
	ExpectedUSD   float64  `json:"expected_usd"`
}

const costCounts = "the instances only, billed per second: EBS volumes, data transfer and taxes are not counted"

// projectCost prices the cluster in region, and warns when sear would
// refuse to run it for its max_cost.
func projectCost(c *config.Cluster, region string) (*Cost, []string) {
	p := cost.Project(c, region)
	if p.Local {
		return &Cost{Local: true}, nil
	}
	out := &Cost{Region: region, Source: p.Source(), HourlyUSD: round6(p.HourlyUSD), WorstUSD: p.WorstUSD,
		WorstPerNode: config.FormatDuration(p.Worst), ExpectedUSD: p.ExpectedUSD, ExpectedPerNode: config.FormatDuration(p.Expected),
		ExpectedAssumption: cost.ExpectedAssumption(c), ExpectedAtMost: p.ExpectedUpperBound, Unpriced: p.Unknown,
		MaxCostUSD: c.MaxCost, Counts: costCounts, LivePrices: c.LivePrices, SpotRetry: c.SpotRetry != ""}
	if c.GuardsExpected() {
		out.MaxCostMode = config.MaxCostExpected
		if after, ok := cost.StopAfter(c, p, cost.ClusterLimit(c, 0)); ok {
			out.StopsAfter = config.FormatDuration(max(after, 0))
		}
	}
	if p.Table != nil {
		out.SourceURL = p.Table.Source
	}
	for _, l := range p.Lines {
		market := "on-demand"
		if l.Spot {
			market = "spot"
		}
		line := CostLine{Role: l.Role, Nodes: l.Nodes, InstanceType: l.Type, Market: market, Priced: l.Known,
			HourlyUSD: l.Hourly, WorstUSD: round6(l.WorstUSD), ExpectedUSD: round6(l.ExpectedUSD)}
		if len(l.Choices) > 1 {
			line.InstanceTypes = l.Choices
		}
		out.Nodes = append(out.Nodes, line)
	}
	for _, r := range report.PriceRegions() {
		if q := cost.Project(c, r); q.Complete() {
			if out.WorstByRegion == nil {
				out.WorstByRegion = map[string]float64{}
			}
			out.WorstByRegion[r] = q.WorstUSD
		}
	}
	var warnings []string
	if err := cost.Check(c, p, cost.ClusterLimit(c, 0)); err != nil {
		warnings = append(warnings, "sear would refuse this run: "+err.Error())
	} else {
		out.Within = c.MaxCost > 0
	}
	return out, warnings
}

func round6(v float64) float64 { return float64(int64(v*1e6+0.5)) / 1e6 }

func (p *Plan) textCost(b *strings.Builder) {
	c := p.Cost
	if c == nil || c.Local {
		return
	}
	fmt.Fprintf(b, "\nCost      %s, %s", orNone(c.Region), c.Source)
	if c.SourceURL != "" {
		fmt.Fprintf(b, " (re-check at %s)", c.SourceURL)
	}
	b.WriteByte('\n')
	if c.LivePrices {
		b.WriteString("  live        live_prices: the run prices the cluster again with the AWS Price List API before launching, and checks max_cost at those prices\n")
	}
	for _, l := range c.Nodes {
		price, types := "no price in this region", l.InstanceType
		if l.Priced {
			price = fmt.Sprintf("%s/h each at the on-demand price", hourly(l.HourlyUSD))
		}
		if len(l.InstanceTypes) > 1 {
			types = strings.Join(l.InstanceTypes, " or ")
			if l.Priced {
				price = fmt.Sprintf("up to %s/h each at the on-demand price (%s)", hourly(l.HourlyUSD), l.InstanceType)
			}
		}
		fmt.Fprintf(b, "  nodes       %d × %s %s (%s): %s\n", l.Nodes, types, l.Role, l.Market, price)
	}
	unpriced := ""
	if len(c.Unpriced) > 0 {
		unpriced = " + the unpriced " + strings.Join(c.Unpriced, ", ")
	}
	fmt.Fprintf(b, "  per hour    %s%s for the whole cluster, on-demand\n", hourly(c.HourlyUSD), unpriced)
	life, bounds := "its whole life", textBounds(p.Lifetime.Budget)
	if c.SpotRetry {
		life, bounds = "its whole life twice (spot_retry may run the job again on a second cluster)", "2 × ("+bounds+")"
	}
	fmt.Fprintf(b, "  at most     %s%s: every node billed %s, %s (%s), "+
		"at the on-demand price (spot is billed at most that)\n",
		cost.USD(c.WorstUSD), unpriced, life, c.WorstPerNode, bounds)
	atMost := ""
	if c.ExpectedAtMost {
		atMost = "at most "
	}
	fmt.Fprintf(b, "  expected    %s%s%s: %s per node, if %s\n", atMost, cost.USD(c.ExpectedUSD), unpriced, c.ExpectedPerNode, c.ExpectedAssumption)
	switch {
	case c.MaxCostUSD > 0 && c.Within && c.MaxCostMode == config.MaxCostExpected:
		fmt.Fprintf(b, "  max_cost    %s (max_cost_mode: expected): the expected case is within it; the job is stopped if the cluster's cost reaches it, %s after the launch, "+
			"leaving the bounds of collecting outputs and tearing down\n", cost.USD(c.MaxCostUSD), c.StopsAfter)
	case c.MaxCostUSD > 0 && c.Within:
		fmt.Fprintf(b, "  max_cost    %s: the worst case is within it\n", cost.USD(c.MaxCostUSD))
	case c.MaxCostUSD > 0:
		fmt.Fprintf(b, "  max_cost    %s: sear refuses this run before launching anything (see the warning below)\n", cost.USD(c.MaxCostUSD))
	default:
		b.WriteString("  max_cost    none: set max_cost in the cluster file, or the max-cost input, to refuse a run whose worst case exceeds it\n")
	}
	if len(c.WorstByRegion) > 1 {
		var others []string
		for _, r := range report.PriceRegions() {
			if v, ok := c.WorstByRegion[r]; ok && r != c.Region {
				others = append(others, r+" "+cost.USD(v))
			}
		}
		fmt.Fprintf(b, "  elsewhere   at most %s\n", strings.Join(others, ", "))
	}
	fmt.Fprintf(b, "  counts      %s\n", c.Counts)
}

// hourly writes an hourly price with the digits the table has.
func hourly(v float64) string {
	return "$" + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", v), "0"), ".")
}

func orNone(region string) string {
	if region == "" {
		return "no region"
	}
	return region
}
