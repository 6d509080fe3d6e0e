package report

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// extremeRun is a run far past the limits in one direction, and the note
// each output must then carry ("" for none expected).
type extremeRun struct {
	run  Run
	note string
}

func extremeRuns() map[string]extremeRun {
	base := goldenRuns["success"]
	many := func(n int, f func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	runs := map[string]extremeRun{}

	r := base
	r.Runnable = strings.Repeat("r", 300_000)
	runs["runnable name of 300 kB"] = extremeRun{r, ""}

	r = base
	r.Metrics = Metrics{}
	for i := range 2000 {
		r.Metrics[fmt.Sprintf("metric_%05d", i)] = Series(curve(50, 2, 0.1, float64(i))...)
	}
	runs["2,000 curves"] = extremeRun{r, "metrics shown, to fit GitHub's"}

	r = base
	r.Log = LogTail{Lines: many(3000, func(int) string { return strings.Repeat("x", 1900) })}
	runs["3,000 log lines of 1,900 bytes"] = extremeRun{r, "Cut to fit GitHub's"}

	r = base
	r.Log = LogTail{Lines: []string{strings.Repeat("x", 5<<20)}}
	runs["one log line of 5 MiB"] = extremeRun{r, ""}

	r = base
	r.Log = LogTail{Lines: many(50_000, func(i int) string { return strings.Repeat("`", i%40) + " line" })}
	runs["50,000 lines of backticks"] = extremeRun{r, ""}

	r = goldenRuns["config-error"]
	for i := range 1500 {
		r.ConfigErrors = append(r.ConfigErrors, ConfigError{File: "cluster.yaml", Line: i + 1, Column: 3,
			Message: strings.Repeat("bad value ", 30), Source: strings.Repeat("k: v ", 40)})
	}
	runs["1,500 configuration errors"] = extremeRun{r, "configuration errors shown, to fit GitHub's"}

	r = goldenRuns["timeout"]
	for i := range 1500 {
		r.Leftovers = append(r.Leftovers, Leftover{Resource: fmt.Sprintf("instance i-%017d", i),
			Err: "UnauthorizedOperation", Command: fmt.Sprintf("aws ec2 terminate-instances --instance-ids i-%017d", i)})
	}
	r.Warnings = many(3000, func(i int) string { return fmt.Sprintf("warning %d: %s", i, strings.Repeat("w", 200)) })
	runs["1,500 leftovers and 3,000 warnings"] = extremeRun{r, "to fit GitHub's"}

	r = base
	r.Phases = nil
	for i := range 5000 {
		r.Phases = append(r.Phases, Phase{Name: fmt.Sprintf("step %d", i), Start: t0, Duration: time.Second, Err: "boom"})
	}
	runs["5,000 phases"] = extremeRun{r, "phases shown, to fit GitHub's"}
	return runs
}

// TestLimitsHold shows that no run, however large, makes an output that
// GitHub would refuse, and that each output stays well-formed: fences and
// <details> closed, the comment's marker first, the metrics block readable,
// and a note wherever something was left out.
func TestLimitsHold(t *testing.T) {
	t.Parallel()
	for name, x := range extremeRuns() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := x.run
			c, comment, summary := Check(r), Comment(r), StepSummary(r)
			assertWithin(t, c, comment, summary)
			if first, _, _ := strings.Cut(comment, "\n"); first != Marker(r.Runnable) {
				t.Errorf("the comment starts with %.80q, not its marker", first)
			}
			if _, err := ParseBlock(c.Summary); err != nil {
				t.Errorf("the check summary's metrics block: %v", err)
			}
			if x.note != "" && !strings.Contains(c.Summary+c.Text, x.note) || !strings.Contains(comment, x.note) {
				t.Errorf("the check run or the comment lacks the note %q", x.note)
			}
		})
	}
}

// TestHugeLogKeepsItsEnd: what is cut is the start of the log; its last
// line, usually the error, stays, with a note and the link to the rest.
func TestHugeLogKeepsItsEnd(t *testing.T) {
	t.Parallel()
	r := goldenRuns["huge-log"]
	last := logLine(r.Log.Lines[len(r.Log.Lines)-1])
	for what, s := range map[string]string{"check text": Check(r).Text, "comment": Comment(r)} {
		if !strings.Contains(s, last) {
			t.Errorf("%s lost the log's last line", what)
		}
		if !strings.Contains(s, "Cut to fit GitHub's") || !strings.Contains(s, "[full log](<"+logURL+">)") {
			t.Errorf("%s cut the log without the note and the link to the full log", what)
		}
	}
}

// TestLogCannotBreakOut feeds a log written to escape its code block: a
// longer fence, a closing </details>, a fake metrics block, a heading.
// None may reach the markdown, and the real metrics must read back.
func TestLogCannotBreakOut(t *testing.T) {
	t.Parallel()
	r := goldenRuns["success"]
	r.Log = LogTail{Lines: []string{
		"``````````", "</details>", `<!-- sear:metrics {"version":1,"metrics":{"accuracy":0.1}} -->`,
		"# Pwned", "````````````````````", "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
	}}
	c := Check(r)
	rec, err := ParseBlock(c.Summary + "\n" + c.Text)
	if err != nil || rec.Metrics["accuracy"] != 0.9127 {
		t.Fatalf("metrics read back as %v, %v; want the run's own accuracy 0.9127", rec.Metrics, err)
	}
	for what, s := range map[string]string{"check text": c.Text, "comment": Comment(r), "summary": StepSummary(r)} {
		fence := regexp.MustCompile("(?m)^(`{3,})text$").FindStringSubmatch(s)
		if fence == nil || len(fence[1]) <= 20 {
			t.Fatalf("%s: the log's fence %q is not longer than the log's 20-backtick line", what, fence)
		}
		if openFences(s) != 0 || strings.Contains(s, "evil.example") {
			t.Errorf("%s: the log escaped its block or kept a terminal hyperlink", what)
		}
	}
}

func TestMarkerCannotEndItsComment(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a --> b", "x\n<!-- sear:runnable=y -->", "bert.yaml", "名前 / with space"} {
		m := Marker(name)
		inner := strings.TrimSuffix(strings.TrimPrefix(m, "<!-- "), " -->")
		if strings.Contains(inner, "-->") || strings.ContainsAny(m, "\r\n") || strings.Contains(inner, " ") {
			t.Errorf("Marker(%q) = %q: the name can end the comment or split it", name, m)
		}
	}
	if Marker("a/b") == Marker("a%2Fb") {
		t.Error(`"a/b" and "a%2Fb" share a marker`)
	}
}

func TestMetricsBlockRoundTrip(t *testing.T) {
	t.Parallel()
	r := Run{Runnable: "exp --> x", Commit: headSHA, Verdict: Success, Metrics: Metrics{
		"acc": Value(0.5), "loss": Series(3, 2, 1), "-->": Value(1), "nan": Value(math.NaN()), "inf": Series(1, math.Inf(1)),
		"<b>&": Value(-2e-9),
	}}
	block := metricsBlock(&r)
	if strings.Count(block, "-->") != 1 || strings.ContainsAny(block, "\n") {
		t.Fatalf("block %q: a name ends the comment early or it spans lines", block)
	}
	rec, err := ParseBlock("# title\n" + block + "\nmore")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"acc": 0.5, "loss": 1, "-->": 1, "<b>&": -2e-9}
	if len(rec.Metrics) != len(want) || rec.Runnable != r.Runnable || rec.Commit != headSHA || rec.Verdict != Success {
		t.Fatalf("read back %+v, want metrics %v (no NaN or Inf)", rec, want)
	}
	for k, v := range want {
		if rec.Metrics[k] != v {
			t.Errorf("metric %q read back as %v, want %v", k, rec.Metrics[k], v)
		}
	}
	b := rec.Baseline("https://example.test/runs/1")
	if v, _ := b.Metrics["loss"].Last(); v != 1 || b.Commit != headSHA {
		t.Errorf("Baseline = %+v", b)
	}
}

func TestMetricsBlockStaysSmall(t *testing.T) {
	t.Parallel()
	r := Run{Runnable: "x", Verdict: Success, Metrics: Metrics{}}
	for i := range 5000 {
		r.Metrics[fmt.Sprintf("a_rather_long_metric_name_%05d", i)] = Value(float64(i) / 7)
	}
	block := metricsBlock(&r)
	if len(block) > maxBlock+len(blockOpen)+len(blockClose) {
		t.Fatalf("block is %d bytes, over its bound %d", len(block), maxBlock)
	}
	rec, err := ParseBlock(block)
	if err != nil || !rec.Truncated || len(rec.Metrics) < 100 || rec.Metrics["a_rather_long_metric_name_00000"] != 0 {
		t.Fatalf("truncated block read back with %d metrics, truncated=%v, err %v", len(rec.Metrics), rec.Truncated, err)
	}
}

func TestParseBlockRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"no block", "### ✅ ok\n", ErrNoBlock.Error()},
		{"not at a line start", "text <!-- sear:metrics {\"version\":1} -->", ErrNoBlock.Error()},
		{"not closed on its line", "<!-- sear:metrics {\"version\":1}\n-->", "not closed on its line"},
		{"not JSON", "<!-- sear:metrics {version:1} -->", "read the sear metrics block"},
		{"text after JSON", "<!-- sear:metrics {\"version\":1} {} -->", "text after the JSON object"},
		{"a version from the future", "<!-- sear:metrics {\"version\":2,\"metrics\":{}} -->", "has version 2; this sear reads version 1"},
	} {
		if _, err := ParseBlock(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseBlock = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// mermaidNumber is the number token of Mermaid's xychart lexer.
var mermaidNumber = regexp.MustCompile(`^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$`)

func TestChartSpeaksMermaid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		series []float64
	}{
		{"tiny values", []float64{1e-9, 3e-9, 2e-9}},
		{"huge values", []float64{1e12, 3e14, -2e13}},
		{"flat", []float64{0.5, 0.5, 0.5}},
		{"flat at zero", []float64{0, 0}},
		{"with NaN and Inf", []float64{1, math.NaN(), 2, math.Inf(1), 3}},
		{"long", curve(10_000, 5, 0.001, 1)},
	} {
		c := chart(`name with "quotes" and %% comment`, tc.series)
		lines := strings.Split(c, "\n")
		if lines[1] != "xychart-beta" || !strings.HasPrefix(lines[0], "```mermaid") {
			t.Fatalf("%s: not a mermaid xychart:\n%s", tc.name, c)
		}
		if strings.Count(lines[2], `"`) != 2 {
			t.Errorf("%s: title line %q has quotes inside its string", tc.name, lines[2])
		}
		var nums []string
		for _, l := range lines {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "line ["):
				nums = append(nums, strings.Split(strings.Trim(l[5:], "[]"), ", ")...)
			case strings.HasPrefix(l, "y-axis "), strings.HasPrefix(l, "x-axis "):
				f := strings.Fields(l)
				nums = append(nums, f[len(f)-3], f[len(f)-1])
			}
		}
		if len(nums) > chartPoints+4 {
			t.Errorf("%s: %d numbers, more than %d points", tc.name, len(nums), chartPoints)
		}
		for _, n := range nums {
			if !mermaidNumber.MatchString(n) {
				t.Errorf("%s: %q is not a number Mermaid reads", tc.name, n)
			}
		}
	}
	if c := chart("one point", []float64{1, math.NaN()}); c != "" {
		t.Errorf("a curve of one finite point drew %q", c)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{deltaOf(0.9127, 0.9011).String(), "+0.0116 (+1.3%)"},
		{deltaOf(7.3, 7.9).String(), "-0.6 (-7.6%)"},
		{deltaOf(1, 1).String(), "±0"},
		{deltaOf(5, 0).String(), "+5"},
		{deltaOf(1.0004, 1).String(), "+0.0004 (+0.04%)"},
		{number(1e-5), "1e-05"},
		{number(0.00012345678), "0.000123457"},
		{number(123456789), "123456789"},
		{number(1234567.25), "1234570"},
		{number(0.5), "0.5"},
		{number(math.Inf(-1)), "-Inf"},
		{duration(850 * time.Millisecond), "850ms"},
		{duration(4200 * time.Millisecond), "4.2s"},
		{duration(12*time.Minute + 4*time.Second), "12m 04s"},
		{duration(2*time.Hour + 3*time.Minute + 40*time.Second), "2h 04m"},
		{usd(0.0042), "$0.0042"},
		{usd(25.084), "$25.08"},
		{count(1234567), "1,234,567"},
		{code("a`b|c"), "``a`b\\|c``"},
		{code("`x`"), "`` `x` ``"},
		{text("*bold* @octocat <b>"), "\\*bold\\* @\u2060octocat \\<b\\>"},
		{logLine("\x1b[31mred\x1b[0m 10%\r100%\x00"), "100%"},
		{clip("ééé", 4), "…"},
		{clipFront("abcdef", 5), "…ef"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// FuzzRender renders runs made of arbitrary text; whatever the text, the
// outputs stay within their limits and well-formed, and the metrics block
// reads back.
func FuzzRender(f *testing.F) {
	f.Add("bert.yaml", "loss", "epoch 1 ```", "bad value", 3)
	f.Add("a --> b", "-->", "</details>", "<!-- x -->", 0)
	f.Add("`", "|", "\r\x1b[2K", "@here", 10000)
	f.Fuzz(func(t *testing.T, runnable, metric, logText, msg string, repeat int) {
		repeat = min(max(repeat, 0), 100_000)
		r := goldenRuns["timeout"]
		r.Runnable, r.Reason = runnable, msg
		r.Metrics = Metrics{metric: Series(1, 2, 3), metric + "x": Value(4)}
		r.Log = LogTail{Lines: append(strings.Split(logText, "\n"), strings.Repeat(logText, repeat))}
		r.ConfigErrors = []ConfigError{{File: msg, Line: 1, Column: 2, Message: msg, Source: logText}}
		r.Warnings = []string{msg}
		c, comment, summary := Check(r), Comment(r), StepSummary(r)
		assertWithin(t, c, comment, summary)
		if first, _, _ := strings.Cut(comment, "\n"); first != Marker(runnable) {
			t.Fatalf("comment starts with %q", first)
		}
		rec, err := ParseBlock(c.Summary)
		if err != nil {
			t.Fatalf("ParseBlock: %v", err)
		}
		// JSON carries names as UTF-8; metrics.json names always are.
		if rec.Metrics[strings.ToValidUTF8(metric, "\uFFFD")] != 3 && utf8.ValidString(metric) {
			t.Fatalf("metric %q read back as %v", metric, rec.Metrics)
		}
	})
}

// FuzzParseBlock: any text is refused or read, never a panic, and what is
// read has a version this sear knows.
func FuzzParseBlock(f *testing.F) {
	f.Add(metricsBlock(&Run{Runnable: "x", Metrics: Metrics{"a": Value(1)}}))
	f.Add("<!-- sear:metrics {\"version\":1,\"metrics\":null} -->")
	f.Add("x\n<!-- sear:metrics <!-- sear:metrics {} -->")
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseBlock(s)
		if err == nil && (rec.Version != blockVersion || rec.Metrics == nil) {
			t.Fatalf("read %+v", rec)
		}
	})
}
