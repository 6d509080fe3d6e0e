package report

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/report/*.md from the renderers")

const goldenDir = "../../testdata/report"

// checkFile is how a check output is kept in one golden file: the three
// fields under hidden headings, so the file still renders as markdown.
func checkFile(c CheckOutput) string {
	return "<!-- title -->\n" + c.Title + "\n\n<!-- summary -->\n" + c.Summary + "\n<!-- text -->\n" + c.Text
}

// TestGolden renders every golden run three ways and compares with
// testdata/report/<run>.{check,comment,summary}.md; -update rewrites them.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range slices.Sorted(maps.Keys(goldenRuns)) {
		r := goldenRuns[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Check(r)
			outputs := map[string]string{"check": checkFile(c), "comment": Comment(r), "summary": StepSummary(r)}
			for kind, got := range outputs {
				golden(t, filepath.Join(goldenDir, name+"."+kind+".md"), got)
			}
			assertWithin(t, c, outputs["comment"], outputs["summary"])
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -run TestGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the renderer's output (len %d, want %d); first difference at line %d:\n got: %q\nwant: %q\n(go test ./internal/report -run TestGolden -update rewrites it after review)",
			path, len(got), len(want), firstDiff(got, string(want)), lineAt(got, firstDiff(got, string(want))), lineAt(string(want), firstDiff(got, string(want))))
	}
}

func firstDiff(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func lineAt(s string, n int) string {
	lines := strings.Split(s, "\n")
	if n-1 < len(lines) {
		return lines[n-1]
	}
	return "<end>"
}

// assertWithin checks the limits and the invariants every output keeps.
func assertWithin(t *testing.T, c CheckOutput, comment, summary string) {
	t.Helper()
	for _, x := range []struct {
		what  string
		s     string
		limit int
	}{{"check summary", c.Summary, CheckLimit}, {"check text", c.Text, CheckLimit}, {"comment", comment, CommentLimit}, {"step summary", summary, SummaryLimit}} {
		if len(x.s) > x.limit {
			t.Errorf("%s is %d bytes, over GitHub's %d", x.what, len(x.s), x.limit)
		}
		if n := openFences(x.s); n != 0 {
			t.Errorf("%s leaves a code fence open", x.what)
		}
		if o, cl := detailsTags(x.s); o != cl {
			t.Errorf("%s opens %d <details> and closes %d", x.what, o, cl)
		}
	}
}

// detailsTags counts the lines outside code blocks that open and close a
// <details> element: the renderers write each tag on a line of its own.
func detailsTags(s string) (opened, closed int) {
	fence := 0
	for _, line := range strings.Split(s, "\n") {
		run := longestPrefix(line, '`')
		switch {
		case fence == 0 && run >= 3:
			fence = run
		case fence > 0 && run >= fence && strings.TrimRight(line, " ") == strings.Repeat("`", run):
			fence = 0
		case fence == 0 && strings.HasPrefix(line, "<details"):
			opened++
		case fence == 0 && strings.HasPrefix(line, "</details>"):
			closed++
		}
	}
	return opened, closed
}

// openFences follows CommonMark's fence rule (a fence closes at a line of
// at least as many backticks and nothing else) and reports 1 if the text
// ends inside a fenced block.
func openFences(s string) int {
	open := 0
	for _, line := range strings.Split(s, "\n") {
		run := longestPrefix(line, '`')
		switch {
		case open == 0 && run >= 3:
			open = run
		case open > 0 && run >= open && strings.TrimRight(line, " ") == strings.Repeat("`", run):
			open = 0
		}
	}
	if open > 0 {
		return 1
	}
	return 0
}

func longestPrefix(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}
