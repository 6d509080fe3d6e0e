package pricelist

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	fakepricing "github.com/sear-ci/sear/internal/testworld/pricing"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

const (
	testKey    = "AKIAPRICELISTTEST001"
	testSecret = "pricelist-secret"
)

func client(t *testing.T, s *fakepricing.Server) *pricing.Client {
	t.Helper()
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return pricing.New(pricing.Options{Region: EndpointRegion, BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, ""), Retryer: aws.NopRetryer{}})
}

func server(in ...fakepricing.Instance) *fakepricing.Server {
	return fakepricing.New(fakepricing.Options{Credentials: sigv4.StaticSource{testKey: testSecret}, Instances: in})
}

// TestFetch: the live table holds the price list's prices for the types
// asked, in the region asked (not another region's price for the same
// type), marked live and dated, and leaves out a type the list lacks.
func TestFetch(t *testing.T) {
	t.Parallel()
	s := server(
		fakepricing.Instance{Region: "eu-west-1", Location: "Europe (Ireland)", Type: "t3.micro", HourlyUSD: 0.0123},
		fakepricing.Instance{Region: "us-east-1", Location: "US East (N. Virginia)", Type: "t3.micro", HourlyUSD: 0.0104},
		fakepricing.Instance{Region: "eu-west-1", Location: "Europe (Ireland)", Type: "g5.xlarge", HourlyUSD: 1.123},
	)
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	tab, err := Fetch(context.Background(), client(t, s), "eu-west-1", []string{"t3.micro", "g5.xlarge", "t3.micro", "x9.huge"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !tab.Live || tab.Region != "eu-west-1" || tab.Date != "2026-12-07" || tab.SourceName() != "AWS Price List API, live" {
		t.Errorf("table %+v", tab)
	}
	want := map[string]float64{"t3.micro": 0.0123, "g5.xlarge": 1.123}
	if len(tab.OnDemand) != len(want) || tab.OnDemand["t3.micro"] != want["t3.micro"] || tab.OnDemand["g5.xlarge"] != want["g5.xlarge"] {
		t.Errorf("on-demand prices %v, want %v", tab.OnDemand, want)
	}
	if shipped, ok := report.PricesIn("eu-west-1"); ok && tab.Location != shipped.Location {
		t.Errorf("location %q, want the shipped table's %q", tab.Location, shipped.Location)
	}
	calls := s.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want one per distinct type", len(calls))
	}
	for _, c := range calls {
		f := c.Filters
		if f["regionCode"] != "eu-west-1" || f["operatingSystem"] != "Linux" || f["tenancy"] != "Shared" ||
			f["preInstalledSw"] != "NA" || f["capacitystatus"] != "Used" || f["operation"] != "RunInstances" {
			t.Errorf("filters %v do not single out the on-demand Linux product", f)
		}
	}
}

// TestFetchError: an API error comes back wrapped with the type and region
// it was pricing, for the caller to fall back on and say why.
func TestFetchError(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(server())
	t.Cleanup(hs.Close)
	c := pricing.New(pricing.Options{Region: EndpointRegion, BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAWRONGKEY00000000", testSecret, ""), Retryer: aws.NopRetryer{}})
	_, err := Fetch(context.Background(), c, "us-east-1", []string{"t3.micro"}, time.Now())
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("error %v, want the API's", err)
	}
	if want := "pricing t3.micro in us-east-1 with the AWS Price List API: "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error %q does not say what it was pricing", err)
	}
}

// TestOnDemandHourly: a document's hourly USD dimensions are read; other
// units and currencies are not prices per hour; a malformed price is an
// error, not a zero.
func TestOnDemandHourly(t *testing.T) {
	t.Parallel()
	doc := `{"terms":{"OnDemand":{"A.B":{"priceDimensions":{
		"A.B.C":{"unit":"Hrs","pricePerUnit":{"USD":"0.0416000000"}},
		"A.B.D":{"unit":"Quantity","pricePerUnit":{"USD":"100"}},
		"A.B.E":{"unit":"Hrs","pricePerUnit":{"CNY":"0.3"}}}}}}}`
	got, err := onDemandHourly(doc)
	if err != nil || len(got) != 1 || got[0] != 0.0416 {
		t.Errorf("onDemandHourly = %v, %v", got, err)
	}
	for _, bad := range []string{`{"terms":{"OnDemand":{"A":{"priceDimensions":{"B":{"unit":"Hrs","pricePerUnit":{"USD":"free"}}}}}}}`,
		`{"terms":{"OnDemand":{"A":{"priceDimensions":{"B":{"unit":"Hrs","pricePerUnit":{"USD":"-1"}}}}}}}`, `not json`} {
		if _, err := onDemandHourly(bad); err == nil {
			t.Errorf("onDemandHourly(%s) took it", bad)
		}
	}
}

// FuzzOnDemandHourly: whatever the price list sends, the parser returns
// prices that are numbers at least zero, or an error; it never panics.
func FuzzOnDemandHourly(f *testing.F) {
	f.Add(`{"terms":{"OnDemand":{"A":{"priceDimensions":{"B":{"unit":"Hrs","pricePerUnit":{"USD":"0.1"}}}}}}}`)
	f.Add(`{"terms":{"OnDemand":null}}`)
	f.Add(`{"terms":{"OnDemand":{"A":{"priceDimensions":{"B":{"unit":"Hrs","pricePerUnit":{"USD":"NaN"}}}}}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		prices, err := onDemandHourly(doc)
		for _, p := range prices {
			if err == nil && !(p >= 0) {
				t.Errorf("price %v from %q", p, doc)
			}
		}
	})
}

// TestSpotPrices: for each type, the dearest zone's Spot price in effect
// now, read from EC2; a type without Spot prices is left out.
func TestSpotPrices(t *testing.T) {
	t.Parallel()
	s := fakeec2.New(fakeec2.Options{Region: "eu-west-1", Credentials: sigv4.StaticSource{testKey: testSecret},
		SpotPrices: map[string]float64{"t3.micro": 0.004, "g5.xlarge": 0.41}})
	t.Cleanup(s.Close)
	s.SetSpotPrice("g5.xlarge", "eu-west-1c", 0.52)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c := ec2.New(ec2.Options{Region: "eu-west-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, ""), Retryer: aws.NopRetryer{}})
	got, err := SpotPrices(context.Background(), c, []string{"g5.xlarge", "t3.micro", "m5.large", "g5.xlarge"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["g5.xlarge"] != 0.52 || got["t3.micro"] != 0.004 {
		t.Errorf("spot prices %v, want g5.xlarge's dearest zone (0.52) and t3.micro's", got)
	}
}
