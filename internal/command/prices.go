package command

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/cost"
	"github.com/sear-ci/sear/internal/pricelist"
	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/run"
)

// priceTable is the table cluster c is priced with in region once the
// role's credentials exist: the offline one sear ships, or, when c sets
// live_prices, the AWS Price List API's on-demand prices and, for a spot
// cluster, EC2's Spot prices in effect now (which only the expected case
// reads). A type the price list lacks keeps the offline table's price, as
// do the spot prices when EC2 will not say them; the table's note says
// which. When the Price List API refuses (most often: the role may not
// call pricing:GetProducts), warn says so and the offline table stands:
// live prices refine the budget guard, they are never what stops a run.
func priceTable(ctx context.Context, api pricelist.API, spot pricelist.SpotAPI, c *config.Cluster, region string, now time.Time, warn func(string)) *report.PriceTable {
	shipped, _ := report.PricesIn(region)
	if c.Kind != config.AWS || !c.LivePrices {
		return shipped
	}
	types := slices.Concat(c.OrchestratorTypeChoices(), c.FactoriesTypeChoices())
	live, err := pricelist.Fetch(ctx, api, region, types, now)
	if err != nil {
		fallback := "no prices at all, so a max_cost cannot be checked"
		if shipped != nil {
			fallback = "the offline table of " + shipped.Date
		}
		warn(fmt.Sprintf("%s sets live_prices, but %v%s; the cost and the budget use %s", c.File, err, deniedAdvice(err, "pricing:GetProducts"), fallback))
		return shipped
	}
	var fromTable []string
	if shipped != nil {
		live.Spot = maps.Clone(shipped.Spot)
		for _, typ := range types {
			if _, ok := live.OnDemand[typ]; ok {
				continue
			}
			if h, ok := shipped.OnDemand[typ]; ok {
				live.OnDemand[typ] = h
				fromTable = append(fromTable, typ)
			}
		}
	}
	live.Note = "on-demand prices read from the AWS Price List API on " + live.Date
	if len(fromTable) > 0 {
		slices.Sort(fromTable)
		live.Note += fmt.Sprintf("; %s not in the price list, priced from the offline table of %s", strings.Join(slices.Compact(fromTable), ", "), shipped.Date)
	}
	if !c.Spot {
		return live
	}
	prices, err := pricelist.SpotPrices(ctx, spot, types, now)
	switch {
	case err != nil:
		warn(fmt.Sprintf("%s sets live_prices, but %v%s; the expected case uses the offline table's spot prices", c.File, err,
			deniedAdvice(err, "ec2:DescribeSpotPriceHistory")))
		if shipped != nil && len(shipped.Spot) > 0 {
			live.Note += "; spot prices (the expected case) from the offline table of " + shipped.Date
		}
	default:
		// EC2's over the table's: a type EC2 has no Spot price for keeps
		// the table's.
		if live.Spot == nil {
			live.Spot = map[string]float64{}
		}
		maps.Copy(live.Spot, prices)
		live.Note += "; spot prices (the expected case) read from EC2's DescribeSpotPriceHistory, the dearest zone's"
	}
	return live
}

// deniedAdvice is what to allow when err is an AWS refusal for lack of
// permission, "" for any other error.
func deniedAdvice(err error, action string) string {
	if ec2.Denied(err) {
		return " (allow the role " + action + ": sear plan prints the policy with it)"
	}
	return ""
}

// reprice prices the cluster again when it sets live_prices, once the
// role's credentials (cfg) exist and before anything is launched: the
// budget guard refuses a run over its limit at the live prices, as it did
// at the table's before any AWS call, and the check run's projection says
// which prices it used. A warning goes to the log now and to the report.
func (x *execution) reprice(ctx context.Context, cfg aws.Config) error {
	c := x.loaded.cluster
	if c.Kind != config.AWS || !c.LivePrices {
		return nil
	}
	warn := func(w string) {
		fmt.Fprintf(x.out, "sear: warning: %s\n", w)
		x.tracker.update(func(r *report.Run) { r.Warnings = append(r.Warnings, w) })
	}
	table := priceTable(ctx, pricingClient(cfg), awsec2.NewFromConfig(cfg), c, cfg.Region, time.Now(), warn)
	if err := checkBudgetWith(c, cfg.Region, table, x.maxCost); err != nil {
		return err
	}
	if table != nil && table.Live {
		fmt.Fprintf(x.out, "sear: priced with the AWS Price List API: %s\n", table.Note)
	}
	x.prices = table
	x.tracker.update(func(r *report.Run) { r.Projected = projectionWith(c, cfg.Region, table, x.maxCost) })
	return nil
}

// spendLimit is the run's spend limit under max_cost_mode: expected: the
// job stops when the cluster's cost so far, with what collecting the
// outputs and tearing down may add at most, reaches the budget; nil in
// the worst-case mode, without a budget, or on this machine.
func (x *execution) spendLimit(region string, spentBefore time.Duration) *run.SpendLimit {
	c := x.loaded.cluster
	p := cost.Project(c, region)
	if x.prices != nil {
		p = cost.ProjectWith(c, region, x.prices)
	}
	limit := cost.ClusterLimit(c, x.maxCost)
	after, ok := cost.StopAfter(c, p, limit)
	if !ok {
		return nil
	}
	after -= spentBefore
	return &run.SpendLimit{After: after, HourlyUSD: p.HourlyUSD, LimitUSD: limit.USD}
}

// pricingClient is the Price List API's client for cfg's credentials. The
// API has endpoints in three regions only and prices every region from
// each, so the client is for pricelist.EndpointRegion whatever region the
// cluster runs in.
func pricingClient(cfg aws.Config) *pricing.Client {
	return pricing.NewFromConfig(cfg, func(o *pricing.Options) { o.Region = pricelist.EndpointRegion })
}
