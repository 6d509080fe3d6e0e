package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOutputs: every output of a run, the metrics with their curves
// (action's tests cover how the file holds them).
func TestOutputs(t *testing.T) {
	t.Parallel()
	r := goldenRuns["curves-deltas"]
	r.Links.Comment = "https://github.com/acme/nlp/pull/7#issuecomment-1000000001"
	got := map[string]string{}
	for _, o := range Outputs(r) {
		got[o.Name] = o.Value
	}
	want := map[string]string{
		"conclusion": "success", "cluster-id": "sear-5eed5eed", "check-run-url": checkURL,
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
	if len(got) != 7 {
		t.Errorf("%d outputs, want 7: %v", len(got), got)
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
