package report

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestPriceTable keeps prices.json honest about what it is: dated, for a
// region, with its source, and only plausible hourly prices.
func TestPriceTable(t *testing.T) {
	t.Parallel()
	p := Prices()
	if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
		t.Errorf("prices.json date %q is not YYYY-MM-DD: %v", p.Date, err)
	}
	if p.Region == "" || !strings.HasPrefix(p.Source, "https://") || p.Currency != "USD" {
		t.Errorf("prices.json needs a region, an https source and USD: %+v", p)
	}
	if len(p.OnDemand) < 20 {
		t.Errorf("prices.json has %d on-demand prices", len(p.OnDemand))
	}
	for typ, price := range p.OnDemand {
		if !strings.Contains(typ, ".") || price <= 0 || price > 100 {
			t.Errorf("on-demand price of %q is %v: not an instance type or not an hourly price", typ, price)
		}
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
