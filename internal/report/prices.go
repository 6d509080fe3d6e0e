package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

//go:embed prices.json
var pricesJSON []byte

// PriceTable is a dated table of hourly instance prices for one region.
type PriceTable struct {
	Region string `json:"region"`
	// Location is how AWS's price list names the region ("US East (N.
	// Virginia)").
	Location string `json:"name"`
	Date     string `json:"date"`
	Currency string `json:"currency"`
	Unit     string `json:"unit"`
	Source   string `json:"source"`
	Note     string `json:"note"`
	// OnDemand maps an instance type to its on-demand price per hour.
	OnDemand map[string]float64 `json:"on_demand"`
	// Spot maps an instance type to a representative spot price per hour.
	// A type without one is estimated at its on-demand price, the most a
	// spot instance is billed by default.
	Spot map[string]float64 `json:"spot,omitempty"`
	// Live says the prices came from AWS's Price List API at run time
	// rather than from the table sear ships.
	Live bool `json:"live,omitempty"`
}

// SourceName says where the prices come from, for a reader deciding how
// far to trust them: "offline table of 2026-12-06" or "live".
func (t *PriceTable) SourceName() string {
	if t.Live {
		return "AWS Price List API, live"
	}
	return "offline table of " + t.Date
}

// priceFile is prices.json: what every region shares, then each region's
// prices.
type priceFile struct {
	PriceTable
	Regions map[string]PriceTable `json:"regions"`
}

// DefaultRegion is the region whose prices stand in for a region the table
// lacks, as they did when the table had no other.
const DefaultRegion = "us-east-1"

// defaultPrices are the tables shipped in prices.json, parsed once. A file
// that does not parse is a build defect, caught by TestPriceTable.
var defaultPrices = func() map[string]*PriceTable {
	var f priceFile
	if err := json.Unmarshal(pricesJSON, &f); err != nil {
		panic(fmt.Sprintf("report: prices.json: %v", err))
	}
	out := make(map[string]*PriceTable, len(f.Regions))
	for region, r := range f.Regions {
		t := f.PriceTable
		t.Region, t.Location, t.OnDemand, t.Spot = region, r.Location, r.OnDemand, r.Spot
		if r.Date != "" {
			t.Date = r.Date // compiled later than the rest
		}
		out[region] = &t
	}
	if out[DefaultRegion] == nil {
		panic("report: prices.json has no " + DefaultRegion)
	}
	return out
}()

// Prices is the price table sear ships for DefaultRegion.
func Prices() *PriceTable { return defaultPrices[DefaultRegion] }

// PricesIn is the price table sear ships for region; false when it has
// none for it.
func PricesIn(region string) (*PriceTable, bool) {
	t, ok := defaultPrices[region]
	return t, ok
}

// PriceRegions are the regions the shipped table covers, sorted.
func PriceRegions() []string {
	out := make([]string, 0, len(defaultPrices))
	for r := range defaultPrices {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Cost is a run's estimated compute cost.
type Cost struct {
	// USD is the sum over the nodes whose type has a price.
	USD float64
	// UpperBound says some spot node is counted at its on-demand price:
	// the real cost is at most USD.
	UpperBound bool
	// Unknown lists the instance types the table has no price for; USD
	// leaves them out.
	Unknown []string
	// Local says no node was a cloud instance: the run cost nothing.
	Local bool
	Lines []CostLine
	Table *PriceTable
}

// Complete says every cloud node was priced.
func (c Cost) Complete() bool { return len(c.Unknown) == 0 }

// CostLine is the nodes of one role, type and market.
type CostLine struct {
	Role  string
	Type  string
	Spot  bool
	Nodes int
	// Billed is the node time billed: each node's uptime, at least the
	// minimum EC2 bills.
	Billed time.Duration
	// Hourly is the price per node-hour; 0 when the type is unknown.
	Hourly float64
	USD    float64
	Known  bool
	// Capped marks spot nodes estimated at the on-demand price.
	Capped bool
}

// minimumBilled is what EC2 bills an instance at least: "per-second
// billing, with a minimum of 60 seconds" for Linux (EC2 pricing pages).
const minimumBilled = 60 * time.Second

// Estimate prices nodes; a node without an uptime counts for fallback, the
// run's duration.
func (t *PriceTable) Estimate(nodes []Node, fallback time.Duration) Cost {
	c := Cost{Table: t, Local: true}
	index := map[string]int{}
	for _, n := range nodes {
		if n.Type == "" {
			continue
		}
		c.Local = false
		key := fmt.Sprintf("%s\x00%s\x00%t", n.Role, n.Type, n.Spot)
		i, seen := index[key]
		if !seen {
			i = len(c.Lines)
			index[key] = i
			c.Lines = append(c.Lines, t.line(n))
		}
		up := n.Uptime
		if up <= 0 {
			up = fallback
		}
		c.Lines[i].Nodes++
		c.Lines[i].Billed += max(up, minimumBilled)
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		if !l.Known {
			if !slices.Contains(c.Unknown, l.Type) {
				c.Unknown = append(c.Unknown, l.Type)
			}
			continue
		}
		l.USD = l.Hourly * l.Billed.Hours()
		c.USD += l.USD
		c.UpperBound = c.UpperBound || l.Capped
	}
	slices.Sort(c.Unknown)
	c.USD = math.Round(c.USD*1e6) / 1e6
	return c
}

// line starts the cost line of a node's role, type and market.
func (t *PriceTable) line(n Node) CostLine {
	l := CostLine{Role: n.Role, Type: n.Type, Spot: n.Spot}
	if n.Spot {
		if p, ok := t.Spot[n.Type]; ok {
			l.Hourly, l.Known = p, true
			return l
		}
	}
	if p, ok := t.OnDemand[n.Type]; ok {
		l.Hourly, l.Known, l.Capped = p, true, n.Spot
	}
	return l
}

// Cost is the run's estimated cost with the price table sear ships for its
// region, or DefaultRegion's when it has none for it (the report then says
// prices differ there).
func (r *Run) Cost() Cost {
	t, ok := PricesIn(r.Region)
	if !ok {
		t = Prices()
	}
	return t.Estimate(r.Nodes, r.Duration)
}

// Projection is what a run may cost at most, known before anything is
// launched (package cost), so that the check run says it while the run is
// under way: a reviewer sees what a run risks before it has cost it.
type Projection struct {
	// AtMostUSD is the worst case: every node billed its whole life at
	// the on-demand price.
	AtMostUSD float64
	// Complete is false when some node has no price: AtMostUSD leaves it
	// out.
	Complete bool
	// MaxCostUSD is the budget the run was checked against; 0 for none.
	MaxCostUSD float64
	// Region and Source say which prices: "offline table of DATE".
	Region, Source string
}

// projected is " · projected at most $1.85" for a run under way with a
// projection, else "".
func projected(r *Run) string {
	p := r.Projected
	if r.Verdict != Running || p == nil || p.AtMostUSD <= 0 {
		return ""
	}
	s := "projected at most " + usd(p.AtMostUSD)
	if !p.Complete {
		s += " + unpriced nodes"
	}
	return s
}

// budgetNote is " (max_cost $20.00)" when the run was checked against one.
func budgetNote(p *Projection) string {
	if p == nil || p.MaxCostUSD <= 0 {
		return ""
	}
	return " (budget " + usd(p.MaxCostUSD) + ")"
}
