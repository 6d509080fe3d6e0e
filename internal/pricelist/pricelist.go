// Package pricelist reads EC2's instance prices at run time, for a cluster
// that opts in with live_prices: true: the on-demand ones from the AWS
// Price List Query API (GetProducts, with pricing:GetProducts), and for a
// spot cluster the Spot prices from EC2's DescribeSpotPriceHistory (with
// ec2:DescribeSpotPriceHistory). The
// result is a report.PriceTable like the offline one sear ships, marked
// Live, so the projection, the budget guard and the reports use it
// unchanged and say where the prices came from.
//
// The Query API has endpoints in three regions only and prices every
// region from each ("Using the AWS Price List Query API", AWS Billing User
// Guide), so the client is for us-east-1 whatever region the cluster runs
// in, and the region priced is a filter (the regionCode attribute). The
// filters pin the product the on-demand table holds: Linux, shared
// tenancy, no pre-installed software, capacity status Used (not a
// capacity reservation's), the RunInstances operation.
package pricelist

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"github.com/sear-ci/sear/internal/report"
)

// EndpointRegion is the Query API endpoint sear calls.
const EndpointRegion = "us-east-1"

// API is the part of the Pricing client Fetch calls.
type API interface {
	GetProducts(ctx context.Context, in *pricing.GetProductsInput, opts ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
}

// Fetch prices instanceTypes in region. A type the price list has no
// product for is left out of the table (the projection then lists it as
// unpriced, as with the offline table); an API error is returned as is,
// for the caller to fall back on the offline table and say why.
func Fetch(ctx context.Context, api API, region string, instanceTypes []string, now time.Time) (*report.PriceTable, error) {
	t := &report.PriceTable{Region: region, Date: now.UTC().Format(time.DateOnly), Currency: "USD",
		Unit:   "per instance-hour; Linux; shared tenancy; on-demand",
		Source: "AWS Price List Query API (GetProducts)", Live: true, OnDemand: map[string]float64{}}
	if shipped, ok := report.PricesIn(region); ok {
		t.Location = shipped.Location
	}
	seen := map[string]bool{}
	for _, typ := range instanceTypes {
		if seen[typ] {
			continue
		}
		seen[typ] = true
		h, ok, err := hourly(ctx, api, region, typ)
		if err != nil {
			return nil, fmt.Errorf("pricing %s in %s with the AWS Price List API: %w", typ, region, err)
		}
		if ok {
			t.OnDemand[typ] = h
		}
	}
	return t, nil
}

// filters are the product attributes that single out typ's on-demand
// Linux price in region.
func filters(region, typ string) []types.Filter {
	kv := [][2]string{
		{"instanceType", typ}, {"regionCode", region}, {"operatingSystem", "Linux"}, {"tenancy", "Shared"},
		{"preInstalledSw", "NA"}, {"capacitystatus", "Used"}, {"operation", "RunInstances"},
	}
	out := make([]types.Filter, len(kv))
	for i, f := range kv {
		out[i] = types.Filter{Type: types.FilterTypeTermMatch, Field: aws.String(f[0]), Value: aws.String(f[1])}
	}
	return out
}

// hourly is typ's on-demand price per hour in region; false when the
// price list has no such product. Should the filters match several
// products (the price list adds attributes over time), the dearest
// stands, since the table feeds a worst case.
func hourly(ctx context.Context, api API, region, typ string) (float64, bool, error) {
	in := &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), Filters: filters(region, typ),
		FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(100)}
	var prices []float64
	p := pricing.NewGetProductsPaginator(api, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, false, err
		}
		for _, doc := range out.PriceList {
			h, err := onDemandHourly(doc)
			if err != nil {
				return 0, false, err
			}
			prices = append(prices, h...)
		}
	}
	if len(prices) == 0 {
		return 0, false, nil
	}
	return slices.Max(prices), true, nil
}

// priceDocument is the part of a price list product sear reads.
type priceDocument struct {
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string
				PricePerUnit map[string]string
			}
		}
	}
}

// onDemandHourly reads the hourly USD prices of a product document's
// on-demand terms.
func onDemandHourly(doc string) ([]float64, error) {
	var d priceDocument
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("a product of the price list is not the JSON expected: %w", err)
	}
	var out []float64
	for _, term := range d.Terms.OnDemand {
		for _, dim := range term.PriceDimensions {
			usd, ok := dim.PricePerUnit["USD"]
			if dim.Unit != "Hrs" || !ok {
				continue
			}
			v, err := strconv.ParseFloat(usd, 64)
			// !(v >= 0) also refuses NaN, which ParseFloat accepts.
			if err != nil || !(v >= 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("a product of the price list has the price %q, not an amount in USD", usd)
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// SpotAPI is the part of the EC2 client SpotPrices calls.
type SpotAPI interface {
	DescribeSpotPriceHistory(ctx context.Context, in *ec2.DescribeSpotPriceHistoryInput, opts ...func(*ec2.Options)) (*ec2.DescribeSpotPriceHistoryOutput, error)
}

// SpotPrices are the Spot prices in effect now of instanceTypes, Linux,
// in the region api is for: for each type the dearest of its zones', as
// the cluster may land in any of them. A start and end time of now make
// DescribeSpotPriceHistory return just the price in effect in each zone
// ("If you specify a start and end time, the operation returns the prices
// of the instance types within that time range. It also returns the last
// price change before the start time", EC2 API Reference). A type with no
// price anywhere is left out.
func SpotPrices(ctx context.Context, api SpotAPI, instanceTypes []string, now time.Time) (map[string]float64, error) {
	out := map[string]float64{}
	if len(instanceTypes) == 0 {
		return out, nil
	}
	its := make([]ec2types.InstanceType, 0, len(instanceTypes))
	for _, t := range slices.Compact(slices.Sorted(slices.Values(instanceTypes))) {
		its = append(its, ec2types.InstanceType(t))
	}
	in := &ec2.DescribeSpotPriceHistoryInput{InstanceTypes: its, ProductDescriptions: []string{"Linux/UNIX"},
		StartTime: aws.Time(now), EndTime: aws.Time(now)}
	p := ec2.NewDescribeSpotPriceHistoryPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the spot prices of %v: %w", instanceTypes, err)
		}
		for _, sp := range page.SpotPriceHistory {
			v, err := strconv.ParseFloat(aws.ToString(sp.SpotPrice), 64)
			if err != nil || !(v >= 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("EC2 gave %s the spot price %q, not an amount in USD", sp.InstanceType, aws.ToString(sp.SpotPrice))
			}
			if t := string(sp.InstanceType); v > out[t] {
				out[t] = v
			}
		}
	}
	return out, nil
}
