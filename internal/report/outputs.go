package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/sear-ci/sear/internal/action"
)

// maxOutput bounds one output's value: "Outputs are Unicode strings, and
// can be a maximum of 1 MB" (GitHub Actions, workflow syntax, outputs).
const maxOutput = 1_000_000

// Outputs are the action's outputs for a finished run: conclusion,
// cluster-id, check-run-url, comment-url (from r.Links), metrics (JSON),
// duration-seconds and cost-usd. cost-usd is empty when a node's type has
// no price, because a partial sum would mislead whatever reads it; it is
// "0" for a local cluster. The values come from r.Redacted() and are
// masked with r.Secrets as a whole too: the runner refuses an output that
// holds a secret it knows of, but not one sear learned (an STS session
// token), and the metrics' names are the job's.
func Outputs(r Run) []action.Output {
	r = r.Redacted()
	m := newMasker(r.Secrets)
	outs := []action.Output{
		{Name: "conclusion", Value: r.Verdict.Conclusion()},
		{Name: "cluster-id", Value: r.ClusterID},
		{Name: "check-run-url", Value: r.Links.CheckRun},
		{Name: "comment-url", Value: r.Links.Comment},
		{Name: "metrics", Value: metricsJSON(r.Metrics)},
		{Name: "duration-seconds", Value: strconv.FormatInt(int64(r.Duration.Round(1e9).Seconds()), 10)},
		{Name: "cost-usd", Value: costOutput(r.Cost())},
	}
	for i := range outs {
		outs[i].Value = m.mask(outs[i].Value)
	}
	return outs
}

func costOutput(c Cost) string {
	switch {
	case c.Local:
		return "0"
	case !c.Complete():
		return ""
	}
	return strconv.FormatFloat(c.USD, 'f', 4, 64)
}

// metricsJSON is the metrics as metrics.json had them. A value JSON cannot
// hold (NaN, ±Inf) is null. Past an output's 1 MB, curves are replaced by
// their last value so that the output still carries every metric.
func metricsJSON(m Metrics) string {
	full := map[string]any{}
	last := map[string]any{}
	for name, metric := range m {
		v, _ := metric.Last()
		last[name] = jsonNumber(v)
		if metric.Value != nil || len(metric.Series) == 0 {
			full[name] = last[name]
			continue
		}
		s := make([]any, len(metric.Series))
		for i, x := range metric.Series {
			s[i] = jsonNumber(x)
		}
		full[name] = s
	}
	data, _ := json.Marshal(full) // numbers, nulls and strings: cannot fail
	if len(data) > maxOutput {
		data, _ = json.Marshal(last)
	}
	return string(data)
}

func jsonNumber(v float64) any {
	if !finite(v) {
		return nil
	}
	return v
}

// AppendStepSummary renders r as the step summary and appends it to the
// file named by GITHUB_STEP_SUMMARY, whose path the caller passes. GitHub
// drops a summary over 1 MiB whole ("the summary will not be uploaded and
// an error annotation is created"), so the report is fitted into what the
// file leaves of that limit, in case this step wrote to it before.
func AppendStepSummary(path string, r Run) error {
	used := int64(0)
	if fi, err := os.Stat(path); err == nil {
		used = fi.Size()
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read the size of the step summary file: %w", err)
	}
	room := SummaryLimit - int(used) - 1 // the separating newline
	if room < 1024 {
		return fmt.Errorf("the step summary file %s already holds %d bytes, too close to GitHub's 1 MiB limit for sear's report", path, used)
	}
	md := stepSummary(r, room)
	if used > 0 {
		md = "\n" + md
	}
	return appendFile(path, md, "the step summary")
}

// appendFile appends data in one write: the runner reads the file after
// the step, and it is never left half-written by a second call.
func appendFile(path, data, what string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open the file for %s: %w", what, err)
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s to %s: %w", what, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s to %s: %w", what, path, err)
	}
	return nil
}
