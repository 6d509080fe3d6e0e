package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readOutputFile reads a GITHUB_OUTPUT file the way the runner does
// (actions/runner, SetOutputFileCommand): "name=value" lines, or
// "name<<delimiter" followed by lines up to a line equal to the delimiter.
func readOutputFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var value []string
			for sc.Scan() && sc.Text() != delim {
				value = append(value, sc.Text())
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, _ := strings.Cut(line, "=")
		out[name] = value
	}
	return out
}

func TestWriteOutputs(t *testing.T) {
	t.Parallel()
	r := goldenRuns["curves-deltas"]
	r.Links.Comment = "https://github.com/acme/nlp/pull/7#issuecomment-1000000001"
	path := filepath.Join(t.TempDir(), "github_output")
	if err := os.WriteFile(path, []byte("earlier=kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteOutputs(path, Outputs(r)); err != nil {
		t.Fatal(err)
	}
	got := readOutputFile(t, path)
	want := map[string]string{
		"earlier": "kept", "conclusion": "success", "cluster-id": "sear-5eed5eed", "check-run-url": checkURL,
		"comment-url": r.Links.Comment, "duration-seconds": "598", "cost-usd": "0.1806",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	var metrics map[string]any
	if err := json.Unmarshal([]byte(got["metrics"]), &metrics); err != nil {
		t.Fatalf("metrics output %q is not JSON: %v", got["metrics"], err)
	}
	if metrics["accuracy"] != 0.9127 || len(metrics["train_loss"].([]any)) != 120 {
		t.Errorf("metrics output lost values: %v", got["metrics"])
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "<<ghadelimiter_"); n != 7 {
		t.Errorf("%d outputs written with a random delimiter, want 7", n)
	}
}

func TestOutputValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		run  Run
		want map[string]string
	}{
		{"a configuration error concludes failure", goldenRuns["config-error"],
			map[string]string{"conclusion": "failure", "cost-usd": "0", "metrics": "{}", "duration-seconds": "0"}},
		{"an unpriced instance type leaves the cost empty", goldenRuns["cancelled"],
			map[string]string{"conclusion": "cancelled", "cost-usd": ""}},
		{"a local cluster costs nothing", goldenRuns["huge-log"], map[string]string{"conclusion": "failure", "cost-usd": "0"}},
		{"a refused fork pull request", Run{Verdict: ActionRequired}, map[string]string{"conclusion": "action_required"}},
		{"NaN and Inf become null", Run{Verdict: Success, Metrics: Metrics{"a": Value(math.NaN()), "b": Series(1, math.Inf(-1))}},
			map[string]string{"metrics": `{"a":null,"b":[1,null]}`}},
	} {
		got := map[string]string{}
		for _, o := range Outputs(tc.run) {
			got[o.Name] = o.Value
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got[k], v)
			}
		}
	}
}

func TestMetricsOutputStaysUnderOneMegabyte(t *testing.T) {
	t.Parallel()
	m := Metrics{"loss": Series(curve(200_000, 3, 1e-5, 0.1)...), "acc": Value(0.5)}
	s := metricsJSON(m)
	if len(s) > maxOutput {
		t.Fatalf("metrics output is %d bytes", len(s))
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(s), &got); err != nil || got["acc"] != 0.5 || got["loss"] == 0 {
		t.Fatalf("metrics output %q, %v: want last values", s, err)
	}
}

// fixedRandom yields the same bytes over and over, standing in for a
// random source whose draws an attacker guessed.
type fixedRandom struct{ draws [][]byte }

func (f *fixedRandom) Read(p []byte) (int, error) {
	d := f.draws[0]
	if len(f.draws) > 1 {
		f.draws = f.draws[1:]
	}
	return copy(p, d), nil
}

func TestDelimiterIsRedrawnWhenTheValueHoldsIt(t *testing.T) {
	t.Parallel()
	first, second := bytes.Repeat([]byte{0xaa}, 16), bytes.Repeat([]byte{0xbb}, 16)
	d1 := "ghadelimiter_" + strings.Repeat("aa", 16)
	value := "x\n" + d1 + "\nconclusion=success"
	var b strings.Builder
	if err := encodeOutputs(&b, []Output{{"metrics", value}}, &fixedRandom{draws: [][]byte{first, second}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out")
	os.WriteFile(path, []byte(b.String()), 0o644)
	got := readOutputFile(t, path)
	if got["metrics"] != value || got["conclusion"] != "" {
		t.Fatalf("the value ended its own block: read back %q", got)
	}

	err := encodeOutputs(&b, []Output{{"metrics", value}}, &fixedRandom{draws: [][]byte{first}})
	if err == nil || !strings.Contains(err.Error(), `output "metrics": every random delimiter drawn occurs in its value`) {
		t.Fatalf("a value holding every draw: %v", err)
	}
	err = encodeOutputs(&b, []Output{{"a\nb", "v"}}, &fixedRandom{draws: [][]byte{first}})
	if err == nil || !strings.Contains(err.Error(), "cannot be written to GITHUB_OUTPUT") {
		t.Fatalf("a two-line name: %v", err)
	}
}

func TestAppendStepSummary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := goldenRuns["huge-log"]
	r.Log.Lines = hugeLog(1000) // 1.5 MB of log: over the limit alone

	path := filepath.Join(dir, "summary.md")
	earlier := strings.Repeat("e", 600_000) + "\n"
	os.WriteFile(path, []byte(earlier), 0o644)
	if err := AppendStepSummary(path, r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if len(data) > SummaryLimit || !strings.HasPrefix(string(data), earlier) || !strings.Contains(string(data), "failed after 21m 00s") {
		t.Fatalf("summary file is %d bytes (limit %d), or lost what was there, or lacks the report", len(data), SummaryLimit)
	}

	full := filepath.Join(dir, "full.md")
	os.WriteFile(full, bytes.Repeat([]byte("f"), SummaryLimit-100), 0o644)
	if err := AppendStepSummary(full, r); err == nil || !strings.Contains(err.Error(), "too close to GitHub's 1 MiB limit") {
		t.Fatalf("appending to a full summary: %v", err)
	}
	if err := AppendStepSummary(filepath.Join(dir, "missing", "x.md"), r); err == nil ||
		!strings.Contains(err.Error(), "open the file for the step summary") {
		t.Fatalf("appending under a missing directory: %v", err)
	}
}

func TestOutputsDurationRounds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{1499 * time.Millisecond: "1", 1500 * time.Millisecond: "2", 0: "0"} {
		for _, o := range Outputs(Run{Verdict: Success, Duration: d}) {
			if o.Name == "duration-seconds" && o.Value != want {
				t.Errorf("duration %v gives %q, want %q", d, o.Value, want)
			}
		}
	}
}
