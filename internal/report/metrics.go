package report

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Metrics are a run's metrics.json: a name to a number or to a list of
// numbers (a curve).
type Metrics map[string]Metric

// Metric is one number, or one curve when Series is set.
type Metric struct {
	Value  *float64
	Series []float64
}

// Value is a metric holding one number.
func Value(v float64) Metric { return Metric{Value: &v} }

// Series is a metric holding a curve.
func Series(v ...float64) Metric { return Metric{Series: v} }

// Last is the metric's value, or its curve's last point.
func (m Metric) Last() (float64, bool) {
	switch {
	case m.Value != nil:
		return *m.Value, true
	case len(m.Series) > 0:
		return m.Series[len(m.Series)-1], true
	}
	return 0, false
}

// Names lists the metric names in order.
func (m Metrics) Names() []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lasts maps each metric with a value to that value (a curve's last point).
func (m Metrics) Lasts() map[string]float64 {
	out := make(map[string]float64, len(m))
	for name, metric := range m {
		if v, ok := metric.Last(); ok {
			out[name] = v
		}
	}
	return out
}

// delta is the change of a metric against the base run.
type delta struct {
	base, diff float64
	pct        float64
	hasPct     bool
}

func deltaOf(now, base float64) delta {
	d := delta{base: base, diff: now - base}
	if base != 0 && !math.IsInf(base, 0) && !math.IsNaN(base) {
		d.pct, d.hasPct = d.diff/math.Abs(base)*100, true
	}
	return d
}

// String is "+0.012 (+1.33%)"; the sign is always shown because the
// reader scans the column for it. Whether up is good depends on the metric
// (accuracy or loss), which sear does not know, so no colour is implied.
func (d delta) String() string {
	if d.diff == 0 {
		return "±0"
	}
	s := signed(number(roundSig(d.diff, 3)))
	if d.hasPct {
		s += " (" + signed(strconv.FormatFloat(d.pct, 'f', pctDigits(d.pct), 64)) + "%)"
	}
	return s
}

// pctDigits keeps small changes visible: 0.04% is not rounded to 0%.
func pctDigits(p float64) int {
	switch a := math.Abs(p); {
	case a >= 10:
		return 0
	case a >= 1:
		return 1
	case a >= 0.01:
		return 2
	}
	return 4
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return s
	}
	return "+" + s
}

// number formats a metric for people: six significant digits, and plain
// decimals for everything between 1e-4 and 1e9 so that a column of
// accuracies does not mix "0.0001" and "1e-05" needlessly.
func number(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64) // counts and steps, exactly
	}
	s := strconv.FormatFloat(v, 'g', 6, 64)
	if a := math.Abs(v); strings.Contains(s, "e") && a >= 1e-4 && a < 1e9 {
		r, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(r, 'f', -1, 64)
	}
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
