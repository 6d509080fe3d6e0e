package command

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/cost"
	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/run"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	fakepricing "github.com/sear-ci/sear/internal/testworld/pricing"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

func pricingFixture(t *testing.T, in ...fakepricing.Instance) (*fakepricing.Server, *pricing.Client) {
	t.Helper()
	const key, secret = "AKIAPRICESCOMMAND001", "prices-secret"
	s := fakepricing.New(fakepricing.Options{Credentials: sigv4.StaticSource{key: secret}, Instances: in})
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, pricing.New(pricing.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), Retryer: aws.NopRetryer{}})
}

func pricedCluster(t *testing.T, extra string) *config.Cluster {
	t.Helper()
	c, err := config.ParseCluster("cluster.yaml", []byte("!AWSCluster\nname: exp\nregion_name: us-east-1\n"+
		"orchestrator_type: t3.micro\nfactories_num: 2\nfactories_type: [c6i.large, m6i.large]\nmax_duration: 1h\n"+extra))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPriceTableLive: with live_prices, the price list's price replaces
// the table's, a type the list lacks keeps the table's, the note says
// which, and the projection prices with it. Without live_prices nothing
// is asked.
func TestPriceTableLive(t *testing.T) {
	t.Parallel()
	shipped, _ := report.PricesIn("us-east-1")
	for _, typ := range []string{"t3.micro", "c6i.large", "m6i.large"} {
		if _, ok := shipped.OnDemand[typ]; !ok {
			t.Fatalf("the offline table has no %s: choose types it prices", typ)
		}
	}
	s, api := pricingFixture(t,
		fakepricing.Instance{Region: "us-east-1", Location: "US East (N. Virginia)", Type: "t3.micro", HourlyUSD: 1.5},
		fakepricing.Instance{Region: "us-east-1", Location: "US East (N. Virginia)", Type: "c6i.large", HourlyUSD: 2.25})
	var warnings []string
	warn := func(w string) { warnings = append(warnings, w) }
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

	if got := priceTable(context.Background(), api, nil, pricedCluster(t, ""), "us-east-1", now, warn); got != shipped || len(s.Calls()) != 0 {
		t.Fatalf("without live_prices: table %p (want the shipped %p), %d calls", got, shipped, len(s.Calls()))
	}
	c := pricedCluster(t, "live_prices: true\n")
	got := priceTable(context.Background(), api, nil, c, "us-east-1", now, warn)
	if len(warnings) != 0 || !got.Live {
		t.Fatalf("warnings %v, table %+v", warnings, got)
	}
	if got.OnDemand["t3.micro"] != 1.5 || got.OnDemand["c6i.large"] != 2.25 || got.OnDemand["m6i.large"] != shipped.OnDemand["m6i.large"] {
		t.Errorf("on-demand %v", got.OnDemand)
	}
	if !strings.Contains(got.Note, "m6i.large not in the price list, priced from the offline table of "+shipped.Date) {
		t.Errorf("note %q does not say which price is the table's", got.Note)
	}
	if shipped.OnDemand["t3.micro"] == 1.5 {
		t.Fatal("the shipped table was changed")
	}
	// The factories are priced on the dearest of their types: the live
	// c6i.large, far above the table's m6i.large.
	p := cost.ProjectWith(c, "us-east-1", got)
	if p.Source() != "AWS Price List API, live" || p.HourlyUSD != 1.5+2*2.25 {
		t.Errorf("projection source %q, hourly %v", p.Source(), p.HourlyUSD)
	}
}

// TestPriceTableDenied: a role that may not call pricing:GetProducts gets
// a warning naming the permission, and the offline table stands.
func TestPriceTableDenied(t *testing.T) {
	t.Parallel()
	s, api := pricingFixture(t)
	s.SetAccessDenied(true)
	var warnings []string
	got := priceTable(context.Background(), api, nil, pricedCluster(t, "live_prices: true\n"), "us-east-1", time.Now(),
		func(w string) { warnings = append(warnings, w) })
	shipped, _ := report.PricesIn("us-east-1")
	if got != shipped {
		t.Errorf("table %+v, want the shipped one", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "allow the role pricing:GetProducts") ||
		!strings.Contains(warnings[0], "the offline table of "+shipped.Date) {
		t.Errorf("warnings %q", warnings)
	}
}

// TestSpendLimitFromBudget: under max_cost_mode: expected, the run's spend
// limit lets the job go on until the cluster's cost so far, with the
// bounds of collecting and tearing down, reaches the budget (the input's
// over the file's); in the worst-case mode there is none.
func TestSpendLimitFromBudget(t *testing.T) {
	t.Parallel()
	x := &execution{loaded: &loadedFiles{cluster: pricedCluster(t, "max_cost: 10\nmax_cost_mode: expected\n")}}
	l := x.spendLimit("us-east-1", 0)
	if l == nil {
		t.Fatal("no spend limit under max_cost_mode: expected")
	}
	p := cost.Project(x.loaded.cluster, "us-east-1")
	b := x.loaded.cluster.TimeBudget()
	want := (time.Duration(10/p.HourlyUSD*float64(time.Hour)) - b.Collect - b.Teardown).Truncate(time.Second)
	if l.After != want || l.HourlyUSD != p.HourlyUSD || l.LimitUSD != 10 {
		t.Errorf("spend limit %+v, want after %s at $%v/h for $10", l, want, p.HourlyUSD)
	}
	x.maxCost = 20
	if l := x.spendLimit("us-east-1", 0); l == nil || l.LimitUSD != 20 || l.After <= want {
		t.Errorf("with the max-cost input 20: %+v", l)
	}
	x = &execution{loaded: &loadedFiles{cluster: pricedCluster(t, "max_cost: 10\n")}}
	if l := x.spendLimit("us-east-1", 0); l != nil {
		t.Errorf("a spend limit %+v in the worst-case mode", l)
	}
}

// TestVerdictOverBudget: a job stopped at the budget is its own verdict,
// with what the cluster had cost.
func TestVerdictOverBudget(t *testing.T) {
	t.Parallel()
	c := pricedCluster(t, "max_cost: 10\nmax_cost_mode: expected\n")
	v, reason := verdict(context.Background(), c, &run.Result{OverBudget: true, SpentUSD: 9.5, ExitStatus: -1},
		fmt.Errorf("job: %w", run.ErrOverBudget), func(s string) string { return s })
	if v != report.OverBudget || !strings.Contains(reason, "max_cost reached") || !strings.Contains(reason, "$9.50") {
		t.Errorf("verdict %s, %q", v, reason)
	}
	if v.Conclusion() != "failure" {
		t.Errorf("conclusion %q, want failure", v.Conclusion())
	}
}

// TestPriceTableSpot: for a spot cluster with live_prices, the expected
// case's spot prices are EC2's in effect now, and the note says so; when
// EC2 will not say them, a warning, and the offline table's stand.
func TestPriceTableSpot(t *testing.T) {
	t.Parallel()
	_, api := pricingFixture(t,
		fakepricing.Instance{Region: "us-east-1", Location: "US East (N. Virginia)", Type: "t3.micro", HourlyUSD: 0.0104})
	const key, secret = "AKIASPOTPRICES000001", "spot-secret"
	ec2srv := fakeec2.New(fakeec2.Options{Credentials: sigv4.StaticSource{key: secret},
		SpotPrices: map[string]float64{"t3.micro": 0.0033, "c6i.large": 0.031}})
	t.Cleanup(ec2srv.Close)
	hs := httptest.NewServer(ec2srv)
	t.Cleanup(hs.Close)
	spot := func(k string) *awsec2.Client {
		return awsec2.New(awsec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
			Credentials: credentials.NewStaticCredentialsProvider(k, secret, ""), Retryer: aws.NopRetryer{}})
	}
	c := pricedCluster(t, "spot: true\nlive_prices: true\n")
	var warnings []string
	warn := func(w string) { warnings = append(warnings, w) }
	got := priceTable(context.Background(), api, spot(key), c, "us-east-1", time.Now(), warn)
	if len(warnings) != 0 || got.Spot["t3.micro"] != 0.0033 || got.Spot["c6i.large"] != 0.031 || len(got.Spot) != 2 {
		t.Errorf("warnings %v, spot prices %v", warnings, got.Spot)
	}
	if !strings.Contains(got.Note, "spot prices (the expected case) read from EC2's DescribeSpotPriceHistory") {
		t.Errorf("note %q", got.Note)
	}
	shipped, _ := report.PricesIn("us-east-1")
	got = priceTable(context.Background(), api, spot("AKIAUNKNOWNKEY000000"), c, "us-east-1", time.Now(), warn)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "the expected case uses the offline table's spot prices") ||
		!maps.Equal(got.Spot, shipped.Spot) {
		t.Errorf("EC2 refusing: warnings %q, spot prices %v", warnings, got.Spot)
	}
}
