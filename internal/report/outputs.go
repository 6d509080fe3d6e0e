package report

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Output is one output of the action, as action.yml declares it.
type Output struct {
	Name  string
	Value string
}

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
func Outputs(r Run) []Output {
	r = r.Redacted()
	m := newMasker(r.Secrets)
	outs := []Output{
		{"conclusion", r.Verdict.Conclusion()},
		{"cluster-id", r.ClusterID},
		{"check-run-url", r.Links.CheckRun},
		{"comment-url", r.Links.Comment},
		{"metrics", metricsJSON(r.Metrics)},
		{"duration-seconds", strconv.FormatInt(int64(r.Duration.Round(1e9).Seconds()), 10)},
		{"cost-usd", costOutput(r.Cost())},
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

// WriteOutputs appends outputs to the file named by GITHUB_OUTPUT, whose
// path the caller passes.
func WriteOutputs(path string, outs []Output) error {
	var b strings.Builder
	if err := encodeOutputs(&b, outs, rand.Reader); err != nil {
		return err
	}
	return appendFile(path, b.String(), "the action's outputs")
}

// encodeOutputs writes each output in the multi-line form the runner
// reads from GITHUB_OUTPUT:
//
//	name<<ghadelimiter_<random>
//	value
//	ghadelimiter_<random>
//
// with a fresh random delimiter per output, as the Actions toolkit does, so
// that no value (a metric name, a URL) can end its own block early and set
// another output. A delimiter that happens to occur in the value is drawn
// again.
func encodeOutputs(w io.Writer, outs []Output, random io.Reader) error {
	for _, o := range outs {
		if o.Name == "" || strings.ContainsAny(o.Name, "\r\n") || strings.Contains(o.Name, "<<") {
			return fmt.Errorf("output name %q cannot be written to GITHUB_OUTPUT: it must be one line without \"<<\"", o.Name)
		}
		delim, err := delimiter(o, random)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s<<%s\n%s\n%s\n", o.Name, delim, o.Value, delim); err != nil {
			return err
		}
	}
	return nil
}

// delimiter draws a delimiter that occurs in neither the name nor the
// value. Sixteen random bytes collide by chance practically never; the
// bounded retry is for a value crafted to contain earlier draws, which
// cannot know later ones.
func delimiter(o Output, random io.Reader) (string, error) {
	buf := make([]byte, 16)
	for range 8 {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("draw a random delimiter for output %q: %w", o.Name, err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(buf)
		if !strings.Contains(o.Value, d) && !strings.Contains(o.Name, d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("output %q: every random delimiter drawn occurs in its value", o.Name)
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

// appendFile appends data in one write: the runner reads these files after
// the step, and a file is never left half-written by a second call.
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
