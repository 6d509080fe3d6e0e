package world

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/sear-ci/sear/internal/pricelist"
	"github.com/sear-ci/sear/internal/report"
)

// TestPricingOnEC2Endpoint: with the world's environment and the job's STS
// credentials, sear's price reader gets the offline table's price for a
// region other than the world's (the Query API prices every region from
// us-east-1), and a price a test sets replaces it.
func TestPricingOnEC2Endpoint(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	if env["AWS_ENDPOINT_URL_PRICING"] == "" || env["AWS_ENDPOINT_URL_PRICING"] != env["AWS_ENDPOINT_URL_EC2"] {
		t.Fatalf("AWS_ENDPOINT_URL_PRICING %q, want EC2's %q", env["AWS_ENDPOINT_URL_PRICING"], env["AWS_ENDPOINT_URL_EC2"])
	}
	c := awspricing.New(awspricing.Options{Region: pricelist.EndpointRegion, BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_PRICING"]),
		Credentials: credentials.StaticCredentialsProvider{Value: assume(t, env)}})
	table, _ := report.PricesIn("eu-west-1")
	ctx := context.Background()
	got, err := pricelist.Fetch(ctx, c, "eu-west-1", []string{"t3.micro"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.OnDemand["t3.micro"] != table.OnDemand["t3.micro"] {
		t.Errorf("t3.micro in eu-west-1: %v, want the table's %v", got.OnDemand["t3.micro"], table.OnDemand["t3.micro"])
	}
	w.Pricing().SetPrice("eu-west-1", table.Location, "t3.micro", 9.75)
	if got, err = pricelist.Fetch(ctx, c, "eu-west-1", []string{"t3.micro"}, time.Now()); err != nil || got.OnDemand["t3.micro"] != 9.75 {
		t.Errorf("after SetPrice: %v, %v", got, err)
	}
	if n := len(w.State().Calls.Pricing); n != 2 {
		t.Errorf("%d pricing calls in the state, want 2", n)
	}
}
