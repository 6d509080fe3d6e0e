package report

import (
	"fmt"
	"strconv"
	"strings"
)

// verdictWords are each verdict's icon, how a sentence says it, and the
// word that puts the duration after it ("" for none).
var verdictWords = map[Verdict]struct{ icon, says, dur string }{
	Running:        {"⏳", "running", "for"},
	Success:        {"✅", "succeeded", "in"},
	Failure:        {"❌", "failed", "after"},
	TimedOut:       {"⏱️", "timed out", "after"},
	Cancelled:      {"⏹️", "was cancelled", "after"},
	OverBudget:     {"⛔", "was stopped over budget", "after"},
	ActionRequired: {"✋", "was not run", ""},
	BadConfig:      {"❌", "has configuration errors", ""},
}

func words(v Verdict) (icon, says string) {
	w, ok := verdictWords[v]
	if !ok {
		return "❔", "ended (" + string(v) + ")"
	}
	return w.icon, w.says
}

// took is " in 12m 04s", " after 2h 03m", or "" when the verdict has no
// duration to tell.
func took(r *Run) string {
	w, ok := verdictWords[r.Verdict]
	if !ok || w.dur == "" || r.Duration <= 0 {
		return ""
	}
	return " " + w.dur + " " + duration(r.Duration)
}

// title is the check run's one-line title: verdict, duration, cost.
func title(r *Run) string {
	icon, says := words(r.Verdict)
	t := icon + " " + says
	if p := current(r.Phases); r.Verdict == Running && p != "" {
		t += " (" + p + ")"
	}
	t += took(r)
	if c := r.Cost(); !c.Local && c.USD > 0 {
		t += " · est. " + costAmount(c)
	}
	if p := projected(r); p != "" {
		t += " · " + p
	}
	return clip(oneLine(t), 200)
}

// current is the running phase's name.
func current(ps []Phase) string {
	for _, p := range ps {
		if p.Running {
			return oneLine(p.Name)
		}
	}
	return ""
}

var markerSection = section{essential: true, write: func(b *strings.Builder, ctx *render, _ *shape) {
	b.WriteString(Marker(ctx.run.Runnable) + "\n")
}}

var metricsBlockSection = section{essential: true, write: func(b *strings.Builder, ctx *render, _ *shape) {
	b.WriteString(metricsBlock(ctx.run) + "\n")
}}

// header is the verdict and duration, first: what a reviewer looks for.
var header = section{essential: true, write: func(b *strings.Builder, ctx *render, _ *shape) {
	r := ctx.run
	icon, says := words(r.Verdict)
	name := code(clip(ctx.shown(r.Runnable), 200))
	if name == "" {
		name = "sear run"
	}
	fmt.Fprintf(b, "### %s %s %s%s\n", icon, name, says, took(r))
	if p := current(r.Phases); r.Verdict == Running && p != "" {
		fmt.Fprintf(b, "\nNow: %s.\n", text(p))
	}
	if r.Reason != "" {
		fmt.Fprintf(b, "\n%s\n", text(clip(r.Reason, 1000)))
	}
}}

// facts is one line of what ran where, what it cost, and where to read on.
var facts = section{write: func(b *strings.Builder, ctx *render, _ *shape) {
	r := ctx.run
	var items []string
	if r.Commit != "" {
		items = append(items, "commit "+code(shortSHA(r.Commit)))
	}
	if r.ClusterID != "" {
		items = append(items, "cluster "+code(clip(r.ClusterID, 100)))
	}
	if shape := clusterShape(r.Nodes); shape != "" {
		items = append(items, shape)
	}
	if len(r.Nodes) > 0 {
		items = append(items, costFact(r.Cost()))
	}
	if p := projected(r); p != "" {
		items = append(items, strings.Replace(p, "at most ", "at most **", 1)+"**"+budgetNote(r.Projected))
	}
	l := r.Links
	if ctx.isCheck {
		l.CheckRun = "" // the reader is on it
	}
	for _, x := range []struct{ label, url string }{
		{"check run", l.CheckRun}, {"full log", l.Log}, {"workflow run", l.Workflow}, {"PR comment", l.Comment},
	} {
		if x.url != "" {
			items = append(items, link(x.label, x.url))
		}
	}
	if len(items) > 0 {
		b.WriteString("\n" + strings.Join(items, " · ") + "\n")
	}
}}

// clusterShape is "1 orchestrator + 2 factories".
func clusterShape(nodes []Node) string {
	var order []string
	byRole := map[string]int{}
	for _, n := range nodes {
		if byRole[n.Role] == 0 {
			order = append(order, n.Role)
		}
		byRole[n.Role]++
	}
	parts := make([]string, len(order))
	for i, role := range order {
		many := role + "s"
		if strings.HasSuffix(role, "y") {
			many = strings.TrimSuffix(role, "y") + "ies"
		}
		parts[i] = text(plural(byRole[role], role, many))
	}
	return strings.Join(parts, " + ")
}

func costFact(c Cost) string {
	switch {
	case c.Local:
		return "local nodes, no cloud cost"
	case len(c.Lines) == len(c.Unknown):
		return "cost unknown (no price for " + codeList(c.Unknown) + ")"
	case !c.Complete():
		return "est. **" + costAmount(c) + "** + unpriced " + codeList(c.Unknown)
	}
	return "est. **" + costAmount(c) + "**"
}

func costAmount(c Cost) string {
	if c.UpperBound {
		return "≤ " + usd(c.USD)
	}
	return usd(c.USD)
}

func codeList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = code(n)
	}
	return strings.Join(out, ", ")
}

// alerts are what must not be missed: TLS off, resources left behind,
// warnings about the report itself. GitHub renders "> [!WARNING]" as an
// alert box.
var alerts = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	r := ctx.run
	if r.TLSOff {
		b.WriteString("\n> [!WARNING]\n> **TLS was off** (`tls: false` in the cluster file): the nodes talked to each " +
			"other unencrypted and unauthenticated. Turn it off only to troubleshoot, never for real data.\n")
	}
	if n := len(r.Leftovers); n > 0 {
		fmt.Fprintf(b, "\n> [!CAUTION]\n> **%s could not be deleted** and may still cost money. "+
			"The commands to delete them are under Teardown below.\n", plural(n, "resource", "resources"))
	}
	if len(r.Warnings) == 0 {
		return
	}
	b.WriteString("\n> [!WARNING]\n")
	shown := min(len(r.Warnings), sh.items)
	for _, w := range r.Warnings[:shown] {
		fmt.Fprintf(b, "> - %s\n", text(clip(w, 2000)))
	}
	if shown < len(r.Warnings) {
		fmt.Fprintf(b, "> - and %s more\n", count(len(r.Warnings)-shown))
	}
}}

// launchAttempts lists each place the cluster was tried, when there was
// more than one: which zone and types, and EC2's answer.
var launchAttempts = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	at := ctx.run.Attempts
	if len(at) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### Launch attempts\n\n")
	writeRow(b, "#", "Zone", "Orchestrator", "Factories", "Market", "Result")
	writeRow(b, "---:", "---", "---", "---", "---", "---")
	shown := min(len(at), sh.items)
	for i, a := range at[:shown] {
		result := "✓ launched"
		if a.Code != "" {
			result = "❌ " + code(clip(ctx.shown(a.Code), 100))
			if a.Node != "" {
				result += " (" + code(clip(ctx.shown(a.Node), 100)) + ")"
			}
		}
		writeRow(b, fmt.Sprint(i+1), code(clip(ctx.shown(a.Zone), 100)), code(clip(ctx.shown(a.OrchestratorType), 100)),
			code(clip(ctx.shown(a.FactoriesType), 100)), text(clip(ctx.shown(a.Market), 100)), result)
	}
	if shown < len(at) {
		ctx.cutNote(b, "launch attempts", shown, len(at))
	}
}}

// configErrors lists the input's problems as a compiler prints them, in a
// code block: they quote the user's file, which is not markdown.
var configErrors = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	errs := ctx.run.ConfigErrors
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### %s\n\n", plural(len(errs), "configuration error", "configuration errors"))
	shown := min(len(errs), sh.items)
	var lines []string
	for _, e := range errs[:shown] {
		lines = append(lines, e.pretty())
	}
	b.WriteString(fenced("text", strings.Join(lines, "\n\n")))
	if shown < len(errs) {
		ctx.cutNote(b, "configuration errors", shown, len(errs))
	}
}}

// pretty is file:line:col: message, then the line and a caret, as
// sear prints configuration errors on the command line.
func (e ConfigError) pretty() string {
	pos := e.File
	if e.Line > 0 {
		pos += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			pos += ":" + strconv.Itoa(e.Column)
		}
	}
	s := logLine(clip(pos+": "+e.Message, 2000))
	if e.Line > 0 && e.Source != "" {
		src := strings.ReplaceAll(logLine(clip(e.Source, 500)), "\t", "    ")
		s += fmt.Sprintf("\n %4d | %s", e.Line, src)
		if e.Column > 0 {
			s += "\n      | " + strings.Repeat(" ", min(e.Column-1, len([]rune(src)))) + "^"
		}
	}
	return s
}

// count is n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
