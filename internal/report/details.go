package report

import (
	"fmt"
	"slices"
	"strings"
)

// sparkWidth is a sparkline's width in a metrics table cell.
const sparkWidth = 16

// metricsTable shows every metric's value and, where a base run is known,
// its change against it. Metrics the base had and this run lacks are
// listed too: a metric that disappeared is news to a reviewer.
var metricsTable = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	r := ctx.run
	names := metricNames(r)
	if len(names) == 0 {
		// Only a success: a failed job's missing metrics are no news.
		if r.Verdict == Success {
			b.WriteString("\n_No metrics: the job wrote no `metrics.json` in `$SEAR_OUTPUT_DIR`._\n")
		}
		return
	}
	curves := hasCurves(r.Metrics)
	head := []string{"Metric", "Value"}
	if r.Base != nil {
		head = append(head, "Base "+link(code(shortSHA(orDash(r.Base.Commit))), r.Base.URL), "Change")
	}
	if curves {
		head = append(head, "Curve")
	}
	b.WriteString("\n#### Metrics\n\n")
	writeRow(b, head...)
	align := make([]string, len(head))
	for i := range align {
		align[i] = "---:"
	}
	align[0] = "---"
	if curves {
		align[len(align)-1] = "---"
	}
	writeRow(b, align...)
	shown := min(len(names), sh.rows)
	for _, name := range names[:shown] {
		writeRow(b, metricRow(ctx, name, curves)...)
	}
	if shown < len(names) {
		ctx.cutNote(b, "metrics", shown, len(names))
	}
}}

// metricNames are this run's metrics and the base's, in order.
func metricNames(r *Run) []string {
	names := r.Metrics.Names()
	if r.Base != nil {
		for _, n := range r.Base.Metrics.Names() {
			if _, ok := r.Metrics[n]; !ok {
				names = append(names, n)
			}
		}
		slices.Sort(names)
	}
	return names
}

func metricRow(ctx *render, name string, curves bool) []string {
	r := ctx.run
	m, here := r.Metrics[name]
	v, hasV := m.Last()
	row := []string{code(clip(ctx.shown(name), 100)), "—"}
	if hasV {
		row[1] = number(v)
	}
	if r.Base != nil {
		bv, hasB := r.Base.Metrics[name].Last()
		switch {
		case !here:
			row = append(row, number(bv), "missing in this run")
		case !hasB:
			row = append(row, "—", "new")
		case hasV:
			row = append(row, number(bv), deltaOf(v, bv).String())
		default:
			row = append(row, number(bv), "—")
		}
	}
	if curves {
		cell := ""
		if len(m.Series) > 0 {
			cell = strings.TrimSpace(sparkline(m.Series, sparkWidth) + " " + plural(len(m.Series), "point", "points"))
		}
		row = append(row, cell)
	}
	return row
}

func hasCurves(m Metrics) bool {
	for _, metric := range m {
		if len(metric.Series) > 0 {
			return true
		}
	}
	return false
}

func writeRow(b *strings.Builder, cells ...string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// curves draws each metric given as a list as a Mermaid line chart.
var curves = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	charts := ctx.charts()
	if len(charts) == 0 {
		return
	}
	b.WriteString("\n#### Curves\n")
	shown := min(len(charts), sh.charts)
	for _, c := range charts[:shown] {
		b.WriteString("\n" + c)
	}
	if shown < len(charts) {
		ctx.cutNote(b, "curves", shown, len(charts))
	}
}}

// clusterAndCost shows the nodes by role, type and market, with the
// estimated cost of each and where the prices come from.
var clusterAndCost = section{write: func(b *strings.Builder, ctx *render, _ *shape) {
	r := ctx.run
	if len(r.Nodes) == 0 {
		return
	}
	c := r.Cost()
	b.WriteString("\n#### Cluster and cost\n\n")
	if c.Local {
		fmt.Fprintf(b, "%s on this machine: no cloud cost.\n", plural(len(r.Nodes), "local node", "local nodes"))
		return
	}
	writeRow(b, "Role", "Nodes", "Instance type", "Market", "Billed time", "Price / hour", "Est. cost")
	writeRow(b, "---", "---:", "---", "---", "---:", "---:", "---:")
	nodes := 0
	for _, l := range c.Lines {
		nodes += l.Nodes
		writeRow(b, costRow(l)...)
	}
	writeRow(b, "**Total**", fmt.Sprint(nodes), "", "", "", "", "**"+totalCost(c)+"**")
	b.WriteString("\n" + priceNote(r, c) + "\n")
}}

func costRow(l CostLine) []string {
	market, hourly, cost := "on-demand", "no price", "unknown"
	if l.Spot {
		market = "spot"
	}
	if l.Known {
		bound := ""
		if l.Capped {
			bound = "≤ "
		}
		hourly = bound + fmt.Sprintf("$%.4g", l.Hourly)
		cost = bound + usd(l.USD)
	}
	return []string{text(l.Role), fmt.Sprint(l.Nodes), code(l.Type), market, duration(l.Billed), hourly, cost}
}

func totalCost(c Cost) string {
	if !c.Complete() {
		return costAmount(c) + " + unknown"
	}
	return costAmount(c)
}

// priceNote says where the prices come from and how far to trust them.
func priceNote(r *Run, c Cost) string {
	t := c.Table
	notes := []string{fmt.Sprintf("Estimated from sear's price table: %s on-demand list prices of %s (%s), "+
		"per-second billing with a 60-second minimum per node.", t.Region, t.Date, link("source", t.Source))}
	if c.UpperBound {
		notes = append(notes, "Spot nodes are counted at the on-demand price, the most spot capacity is billed by default.")
	}
	if len(c.Unknown) > 0 {
		notes = append(notes, "The table has no price for "+codeList(c.Unknown)+": those nodes are not counted.")
	}
	if r.Region != "" && r.Region != t.Region {
		notes = append(notes, fmt.Sprintf("This cluster ran in %s, where prices differ.", code(r.Region)))
	}
	return "<sub>" + strings.Join(notes, " ") + "</sub>"
}

// phases lists each step with its start, duration and result; the comment
// folds it away, as a reviewer needs it only when something went wrong.
func phases(folded bool) section {
	return section{write: func(b *strings.Builder, ctx *render, sh *shape) {
		ps := ctx.run.Phases
		if len(ps) == 0 {
			return
		}
		if folded {
			fmt.Fprintf(b, "\n<details><summary>%s</summary>\n\n", phasesSummary(ctx.run))
		} else {
			b.WriteString("\n#### Phases\n\n")
		}
		writeRow(b, "Phase", "Started", "Duration", "Result")
		writeRow(b, "---", "---:", "---:", "---")
		shown := min(len(ps), sh.items)
		for _, p := range ps[:shown] {
			writeRow(b, phaseRow(ctx.run, p)...)
		}
		if shown < len(ps) {
			ctx.cutNote(b, "phases", shown, len(ps))
		}
		if folded {
			b.WriteString("\n</details>\n")
		}
	}}
}

func phasesSummary(r *Run) string {
	failed := 0
	for _, p := range r.Phases {
		if p.Err != "" {
			failed++
		}
	}
	s := "Phases: " + plural(len(r.Phases), "step", "steps")
	if failed > 0 {
		s += ", " + fmt.Sprint(failed) + " failed"
	}
	return s
}

func phaseRow(r *Run, p Phase) []string {
	name := text(clip(p.Name, 100))
	if lower := strings.ToLower(p.Name); p.Cleanup && !strings.Contains(lower, "teardown") && !strings.Contains(lower, "cleanup") {
		name += " (cleanup)"
	}
	started := ""
	if !p.Start.IsZero() && !r.Started.IsZero() {
		started = "+" + duration(p.Start.Sub(r.Started))
	}
	var d, result string
	switch {
	case p.Running:
		d, result = "", "⏳ running"
	case p.Err != "":
		d, result = duration(p.Duration), "❌ "+code(clip(p.Err, 500))
	default:
		d, result = duration(p.Duration), "✓"
	}
	return []string{name, started, d, result}
}

// teardown says what was deleted and, for what was not, why and the
// command that deletes it.
var teardown = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	r := ctx.run
	if len(r.TornDown) == 0 && len(r.Leftovers) == 0 {
		return
	}
	b.WriteString("\n#### Teardown\n\n")
	if len(r.TornDown) > 0 {
		items := make([]string, len(r.TornDown))
		for i, t := range r.TornDown {
			items[i] = text(clip(t, 200))
		}
		b.WriteString("Deleted: " + strings.Join(items, ", ") + ".\n")
	}
	left := r.Leftovers
	if len(left) == 0 {
		return
	}
	shown := min(len(left), sh.items)
	b.WriteString("\n**Left behind** (delete these by hand):\n\n")
	writeRow(b, "Resource", "Why it is still there")
	writeRow(b, "---", "---")
	var cmds []string
	for _, l := range left[:shown] {
		writeRow(b, text(clip(l.Resource, 200)), code(clip(l.Err, 500)))
		if l.Command != "" {
			cmds = append(cmds, logLine(l.Command))
		}
	}
	if len(cmds) > 0 {
		b.WriteString("\n" + fenced("sh", strings.Join(cmds, "\n")))
	}
	if shown < len(left) {
		ctx.cutNote(b, "leftovers", shown, len(left))
	}
}}

// logTail shows the end of the log in a folded block, as many lines as fit
// in sh.logBytes. The fence is longer than any run of backticks in the log,
// so nothing the job printed can end the block or inject markdown.
var logTail = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	lines, total := ctx.visibleLog(), max(ctx.run.Log.Total, len(ctx.run.Log.Lines))
	if len(lines) == 0 {
		return
	}
	if sh.logBytes <= 0 {
		fmt.Fprintf(b, "\n_The log did not fit in GitHub's %s; %s._\n", ctx.limitName, ctx.elsewhere())
		return
	}
	shown, clipped := tailWithin(lines, sh.logBytes)
	label := "Log: all " + plural(total, "line", "lines")
	if len(shown) < total {
		label = fmt.Sprintf("Log: last %s of %s", plural(len(shown), "line", "lines"), count(total))
	}
	// A failed job's log is what its reader came for: open it, except in
	// the comment, which the whole conversation scrolls past.
	open := ""
	if ctx.run.Verdict == Failure && !ctx.isComment {
		open = " open"
	}
	fmt.Fprintf(b, "\n<details%s><summary>%s</summary>\n\n", open, label)
	b.WriteString(fenced("text", strings.Join(shown, "\n")))
	if clipped || len(shown) < len(lines) {
		fmt.Fprintf(b, "\n_Cut to fit GitHub's %s; %s._\n", ctx.limitName, ctx.elsewhere())
	} else if len(shown) < total && ctx.run.Links.Log != "" {
		fmt.Fprintf(b, "\n_The %s has every line._\n", link("full log", ctx.run.Links.Log))
	}
	b.WriteString("\n</details>\n")
}}

// charts are the curves' charts, drawn once per output: fit renders an
// output many times over.
func (ctx *render) charts() []string {
	if ctx.chartCache == nil {
		ctx.chartCache = []string{}
		for _, name := range ctx.run.Metrics.Names() {
			if c := chart(ctx.shown(name), ctx.run.Metrics[name].Series); c != "" {
				ctx.chartCache = append(ctx.chartCache, c)
			}
		}
	}
	return ctx.chartCache
}

// visibleLog are the log lines this output may show, cleaned for display,
// computed once per output.
func (ctx *render) visibleLog() []string {
	if ctx.logCache == nil {
		ctx.logCache = ctx.cleanLog()
	}
	return ctx.logCache
}

func (ctx *render) cleanLog() []string {
	lines := ctx.run.Log.Lines
	if ctx.logLines >= 0 && len(lines) > ctx.logLines {
		lines = lines[len(lines)-ctx.logLines:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = clip(logLine(l), maxLineBytes)
	}
	return out
}

// tailWithin is the longest end of lines within n bytes (line ends
// included); when not even the last line fits, the end of that line, and
// clipped says so.
func tailWithin(lines []string, n int) (tail []string, clipped bool) {
	used, first := 0, len(lines)
	for first > 0 && used+len(lines[first-1])+1 <= n {
		used += len(lines[first-1]) + 1
		first--
	}
	if first == len(lines) {
		return []string{clipFront(lines[len(lines)-1], max(n-1, 0))}, true
	}
	return lines[first:], false
}

var commentFooter = section{write: func(b *strings.Builder, ctx *render, _ *shape) {
	fmt.Fprintf(b, "\n<sub>sear updates this comment in place on every run of %s on this pull request.</sub>\n",
		code(clip(ctx.shown(ctx.run.Runnable), 200)))
}}
