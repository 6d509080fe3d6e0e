package command

import (
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/cost"
	"github.com/sear-ci/sear/internal/report"
)

// checkBudget refuses a cluster whose worst case in region exceeds its
// budget (override, the action's max-cost input, else the file's
// max_cost), before anything is launched or created: the error is a
// *config.Error at max_cost, which the action annotates on the file.
func checkBudget(c *config.Cluster, region string, override float64) error {
	return cost.Check(c, cost.Project(c, region), cost.ClusterLimit(c, override))
}

// checkBudgetWith is checkBudget with the prices of table.
func checkBudgetWith(c *config.Cluster, region string, table *report.PriceTable, override float64) error {
	return cost.Check(c, cost.ProjectWith(c, region, table), cost.ClusterLimit(c, override))
}

// projection is what the report says the run may cost at most while it
// is under way; nil for a cluster on this machine.
func projection(c *config.Cluster, region string, override float64) *report.Projection {
	return projected(c, cost.Project(c, region), region, override)
}

// projectionWith is projection with the prices of table.
func projectionWith(c *config.Cluster, region string, table *report.PriceTable, override float64) *report.Projection {
	return projected(c, cost.ProjectWith(c, region, table), region, override)
}

func projected(c *config.Cluster, p cost.Projection, region string, override float64) *report.Projection {
	if p.Local {
		return nil
	}
	return &report.Projection{AtMostUSD: p.WorstUSD, Complete: p.Complete(), MaxCostUSD: cost.ClusterLimit(c, override).USD,
		Region: region, Source: p.Source()}
}
