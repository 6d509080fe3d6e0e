package plan_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/plan"
)

func costPlan(t *testing.T, cluster string) (*plan.Plan, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	os.WriteFile(path, []byte(cluster), 0o644)
	p := plan.Make(plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: loadCluster(t, path), Repository: "OWNER/REPO"})
	var text, js bytes.Buffer
	p.WriteText(&text)
	p.WriteJSON(&js)
	return p, text.String(), js.String()
}

// TestPlanCostOverMaxCost: a plan whose worst case exceeds max_cost says
// sear would refuse it, with the budget check's own message.
func TestPlanCostOverMaxCost(t *testing.T) {
	p, text, js := costPlan(t, "!AWSCluster\nname: c\nfactories_num: 8\nfactories_type: g5.12xlarge\norchestrator_type: m5.large\n"+
		"region_name: us-west-2\nmax_duration: 3h\nmax_cost: 50\n")
	// 8 × $5.672 + $0.096 an hour, for 10m + 3h + 15m.
	if p.Cost.WorstUSD != 172.04 || p.Cost.Within || p.Cost.MaxCostUSD != 50 || p.Cost.Region != "us-west-2" {
		t.Errorf("cost %+v", p.Cost)
	}
	for _, want := range []string{
		"Cost      us-west-2, offline table of ",
		"  nodes       8 × g5.12xlarge factory (on-demand): $5.672/h each at the on-demand price\n",
		"  at most     $172.04: every node billed its whole life, 3h47m (ready 10m + upload 10m + job 3h2m + collect 10m + teardown 10m + slack 5m)",
		"  max_cost    $50.00: sear refuses this run before launching anything",
		"warning: sear would refuse this run: ", "the worst case of this cluster is $172.04, over max_cost $50.00",
		"The biggest cost is the 8 g5.12xlarge factories",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text plan lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(js, `"worst_usd": 172.04`) || !strings.Contains(js, `"max_cost_usd": 50`) || strings.Contains(js, "within_max_cost") {
		t.Errorf("the JSON plan's cost:\n%s", js)
	}
	within, text, _ := costPlan(t, "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: m5.large\norchestrator_type: m5.large\nregion_name: us-east-1\nmax_cost: 5\n")
	if !within.Cost.Within || !strings.Contains(text, "max_cost    $5.00: the worst case is within it") || strings.Contains(text, "would refuse") {
		t.Errorf("within max_cost: %+v\n%s", within.Cost, text)
	}
}

// TestPlanCostUnpriced: a type or a region without prices is said, not
// guessed, and a max_cost then cannot be checked.
func TestPlanCostUnpriced(t *testing.T) {
	p, text, _ := costPlan(t, "!AWSCluster\nname: c\nfactories_num: 2\nfactories_type: x9.huge\norchestrator_type: m5.large\nregion_name: eu-west-1\nmax_cost: 100\n")
	if strings.Join(p.Cost.Unpriced, ",") != "x9.huge" || p.Cost.Within {
		t.Errorf("cost %+v", p.Cost)
	}
	for _, want := range []string{"2 × x9.huge factory (on-demand): no price in this region", "+ the unpriced x9.huge",
		"max_cost $100.00 cannot be checked: sear's price table has no price for x9.huge in eu-west-1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text plan lacks %q:\n%s", want, text)
		}
	}
	_, text, _ = costPlan(t, "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: m5.large\norchestrator_type: m5.large\nregion_name: sa-east-1\n")
	if !strings.Contains(text, "Cost      sa-east-1, none: sear's price table has no prices for sa-east-1\n") || !strings.Contains(text, "elsewhere   at most ap-northeast-1 $") {
		t.Errorf("a region the table lacks:\n%s", text)
	}
}

// TestPlanCostFailoverChoices: a role the failover may launch on several
// types lists them, and is priced on the dearest.
func TestPlanCostFailoverChoices(t *testing.T) {
	p, text, _ := costPlan(t, "!AWSCluster\nname: c\nfactories_num: 2\nfactories_type: [c6i.2xlarge, m5.4xlarge]\norchestrator_type: m5.large\nregion_name: us-east-1\n")
	if l := p.Cost.Nodes[1]; l.InstanceType != "m5.4xlarge" || len(l.InstanceTypes) != 2 || l.HourlyUSD != 0.768 {
		t.Errorf("factories %+v", l)
	}
	if want := "  nodes       2 × c6i.2xlarge or m5.4xlarge factory (on-demand): up to $0.768/h each at the on-demand price (m5.4xlarge)\n"; !strings.Contains(text, want) {
		t.Errorf("the text plan lacks %q:\n%s", want, text)
	}
}

// TestPlanCostExpectedMode: under max_cost_mode: expected, the plan holds
// the expected case against max_cost, says when the job would be stopped,
// and refuses (as the run would) a cluster whose expected case is over it.
func TestPlanCostExpectedMode(t *testing.T) {
	const cluster = "!AWSCluster\nname: c\nfactories_num: 8\nfactories_type: g5.12xlarge\norchestrator_type: m5.large\n" +
		"region_name: us-west-2\nmax_cost: 50\nmax_cost_mode: expected\n"
	// 8 × $5.672 + $0.096 = $45.472 an hour: 40m of it is $30.32, within
	// $50, which lasts 65m58s; less the 20m of collect and teardown.
	p, text, js := costPlan(t, cluster+"max_duration: 30m\n")
	if !p.Cost.Within || p.Cost.MaxCostMode != "expected" || p.Cost.StopsAfter != "45m58s" {
		t.Errorf("cost %+v", p.Cost)
	}
	want := "  max_cost    $50.00 (max_cost_mode: expected): the expected case is within it; the job is stopped if the cluster's cost reaches it, 45m58s after the launch"
	if !strings.Contains(text, want) || strings.Contains(text, "would refuse") {
		t.Errorf("the text plan lacks %q:\n%s", want, text)
	}
	if !strings.Contains(js, `"max_cost_mode": "expected"`) || !strings.Contains(js, `"stops_after": "45m58s"`) {
		t.Errorf("the JSON plan's cost:\n%s", js)
	}
	p, text, _ = costPlan(t, cluster+"max_duration: 3h\n")
	for _, want := range []string{"warning: sear would refuse this run: ",
		"the expected case of this cluster is $144.00, over max_cost $50.00 (max_cost_mode: expected)",
		"so the run would be stopped at the budget before its job could end"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text plan lacks %q:\n%s", want, text)
		}
	}
	if p.Cost.Within {
		t.Errorf("within max_cost with an expected case over it")
	}
	// $31 holds the 40 minutes' $30.32, but at $45.472 an hour it lasts
	// 40m54s, less the 20m held back: the job would be stopped at 20m54s.
	p, text, _ = costPlan(t, strings.Replace(cluster, "max_cost: 50", "max_cost: 31", 1)+"max_duration: 30m\n")
	for _, want := range []string{"warning: sear would refuse this run: ",
		"max_cost $31.00 (max_cost_mode: expected) would stop the job 20m54s after the launch",
		"the job needs 40m (max_duration and the 10m sear expects before it)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text plan lacks %q:\n%s", want, text)
		}
	}
	if p.Cost.Within {
		t.Errorf("within max_cost with a budget that stops the job before its end")
	}
}

// TestPlanCostLivePrices: a cluster with live_prices says the run prices
// it again, which the plan (offline) cannot.
func TestPlanCostLivePrices(t *testing.T) {
	_, text, js := costPlan(t, "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: m5.large\norchestrator_type: m5.large\nregion_name: us-east-1\nlive_prices: true\n")
	if !strings.Contains(text, "  live        live_prices: the run prices the cluster again with the AWS Price List API before launching") ||
		!strings.Contains(js, `"live_prices": true`) {
		t.Errorf("live_prices is not said:\n%s\n%s", text, js)
	}
}

// TestPlanCostSpotRetry: spot_retry may run the job on a second cluster,
// so the worst case counts two lives, and says so.
func TestPlanCostSpotRetry(t *testing.T) {
	const cluster = "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: m5.large\norchestrator_type: m5.large\nregion_name: us-east-1\nspot: true\n"
	once, _, _ := costPlan(t, cluster)
	twice, text, js := costPlan(t, cluster+"spot_retry: on-demand\n")
	if twice.Cost.WorstUSD < 2*once.Cost.WorstUSD-0.01 || twice.Cost.WorstUSD > 2*once.Cost.WorstUSD+0.01 {
		t.Errorf("worst case %v with spot_retry, %v without: want twice", twice.Cost.WorstUSD, once.Cost.WorstUSD)
	}
	if !strings.Contains(text, "every node billed its whole life twice (spot_retry may run the job again on a second cluster)") ||
		!strings.Contains(text, "2 × (ready ") || !strings.Contains(js, `"spot_retry": true`) {
		t.Errorf("the plan does not say the worst case counts the retry:\n%s", text)
	}
}
