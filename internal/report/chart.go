package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// chartPoints bounds the points of one chart: Mermaid draws a few hundred
// points no better than a hundred, and every point costs characters
// against GitHub's limits.
const chartPoints = 100

// chart is a Mermaid xychart-beta line chart of a curve, which GitHub
// renders in comments, check runs and step summaries alike. It returns ""
// for a curve with fewer than two finite points: there is nothing to draw.
func chart(name string, series []float64) string {
	idx, ys := sample(series, chartPoints)
	if len(ys) < 2 {
		return ""
	}
	lo, hi := bounds(ys)
	lo, hi, axisDec, dataDec := axis(lo, hi)
	var b strings.Builder
	b.WriteString("xychart-beta\n")
	fmt.Fprintf(&b, "    title \"%s\"\n", mermaidString(name))
	fmt.Fprintf(&b, "    x-axis \"step\" %d --> %d\n", idx[0]+1, idx[len(idx)-1]+1)
	fmt.Fprintf(&b, "    y-axis %s --> %s\n", fixed(lo, axisDec), fixed(hi, axisDec))
	b.WriteString("    line [")
	for i, y := range ys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(fixed(y, dataDec))
	}
	b.WriteString("]\n")
	return fenced("mermaid", b.String())
}

// sample picks at most n finite points of series, evenly spread and always
// keeping the first and the last, with their indexes in series. Non-finite
// points are dropped: Mermaid has no spelling for them.
func sample(series []float64, n int) ([]int, []float64) {
	var idx []int
	for i, v := range series {
		if finite(v) {
			idx = append(idx, i)
		}
	}
	if len(idx) > n {
		picked := make([]int, n)
		for k := range n {
			picked[k] = idx[int(math.Round(float64(k)*float64(len(idx)-1)/float64(n-1)))]
		}
		idx = picked
	}
	ys := make([]float64, len(idx))
	for k, i := range idx {
		ys[k] = series[i]
	}
	return idx, ys
}

// bounds is the y range with a margin, so that the line does not run along
// the chart's frame, and a visible band around a flat line.
func bounds(ys []float64) (float64, float64) {
	lo, hi := ys[0], ys[0]
	for _, y := range ys {
		lo, hi = min(lo, y), max(hi, y)
	}
	pad := (hi - lo) * 0.05
	if pad == 0 {
		pad = math.Max(math.Abs(lo)*0.1, 1)
	}
	return lo - pad, hi + pad
}

// axis rounds the y range out to a round step a tenth of its order of
// magnitude (0.14..2.41 becomes 0.1..2.5), and says how many decimals the
// axis and the data need: the data get three more than the range's order,
// a resolution of a thousandth of the chart's height, more than its pixels.
func axis(lo, hi float64) (nlo, nhi float64, axisDec, dataDec int) {
	order := math.Floor(math.Log10(hi - lo))
	step := math.Pow(10, order-1)
	nlo, nhi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	return nlo, nhi, max(0, int(1-order)), max(0, int(3-order))
}

// fixed writes v with at most dec decimals and no exponent, which is what
// Mermaid's lexer reads: [+-]?(\d+(\.\d+)?|\.\d+) (xychart.jison);
// "1e-05" would not parse.
func fixed(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// mermaidString is s as the text of a quoted Mermaid string, which ends at
// the next double quote and at a line end (xychart.jison: <string>[^"]*).
func mermaidString(s string) string {
	s = strings.ReplaceAll(oneLine(s), `"`, "'")
	return clip(s, 80)
}

// sparkBars are the eight block heights of a sparkline.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkline is a curve in at most width characters, for a table cell:
// it shows the trend at a glance where the chart below shows the values.
func sparkline(series []float64, width int) string {
	_, ys := sample(series, width)
	if len(ys) < 2 {
		return ""
	}
	lo, hi := ys[0], ys[0]
	for _, y := range ys {
		lo, hi = min(lo, y), max(hi, y)
	}
	out := make([]rune, len(ys))
	for i, y := range ys {
		level := 0
		if hi > lo {
			level = int(math.Round((y - lo) / (hi - lo) * float64(len(sparkBars)-1)))
		}
		out[i] = sparkBars[level]
	}
	return string(out)
}
