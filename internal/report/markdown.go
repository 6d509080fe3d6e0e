package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sear-ci/sear/internal/redact"
)

// GitHub-flavoured markdown is the target. Everything that did not come
// from sear itself (metric names, log lines, error messages quoting a
// user's file) goes through one of the escapes below, so that it shows as
// written and cannot open a table, a fence, an HTML block or a mention.

// code is an inline code span holding s verbatim. Its delimiter is one
// backtick longer than the longest run inside (CommonMark: a span closes
// only at a run of the same length), padded with spaces when s starts or
// ends with a backtick. A pipe is escaped because GFM splits table cells
// on it even inside a code span, and unescapes "\|" there.
func code(s string) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return ticks + pad + strings.ReplaceAll(s, "|", `\|`) + pad + ticks
}

// textEscaper backslash-escapes the ASCII punctuation that could start
// markdown or HTML (CommonMark lets any ASCII punctuation be escaped), and
// breaks "@name" so that quoting a user's value never notifies someone.
var textEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `#`, `\#`, `|`, `\|`, `~`, `\~`, `!`, `\!`,
	`&`, `&amp;`, `@`, "@\u2060",
)

// text is s as plain inline text on one line.
func text(s string) string { return textEscaper.Replace(oneLine(s)) }

// oneLine is s sanitised (redact.Sanitize: no terminal escapes, no control
// characters) with its line breaks and tabs folded into single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(redact.Sanitize(s)), " ")
}

// fenced is content in a fenced code block whose fence is longer than any
// run of backticks in it, so no line of the content can close it.
func fenced(info, content string) string {
	fence := strings.Repeat("`", max(3, longestRun(content, '`')+1))
	return fence + info + "\n" + strings.TrimSuffix(content, "\n") + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// link is [label](url), or the label alone without a URL. The URL is
// wrapped in <> so that parentheses and spaces in it cannot end it early,
// and a backslash in it is percent-encoded, because markdown would read it
// as an escape and drop it, which could join the URL into a secret after
// the mask.
func link(label, url string) string {
	if url == "" {
		return label
	}
	url = strings.NewReplacer("<", "%3C", ">", "%3E", "\\", "%5C", "\n", "", "\r", "").Replace(url)
	return "[" + label + "](<" + url + ">)"
}

// logLine is one log line as a terminal would have left it: only what
// follows the last carriage return (progress bars redraw the line), then
// sanitised (redact.Sanitize: escape sequences and control characters
// removed, valid UTF-8), with no line break left.
func logLine(s string) string {
	s = strings.TrimRight(s, "\r")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	return strings.ReplaceAll(redact.Sanitize(s), "\n", "")
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := max(0, n-len(mark))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// clipFront keeps at most the last n bytes of s, marking the cut.
func clipFront(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	start := len(s) - max(0, n-len(mark))
	for start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	return mark + s[start:]
}

// duration is a duration the way people say it: "850ms", "4.2s", "45s",
// "12m 04s", "1h 02m".
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

// usd is a dollar amount: cents from a dime up, two significant digits
// below, so that a short run on a small instance does not read "$0.00".
func usd(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v >= 0.1:
		return fmt.Sprintf("$%.2f", v)
	}
	return "$" + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", roundSig(v, 2)), "0"), ".")
}

func roundSig(v float64, digits int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	return f
}

// shortSHA is the seven characters GitHub shows for a commit.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// plural is "1 node", "3 nodes".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
