package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// GitHub's size limits, in the units GitHub counts. sear measures every
// output in UTF-8 bytes, which are never fewer than characters, so a body
// within these limits in bytes is within them in characters too, and
// within the byte limits GitHub also applies (a check run's summary is
// refused past "a maximum bytesize of 65535", github/docs#35252).
const (
	// CheckLimit bounds a check run's output.summary and output.text, each:
	// "Maximum length: 65535 characters" (REST API, check runs).
	CheckLimit = 65535
	// CommentLimit bounds an issue comment's body: "Body is too long
	// (maximum is 65536 characters)".
	CommentLimit = 65536
	// SummaryLimit bounds a step summary: "the size limit is 1MiB" per step
	// (GitHub Actions, workflow commands, step summary).
	SummaryLimit = 1 << 20
)

// Log lines each output shows at most. The comment is read in the
// conversation, so it stays short; the step summary shows what it is given.
const (
	commentLogLines = 50
	checkLogLines   = 200
	// maxLineBytes cuts a single log line: one minified JSON blob must not
	// crowd every other line out.
	maxLineBytes = 2000
)

// CheckOutput is a check run's output.
type CheckOutput struct {
	Title   string
	Summary string
	Text    string
}

// Marker is the hidden first line of the sticky comment of a runnable: one
// comment per runnable per pull request is found again by it. The name is
// path-escaped so that no name can end the HTML comment or span lines; a
// name too long to head a comment is replaced by its SHA-256.
func Marker(runnable string) string {
	name := url.PathEscape(runnable)
	if len(name) > maxMarkerName {
		sum := sha256.Sum256([]byte(runnable))
		name = "sha256-" + hex.EncodeToString(sum[:])
	}
	return "<!-- sear:runnable=" + name + " -->"
}

// maxMarkerName bounds the name in a marker.
const maxMarkerName = 512

// Check renders the check run's output: the summary (verdict, metrics,
// hidden metrics block) and the text (curves, cluster and cost, phases,
// teardown, log), each within CheckLimit.
// Like every renderer, it sanitises and masks r first (Run.Redacted), and
// masks its output last.
func Check(r Run) CheckOutput {
	ctx := newRender(r, "65,535-character check-run limit", checkLogLines)
	ctx.isCheck = true
	summary := ctx.fit(CheckLimit, []section{metricsBlockSection, header, facts, alerts, interruptions, configErrors, metricsTable})
	text := ctx.fit(CheckLimit, []section{curves, clusterAndCost, launchAttempts, phases(false), teardown, logTail})
	return CheckOutput{Title: clip(ctx.mask(title(ctx.run)), 200), Summary: summary, Text: text}
}

// Comment renders the sticky pull-request comment, within CommentLimit.
// It starts with Marker(r.Redacted().Runnable), which is Marker(r.Runnable)
// unless the name holds a secret.
func Comment(r Run) string {
	ctx := newRender(r, "65,536-character comment limit", commentLogLines)
	ctx.isComment = true
	return ctx.fit(CommentLimit, []section{markerSection, header, facts, alerts, interruptions, configErrors, metricsTable,
		curves, clusterAndCost, launchAttempts, phases(true), teardown, logTail, commentFooter})
}

// StepSummary renders the Actions step summary, within SummaryLimit. It
// holds everything: it is the one report that needs no permission.
func StepSummary(r Run) string { return stepSummary(r, SummaryLimit) }

func stepSummary(r Run, limit int) string {
	ctx := newRender(r, "1 MiB step-summary limit", -1)
	ctx.isSummary = true
	return ctx.fit(limit, []section{header, facts, alerts, interruptions, configErrors, metricsTable,
		curves, clusterAndCost, launchAttempts, phases(false), teardown, logTail})
}

// newRender starts an output of r, sanitised and masked.
func newRender(r Run, limitName string, logLines int) *render {
	red := r.Redacted()
	return &render{run: &red, masker: newMasker(red.Secrets), limitName: limitName, logLines: logLines}
}

// shown is a name (the runnable's, a metric's) as an output shows it: on
// one line, sanitised, masked. Run.Redacted only masks names, which are
// keys and must stay as they are.
func (ctx *render) shown(name string) string { return ctx.mask(oneLine(name)) }

// render is one output being rendered.
type render struct {
	run *Run
	masker
	limitName string
	logLines  int // most log lines shown; -1 for all
	isSummary bool
	isComment bool
	isCheck   bool

	chartCache, logCache []string
}

// shape is how much of each part an attempt shows; fit shrinks it until
// the output is within its limit.
type shape struct {
	logBytes int
	charts   int
	rows     int // metric rows
	items    int // config errors, phases, leftovers, warnings: each list
	bare     bool
}

// section writes one part of an output for a shape. Essential sections
// (the marker, the metrics block, the verdict) are kept even when nothing
// else fits.
type section struct {
	essential bool
	write     func(b *strings.Builder, ctx *render, sh *shape)
}

// fullShape is the shape that leaves nothing out, each knob at the size
// of what it governs, so that shrinking bisects no further than needed.
func (ctx *render) fullShape() shape {
	r := ctx.run
	logBytes := 0
	for _, l := range ctx.visibleLog() {
		logBytes += len(l) + 1
	}
	return shape{
		logBytes: logBytes,
		charts:   len(ctx.charts()),
		rows:     len(metricNames(r)),
		items:    max(len(r.ConfigErrors), len(r.Phases), len(r.Leftovers), len(r.Warnings), len(r.Attempts), len(r.Interruptions)),
	}
}

// fit renders the sections with as much as fits in limit bytes. What goes
// first is the least useful per byte: the start of the log (its end stays),
// then curves, then metric rows, then long lists. If even the bare verdict
// did not fit, which a runnable name of tens of kilobytes could cause, the
// text is cut: an output is never refused and never over its limit.
//
// The output is masked once more as a whole, because a secret can span
// fields that rendering puts side by side; a mask longer than what it
// replaces (a secret of one or two characters) can take the output over
// its limit, and then its end is cut.
func (ctx *render) fit(limit int, sections []section) string {
	return clipUTF8(ctx.mask(ctx.fitted(limit, sections)), limit)
}

func (ctx *render) fitted(limit int, sections []section) string {
	sh := ctx.fullShape()
	out := ctx.attempt(sections, sh)
	if len(out) <= limit {
		return out
	}
	sh.logBytes = min(sh.logBytes, limit) // more log than that can never fit
	for _, knob := range []*int{&sh.logBytes, &sh.charts, &sh.rows, &sh.items} {
		if *knob == 0 {
			continue // nothing of this kind to leave out
		}
		if out, ok := ctx.shrink(limit, sections, &sh, knob); ok {
			return out
		}
	}
	sh.bare = true
	return clipUTF8(ctx.attempt(sections, sh), limit)
}

// shrink finds the largest value of knob (at most its current value) for
// which the output fits, by bisection; ok is false when even 0 does not,
// and then knob is left at 0 for the next knob to try.
func (ctx *render) shrink(limit int, sections []section, sh *shape, knob *int) (string, bool) {
	lo, hi := 0, *knob
	*knob = 0
	best, ok := ctx.attempt(sections, *sh), false
	if len(best) > limit {
		return best, false
	}
	ok = true
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		*knob = mid
		if out := ctx.attempt(sections, *sh); len(out) <= limit {
			lo, best = mid, out
		} else {
			hi = mid - 1
		}
	}
	*knob = lo
	return best, ok
}

func (ctx *render) attempt(sections []section, sh shape) string {
	var b strings.Builder
	for _, s := range sections {
		if sh.bare && !s.essential {
			continue
		}
		s.write(&b, ctx, &sh)
	}
	if sh.bare {
		fmt.Fprintf(&b, "\n_The rest of this report did not fit in GitHub's %s; %s._\n", ctx.limitName, ctx.elsewhere())
	}
	return b.String()
}

// clipUTF8 cuts s to at most n bytes on a rune boundary.
func clipUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cutNote says that a list was cut, and where the rest is.
func (ctx *render) cutNote(b *strings.Builder, what string, shown, total int) {
	fmt.Fprintf(b, "\n_%s of %s %s shown, to fit GitHub's %s; %s._\n",
		count(shown), count(total), what, ctx.limitName, ctx.elsewhere())
}

// elsewhere says where to read what an output left out.
func (ctx *render) elsewhere() string {
	full := "the " + link("full log", ctx.run.Links.Log)
	if ctx.isSummary {
		return "see the " + link("full log", ctx.run.Links.Log) + " and the action's `metrics` output"
	}
	return "the step summary and " + full + " have the rest"
}
