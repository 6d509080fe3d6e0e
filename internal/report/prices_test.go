package report

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPriceTable keeps prices.json honest about what it is: dated, with
// its source, covering the regions people run in, each with the same
// instance types and only plausible hourly prices.
func TestPriceTable(t *testing.T) {
	t.Parallel()
	regions := PriceRegions()
	for _, want := range []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"} {
		if !slices.Contains(regions, want) {
			t.Errorf("prices.json has no prices for %s; it has %v", want, regions)
		}
	}
	base := Prices()
	if base.Region != DefaultRegion {
		t.Errorf("Prices() is the table of %q, want %s", base.Region, DefaultRegion)
	}
	for _, region := range regions {
		p, ok := PricesIn(region)
		if !ok || p.Region != region || p.Location == "" {
			t.Fatalf("PricesIn(%q) = %+v, %v: want the region's table with its name", region, p, ok)
		}
		if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
			t.Errorf("prices.json date %q is not YYYY-MM-DD: %v", p.Date, err)
		}
		if !strings.HasPrefix(p.Source, "https://") || p.Currency != "USD" || !strings.Contains(p.Note, "re-check") {
			t.Errorf("%s needs an https source, USD and a note that says to re-check it: %+v", region, p)
		}
		if p.SourceName() != "offline table of "+p.Date {
			t.Errorf("%s: SourceName() = %q", region, p.SourceName())
		}
		if len(p.OnDemand) < 20 {
			t.Errorf("%s has %d on-demand prices", region, len(p.OnDemand))
		}
		for typ, price := range p.OnDemand {
			if !strings.Contains(typ, ".") || price <= 0 || price > 100 {
				t.Errorf("%s: on-demand price of %q is %v: not an instance type or not an hourly price", region, typ, price)
			}
			// No region sear covers lists these families below N.
			// Virginia, or at more than half again its price: a
			// larger gap is a typing error in the table.
			if b := base.OnDemand[typ]; price < b || price > 1.5*b {
				t.Errorf("%s: %s at $%v/h against $%v/h in %s: check the table", region, typ, price, b, DefaultRegion)
			}
		}
		for typ := range base.OnDemand {
			if _, ok := p.OnDemand[typ]; !ok {
				t.Errorf("%s has no price for %s, which %s has", region, typ, DefaultRegion)
			}
		}
	}
	if _, ok := PricesIn("mars-north-1"); ok {
		t.Error("PricesIn found a table for a region that does not exist")
	}
}

// TestRunCostUsesItsRegion: a run is priced in the region it ran in, and
// one in a region the table lacks at DefaultRegion's prices.
func TestRunCostUsesItsRegion(t *testing.T) {
	t.Parallel()
	nodes := []Node{{Role: "orchestrator", Type: "m5.large", Uptime: time.Hour}}
	eu := (&Run{Region: "eu-west-1", Nodes: nodes}).Cost()
	us := (&Run{Region: "us-east-1", Nodes: nodes}).Cost()
	other := (&Run{Region: "sa-east-1", Nodes: nodes}).Cost()
	if eu.Table.Region != "eu-west-1" || eu.USD <= us.USD {
		t.Errorf("eu-west-1 priced with %s at $%v, us-east-1 at $%v", eu.Table.Region, eu.USD, us.USD)
	}
	if other.Table.Region != DefaultRegion || other.USD != us.USD {
		t.Errorf("sa-east-1 priced with %s at $%v", other.Table.Region, other.USD)
	}
}

func TestEstimate(t *testing.T) {
	t.Parallel()
	table := &PriceTable{Region: "us-east-1", OnDemand: map[string]float64{"m5.large": 0.096, "p3.2xlarge": 3.06},
		Spot: map[string]float64{"p3.2xlarge": 0.918}}
	for _, tc := range []struct {
		name     string
		nodes    []Node
		fallback time.Duration
		usd      float64
		upper    bool
		unknown  []string
		local    bool
	}{
		{"an hour on demand", []Node{{Role: "orchestrator", Type: "m5.large", Uptime: time.Hour}}, 0, 0.096, false, nil, false},
		{"billed at least a minute", []Node{{Type: "m5.large", Uptime: time.Second}}, 0, 0.096 / 60, false, nil, false},
		{"uptime falls back to the run's duration", []Node{{Type: "m5.large"}}, 30 * time.Minute, 0.048, false, nil, false},
		{"spot with a spot price", []Node{{Type: "p3.2xlarge", Spot: true, Uptime: time.Hour}}, 0, 0.918, false, nil, false},
		{"spot without one is capped at on demand", []Node{{Type: "m5.large", Spot: true, Uptime: time.Hour}}, 0, 0.096, true, nil, false},
		{"unknown types are named, not guessed", []Node{{Type: "m5.large", Uptime: time.Hour}, {Type: "x9.huge", Uptime: time.Hour},
			{Type: "a1.tiny", Uptime: time.Hour}, {Type: "x9.huge", Uptime: time.Hour}}, 0, 0.096, false, []string{"a1.tiny", "x9.huge"}, false},
		{"local nodes cost nothing", []Node{{Role: "orchestrator"}, {Role: "factory"}}, time.Hour, 0, false, nil, true},
	} {
		c := table.Estimate(tc.nodes, tc.fallback)
		if math.Abs(c.USD-tc.usd) > 1e-6 || c.UpperBound != tc.upper || c.Local != tc.local || strings.Join(c.Unknown, ",") != strings.Join(tc.unknown, ",") {
			t.Errorf("%s: got $%v upper=%v local=%v unknown=%v; want $%v upper=%v local=%v unknown=%v",
				tc.name, c.USD, c.UpperBound, c.Local, c.Unknown, tc.usd, tc.upper, tc.local, tc.unknown)
		}
	}
	c := table.Estimate([]Node{{Role: "factory", Type: "m5.large", Uptime: time.Hour}, {Role: "factory", Type: "m5.large", Uptime: 2 * time.Hour}}, 0)
	if len(c.Lines) != 1 || c.Lines[0].Nodes != 2 || c.Lines[0].Billed != 3*time.Hour {
		t.Errorf("two factories of one type make lines %+v, want one line of 2 nodes and 3h", c.Lines)
	}
}

// TestProjectionWhileRunning: the check run in progress says what the run
// may cost at most, in its title and its facts, with the budget; once the
// run has ended the estimate of what it did cost takes over.
func TestProjectionWhileRunning(t *testing.T) {
	t.Parallel()
	r := Run{Runnable: "exp.yaml", Verdict: Running, Region: "eu-west-1",
		Phases:    []Phase{{Name: "launch", Running: true}},
		Projected: &Projection{AtMostUSD: 41.5, Complete: true, MaxCostUSD: 50, Region: "eu-west-1", Source: "offline table of 2026-12-06"}}
	out := Check(r)
	if want := "⏳ running (launch) · projected at most $41.50"; out.Title != want {
		t.Errorf("title %q, want %q", out.Title, want)
	}
	if want := "projected at most **$41.50** (budget $50.00)"; !strings.Contains(out.Summary, want) {
		t.Errorf("summary lacks %q:\n%s", want, out.Summary)
	}
	r.Projected.Complete, r.Projected.MaxCostUSD = false, 0
	if out := Check(r); !strings.HasSuffix(out.Title, "projected at most $41.50 + unpriced nodes") || strings.Contains(out.Summary, "budget") {
		t.Errorf("an incomplete projection without a budget: %q\n%s", out.Title, out.Summary)
	}
	r.Verdict, r.Phases = Success, nil
	if out := Check(r); strings.Contains(out.Title+out.Summary+out.Text, "projected") {
		t.Errorf("a finished run still shows its projection: %q\n%s", out.Title, out.Summary)
	}
}
