package cost

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/report"
)

func cluster(t *testing.T, yaml string) *config.Cluster {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.LoadCluster(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const dask = "!AWSCluster\nname: c\nfactories_num: 4\nfactories_type: c6i.2xlarge\norchestrator_type: c6i.large\nmax_duration: 45m\nready_timeout: 8m\n"

// TestProject: the worst case bills every node its whole lifetime at the
// on-demand price, the expected case max_duration and ExpectedOverhead.
func TestProject(t *testing.T) {
	t.Parallel()
	c := cluster(t, dask)
	p := Project(c, "eu-west-1")
	table, _ := report.PricesIn("eu-west-1")
	hourly := table.OnDemand["c6i.large"] + 4*table.OnDemand["c6i.2xlarge"]
	if p.Worst != c.Lifetime() {
		t.Errorf("worst case of %v, want the cluster's lifetime %v", p.Worst, c.Lifetime())
	}
	if p.Expected != 55*time.Minute {
		t.Errorf("expected case of %v, want max_duration + %v", p.Expected, ExpectedOverhead)
	}
	if math.Abs(p.HourlyUSD-hourly) > 1e-9 || p.WorstUSD != cents(hourly*p.Worst.Hours()) || p.ExpectedUSD != cents(hourly*p.Expected.Hours()) {
		t.Errorf("hourly $%v worst $%v expected $%v; want $%v an hour", p.HourlyUSD, p.WorstUSD, p.ExpectedUSD, hourly)
	}
	if !p.Complete() || p.ExpectedUpperBound || p.Source() != "offline table of "+table.Date {
		t.Errorf("complete %v upper %v source %q", p.Complete(), p.ExpectedUpperBound, p.Source())
	}
	if d := p.Driver(); d.Describe() != "4 c6i.2xlarge factories" {
		t.Errorf("driver %q", d.Describe())
	}
	withSetup := cluster(t, dask+"setup: {}\n")
	if q := Project(withSetup, "eu-west-1"); q.Expected != 45*time.Minute+ExpectedOverhead+ExpectedBootstrap || !strings.Contains(ExpectedAssumption(withSetup), "10m bootstrapping setup:") {
		t.Errorf("with setup:, the expected case is %v: %s", q.Expected, ExpectedAssumption(withSetup))
	}
	us := Project(c, "us-east-1")
	if us.WorstUSD >= p.WorstUSD {
		t.Errorf("us-east-1 $%v is not below eu-west-1 $%v", us.WorstUSD, p.WorstUSD)
	}
}

func TestProjectSpotUnknownLocal(t *testing.T) {
	t.Parallel()
	spot := Project(cluster(t, "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: x\norchestrator_type: m5.large\nspot: true\n"), "us-east-1")
	if !spot.ExpectedUpperBound || spot.WorstUSD != cents(0.096*spot.Worst.Hours()) || len(spot.Lines) != 1 {
		t.Errorf("a spot node with no spot price: %+v; want on-demand, at most", spot)
	}
	unknown := Project(cluster(t, "!AWSCluster\nname: c\nfactories_num: 2\nfactories_type: x9.huge\norchestrator_type: m5.large\n"), "us-east-1")
	if unknown.Complete() || strings.Join(unknown.Unknown, ",") != "x9.huge" || unknown.WorstUSD != cents(0.096*unknown.Worst.Hours()) {
		t.Errorf("an unpriced type: %+v", unknown)
	}
	nowhere := Project(cluster(t, dask), "sa-east-1")
	if nowhere.Complete() || nowhere.Table != nil || !strings.Contains(nowhere.Source(), "no prices for sa-east-1") {
		t.Errorf("a region the table lacks: %+v, source %q", nowhere, nowhere.Source())
	}
	local := Project(cluster(t, "!LocalCluster\nname: c\nfactories_num: 2\n"), "")
	if !local.Local || !local.Complete() || local.WorstUSD != 0 {
		t.Errorf("a local cluster: %+v", local)
	}
}

// TestExamplesPriced: every example's instance types have a price in every
// region the table covers, so no example's plan says "unknown".
func TestExamplesPriced(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../examples/*/cluster.yaml")
	if len(files) < 3 {
		t.Fatalf("found %d examples", len(files))
	}
	for _, f := range files {
		c, err := config.LoadCluster(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, region := range report.PriceRegions() {
			if p := Project(c, region); !p.Complete() {
				t.Errorf("%s in %s: no price for %v", f, region, p.Unknown)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	c := cluster(t, dask+"max_cost: 1.5\n")
	p := Project(c, "eu-west-1")
	err := Check(c, p, ClusterLimit(c, 0))
	if err == nil {
		t.Fatalf("worst case $%v passed max_cost $2", p.WorstUSD)
	}
	e, ok := err.(*config.Error)
	if !ok || e.Line != 8 || e.Col != 1 {
		t.Fatalf("error %#v is not at max_cost (line 8)", err)
	}
	for _, want := range []string{
		"the worst case of this cluster is " + USD(p.WorstUSD) + ", over max_cost $1.50",
		"5 node(s) for up to 1h30m each (ready_timeout 8m + upload 10m + max_duration 45m + job start and stop 2m + collect 10m + teardown 10m + slack 5m)",
		"in eu-west-1 (offline table of ", "The biggest cost is the 4 c6i.2xlarge factories",
		"Lower max_duration or factories_num", "raise max_cost to at least " + USD(p.WorstUSD), "Nothing was launched",
	} {
		if !strings.Contains(e.Msg, want) {
			t.Errorf("message lacks %q:\n%s", want, e.Msg)
		}
	}
	if err := Check(c, p, ClusterLimit(c, p.WorstUSD)); err != nil {
		t.Errorf("the max-cost input at the worst case itself: %v", err)
	}
	if err := Check(c, p, ClusterLimit(c, 1)); err == nil || !strings.Contains(err.Error(), "over the max-cost input $1.00") {
		t.Errorf("the input overrides the file: %v", err)
	}
	free := cluster(t, dask)
	if err := Check(free, Project(free, "eu-west-1"), ClusterLimit(free, 0)); err != nil {
		t.Errorf("no limit: %v", err)
	}
	unpriced := cluster(t, "!AWSCluster\nname: c\nfactories_num: 2\nfactories_type: x9.huge\norchestrator_type: m5.large\nmax_cost: 1000\n")
	err = Check(unpriced, Project(unpriced, "us-east-1"), ClusterLimit(unpriced, 0))
	if err == nil || !strings.Contains(err.Error(), "max_cost $1,000.00 cannot be checked: sear's price table has no price for x9.huge in us-east-1") {
		t.Errorf("an unpriced node under a limit: %v", err)
	}
}

func TestUSD(t *testing.T) {
	for v, want := range map[float64]string{0: "$0.00", 0.421: "$0.42", 1234.5: "$1,234.50", 1234567.891: "$1,234,567.89"} {
		if got := USD(v); got != want {
			t.Errorf("USD(%v) = %q, want %q", v, got, want)
		}
	}
	if cents(1.001) != 1.01 || cents(1.0) != 1.0 || cents(0.1+0.2) != 0.3 {
		t.Errorf("cents rounds %v %v %v", cents(1.001), cents(1.0), cents(0.1+0.2))
	}
}

// TestProjectFailoverChoices: when the capacity failover may launch a
// role on any of several types, the worst case prices the dearest and the
// expected case the first choice.
func TestProjectFailoverChoices(t *testing.T) {
	t.Parallel()
	c := cluster(t, "!AWSCluster\nname: c\nfactories_num: 2\nfactories_type: [c6i.2xlarge, m5.4xlarge, c5.2xlarge]\norchestrator_type: m5.large\n")
	p := Project(c, "us-east-1")
	f := p.Lines[1]
	if f.Type != "m5.4xlarge" || f.Hourly != 0.768 || f.ExpectedHourly != 0.34 || len(f.Choices) != 3 {
		t.Errorf("factories %+v; want the worst case on m5.4xlarge and the expected case on c6i.2xlarge", f)
	}
	if d := p.Driver().Describe(); d != "2 factories, priced on the dearest of their types, m5.4xlarge" {
		t.Errorf("driver %q", d)
	}
	u := Project(cluster(t, "!AWSCluster\nname: c\nfactories_num: 2\nfactories_type: [c6i.2xlarge, x9.huge]\norchestrator_type: m5.large\n"), "us-east-1")
	if u.Complete() || u.Lines[1].Known || strings.Join(u.Unknown, ",") != "x9.huge" {
		t.Errorf("a choice without a price leaves the role unbounded: %+v", u)
	}
}
