package fakeec2

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestDescribeSpotPriceHistory: the SDK reads the price in effect now in
// each zone for the types asked, Linux/UNIX only; a zone's own price, set
// later, replaces the seeded one there; another product has no history;
// the API Reference's bounds are held.
func TestDescribeSpotPriceHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.SpotPrices = map[string]float64{"t3.micro": 0.0031, "g5.xlarge": 0.4} })
	f.srv.SetSpotPrice("g5.xlarge", testRegion+"b", 0.6)
	ctx := context.Background()
	now := time.Now().UTC()
	out, err := f.client.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{
		InstanceTypes: []types.InstanceType{"g5.xlarge"}, ProductDescriptions: []string{"Linux/UNIX"},
		StartTime: aws.Time(now), EndTime: aws.Time(now.Add(time.Second))})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range out.SpotPriceHistory {
		if p.InstanceType != "g5.xlarge" || p.ProductDescription != "Linux/UNIX" || p.Timestamp == nil {
			t.Errorf("price %+v", p)
		}
		got[aws.ToString(p.AvailabilityZone)] = aws.ToString(p.SpotPrice)
	}
	want := map[string]string{testRegion + "a": "0.400000", testRegion + "b": "0.600000", testRegion + "c": "0.400000"}
	if len(got) != len(want) {
		t.Errorf("prices %v, want %v", got, want)
	}
	for az, p := range want {
		if got[az] != p {
			t.Errorf("%s: %q, want %q", az, got[az], p)
		}
	}
	out, err = f.client.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{ProductDescriptions: []string{"Windows"}})
	if err != nil || len(out.SpotPriceHistory) != 0 {
		t.Errorf("Windows: %v, %+v", err, out.SpotPriceHistory)
	}
	out, err = f.client.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{
		Filters: []types.Filter{{Name: aws.String("availability-zone"), Values: []string{testRegion + "c"}}}})
	if err != nil || len(out.SpotPriceHistory) != 2 {
		t.Errorf("filtered by zone: %v, %d prices, want t3.micro's and g5.xlarge's", err, len(out.SpotPriceHistory))
	}
	_, err = f.client.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{MaxResults: aws.Int32(1)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = f.client.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))})
	wantCode(t, err, "InvalidParameterValue")
}

// TestDescribeSpotPriceHistoryCLI: botocore reads the same history.
func TestDescribeSpotPriceHistoryCLI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.SpotPrices = map[string]float64{"c5.large": 0.0321} })
	var out struct {
		SpotPriceHistory []struct {
			AvailabilityZone, InstanceType, ProductDescription, SpotPrice string
		}
	}
	newAWSCLI(t, f.http.URL).run(t, &out, "describe-spot-price-history", "--instance-types", "c5.large",
		"--product-descriptions", "Linux/UNIX", "--availability-zone", testRegion+"a")
	if len(out.SpotPriceHistory) != 1 || out.SpotPriceHistory[0].SpotPrice != "0.032100" || out.SpotPriceHistory[0].InstanceType != "c5.large" {
		t.Errorf("aws ec2 describe-spot-price-history: %+v", out.SpotPriceHistory)
	}
}
