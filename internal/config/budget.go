package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Budget is what a run may cost: sear refuses, before anything is
// launched, a cluster whose worst case (package cost) exceeds it.
type Budget struct {
	// MaxCost is the most, in US dollars, the cluster's worst case may
	// cost; 0 means no limit. The action's max-cost input overrides it.
	MaxCost float64 `json:",omitempty"`
	// LivePrices is live_prices: price the cluster again, once the role's
	// credentials exist and before anything is launched, with the AWS
	// Price List API (pricing:GetProducts), instead of only the offline
	// table sear ships. The plan's policy asks for the permission only
	// when a cluster sets it.
	LivePrices bool `json:",omitempty"`
	// MaxCostMode is max_cost_mode: MaxCostWorst (the default) refuses
	// before launch a cluster whose worst case exceeds MaxCost;
	// MaxCostExpected refuses one whose expected case does, and stops the
	// run when what it has cost so far, with what collecting the outputs
	// and tearing down may add, reaches MaxCost.
	MaxCostMode string `json:",omitempty"`
}

// The max_cost_mode values.
const (
	MaxCostWorst    = "worst"
	MaxCostExpected = "expected"
)

// GuardsExpected says the budget holds the expected case before launch
// and stops the run at the limit, rather than holding the worst case.
func (b Budget) GuardsExpected() bool { return b.MaxCostMode == MaxCostExpected }

// maxMaxCost bounds max_cost to catch a slip (cents written as dollars,
// an extra zero) while leaving room for any real cluster: 256 of the
// largest GPU instances for a day cost far less.
const maxMaxCost = 1_000_000

// budget reads max_cost: a positive number of US dollars. "$20" and
// "20 USD" are refused with the number to write, since a string that
// happens to parse in one locale and not another would make a budget
// guard that silently guards nothing.
func (s *source) budget(fs map[string]field, c *Cluster) {
	if f, ok := fs["live_prices"]; ok {
		c.LivePrices, _ = s.boolean(f)
	}
	if f, ok := fs["max_cost_mode"]; ok {
		if v, ok := s.str(f); ok {
			switch v {
			case MaxCostWorst, MaxCostExpected:
				c.MaxCostMode = v
			default:
				s.errorAt(f.value, "max_cost_mode %q is not a mode: write max_cost_mode: worst (refuse a run whose worst case exceeds max_cost, the default) "+
					"or max_cost_mode: expected (refuse one whose expected case does, and stop the run when its cost reaches max_cost)", v)
			}
		}
	}
	f, ok := fs["max_cost"]
	if !ok {
		return
	}
	n, ok := s.scalar(f, "a number of US dollars")
	if !ok {
		return
	}
	if t := n.ShortTag(); t != "!!int" && t != "!!float" {
		hint := ""
		if v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(n.Value, "$"), "USD")), 64); err == nil {
			hint = fmt.Sprintf("; write it as a bare number of US dollars: max_cost: %s", strconv.FormatFloat(v, 'f', -1, 64))
		}
		s.errorAt(f.value, "max_cost must be a number of US dollars, not %s %q%s", describe(n), n.Value, hint)
		return
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		s.errorAt(f.value, "max_cost %q is not a number of US dollars; write it like max_cost: 25 or max_cost: 7.50", n.Value)
	case v <= 0:
		s.errorAt(f.value, "max_cost %s must be more than 0 US dollars; remove the field for no limit", n.Value)
	case v > maxMaxCost:
		s.errorAt(f.value, "max_cost %s is more than $%d: is it in cents? Give US dollars, or remove the field for no limit", n.Value, maxMaxCost)
	default:
		c.MaxCost = v
	}
}

// MaxCostError is err about the cluster's max_cost, at the field when the
// file gives it, else on the file as a whole (the limit came from the
// action's max-cost input).
func (c *Cluster) MaxCostError(msg string) *Error { return c.FieldError("max_cost", msg) }
