package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The check run's summary starts with a hidden block that a later run reads
// back to compare against: a pull request's run finds the latest sear check
// run of the same name on its base commit and parses this block from its
// output. HTML comments do not show in GitHub's rendering.
const (
	blockOpen  = "<!-- sear:metrics "
	blockClose = " -->"
	// blockVersion is bumped when Recorded changes incompatibly; a parser
	// refuses versions it does not know rather than misread them.
	blockVersion = 1
	// maxBlock bounds the block so that it never crowds the rest of the
	// summary out of its 65,535 characters.
	maxBlock = 16 << 10
)

// Recorded is what a run's check output records for later runs.
type Recorded struct {
	Version  int     `json:"version"`
	Runnable string  `json:"runnable"`
	Commit   string  `json:"commit,omitempty"`
	Verdict  Verdict `json:"verdict"`
	// Metrics are the last values: what a delta needs. Curves are left out
	// to keep the block small.
	Metrics map[string]float64 `json:"metrics"`
	// Truncated says some metrics were left out to keep the block small.
	Truncated bool `json:"truncated,omitempty"`
}

// ErrNoBlock is returned by ParseBlock for a text without a metrics block.
var ErrNoBlock = errors.New("no sear metrics block")

// metricsBlock is the hidden block for r, on one line. json.Marshal escapes
// <, > and & as \u003c…, so a metric named "-->" cannot end the comment.
func metricsBlock(r *Run) string {
	rec := Recorded{Version: blockVersion, Runnable: r.Runnable, Commit: r.Commit, Verdict: r.Verdict, Metrics: map[string]float64{}}
	for name, v := range r.Metrics.Lasts() {
		if finite(v) { // JSON has no NaN or Inf
			rec.Metrics[name] = v
		}
	}
	data := encodeRecorded(rec)
	// Too many metrics: keep them in name order until the block is full.
	// Rare enough that rebuilding each time is cheaper than being clever.
	if len(data) > maxBlock {
		names := slices.Sorted(maps.Keys(rec.Metrics))
		all := rec.Metrics
		rec.Truncated = true
		lo, hi := 0, len(names)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			rec.Metrics = subset(all, names[:mid])
			if len(encodeRecorded(rec)) <= maxBlock {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		rec.Metrics = subset(all, names[:lo])
		data = encodeRecorded(rec)
	}
	return blockOpen + data + blockClose
}

func encodeRecorded(rec Recorded) string {
	data, _ := json.Marshal(rec) // finite floats and strings: cannot fail
	// Runnable names come from the user; a very long one still must not
	// push the block over its bound.
	if len(data) > maxBlock && len(rec.Runnable) > 256 {
		rec.Runnable = clip(rec.Runnable, 256)
		data, _ = json.Marshal(rec)
	}
	return string(data)
}

func subset(m map[string]float64, names []string) map[string]float64 {
	out := make(map[string]float64, len(names))
	for _, n := range names {
		out[n] = m[n]
	}
	return out
}

// ParseBlock reads the metrics block out of a check run's output (its
// summary, or any text holding it). The block must start a line: the
// renderers put it there, and a log line quoted elsewhere in a report is
// always indented inside a code block or in the text field, which is not
// read.
func ParseBlock(output string) (Recorded, error) {
	start := -1
	for off := 0; off < len(output); {
		i := strings.Index(output[off:], blockOpen)
		if i < 0 {
			break
		}
		if at := off + i; at == 0 || output[at-1] == '\n' {
			start = at
			break
		}
		off += i + len(blockOpen)
	}
	if start < 0 {
		return Recorded{}, ErrNoBlock
	}
	rest := output[start+len(blockOpen):]
	end := strings.Index(rest, blockClose)
	if nl := strings.IndexByte(rest, '\n'); end < 0 || (nl >= 0 && nl < end) {
		return Recorded{}, errors.New("the sear metrics block is not closed on its line")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(rest[:end])))
	var rec Recorded
	if err := dec.Decode(&rec); err != nil {
		return Recorded{}, fmt.Errorf("read the sear metrics block: %w", err)
	}
	if dec.More() {
		return Recorded{}, errors.New("read the sear metrics block: text after the JSON object")
	}
	if rec.Version != blockVersion {
		return Recorded{}, fmt.Errorf("the sear metrics block has version %d; this sear reads version %d", rec.Version, blockVersion)
	}
	if rec.Metrics == nil {
		rec.Metrics = map[string]float64{}
	}
	return rec, nil
}

// Baseline turns a recorded run into the base a new run compares with.
func (rec Recorded) Baseline(url string) *Baseline {
	b := &Baseline{Commit: rec.Commit, URL: url, Metrics: Metrics{}}
	for name, v := range rec.Metrics {
		b.Metrics[name] = Value(v)
	}
	return b
}
