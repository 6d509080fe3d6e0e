package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/cost"
	"github.com/sear-ci/sear/internal/pipeline"
	"github.com/sear-ci/sear/internal/redact"
	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/run"
)

// tracker keeps the report of a run under way: the pipeline's events
// become its phases as they happen, so a check run shows where the run
// is, and the final report has every phase's start.
type tracker struct {
	mu  sync.Mutex
	run report.Run
	// mask removes secrets from error text before it reaches the report.
	mask func(string) string
	// secrets, if set, lists every form of every secret so far (the
	// masking writer's Secrets): each report carries them, and its
	// renderers mask every field and their output with them. It is read
	// at each snapshot, because credentials learned mid-run join the list.
	secrets func() []string
	// changed, if set, gets a copy of the report after each event.
	changed func(report.Run)
}

func newTracker(r report.Run, mask func(string) string) *tracker {
	return &tracker{run: r, mask: mask}
}

// clean is error text for the report: sanitised first, so that an escape
// sequence inside a secret cannot hide it from the mask, then masked.
func (t *tracker) clean(s string) string { return t.mask(redact.Sanitize(s)) }

// observe is the pipeline's Observe hook.
func (t *tracker) observe(e pipeline.Event) {
	t.mu.Lock()
	cleanup := e.Phase == pipeline.PhaseCleanup
	if !e.Done {
		t.run.Phases = append(t.run.Phases, report.Phase{Name: e.Step, Start: e.Start, Running: true, Cleanup: cleanup})
	} else {
		for i := len(t.run.Phases) - 1; i >= 0; i-- {
			p := &t.run.Phases[i]
			if p.Name == e.Step && p.Cleanup == cleanup && p.Running {
				p.Running, p.Duration = false, e.Duration
				if e.Err != nil {
					p.Err = firstLine(t.clean(e.Err.Error()))
				}
				break
			}
		}
	}
	snapshot := t.snapshotLocked()
	t.mu.Unlock()
	if t.changed != nil {
		t.changed(snapshot)
	}
}

// update changes the report under the tracker's lock.
func (t *tracker) update(f func(*report.Run)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.run)
}

// snapshot is a copy of the report so far, safe to hand to another
// goroutine.
func (t *tracker) snapshot() report.Run {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snapshotLocked()
}

func (t *tracker) snapshotLocked() report.Run {
	r := t.run
	r.Phases = append([]report.Phase(nil), t.run.Phases...)
	if t.secrets != nil {
		r.Secrets = t.secrets()
	}
	return r
}

// finish completes the report with what the run produced and how it
// ended. ctx is the run's own context: done means a signal stopped it.
func (t *tracker) finish(ctx context.Context, c *config.Cluster, res *run.Result, err error, log *logTail) report.Run {
	r := t.snapshot()
	if res != nil {
		r.ClusterID, r.Started, r.Duration = res.ClusterID, res.Started, res.Duration
		r.Metrics = res.Metrics
		r.Nodes = reportNodes(res.Nodes)
		if r.Retry != nil {
			// Both clusters' nodes, each billed for its own cluster's time.
			r.Nodes = append(slices.Clone(r.Retry.Nodes), withUptime(r.Nodes, res.Duration)...)
		}
		r.Interruptions = res.Interruptions
		// What collection cut or left out is the reader's to know: a
		// missing output is otherwise a mystery.
		if res.OutputsCut != "" {
			r.Warnings = append(r.Warnings, "outputs cut: "+res.OutputsCut)
		}
		for _, s := range res.OutputsSkipped {
			r.Warnings = append(r.Warnings, "outputs: "+s.String())
		}
	}
	r.Attempts = launchAttempts(res, err)
	r.Verdict, r.Reason = verdict(ctx, c, res, err, t.clean)
	if log != nil {
		r.Log = log.tail()
	}
	r.TornDown, r.Leftovers = teardownOutcome(c, r, err, t.clean)
	return r
}

// verdict says how the run ended, and why in one line.
func verdict(ctx context.Context, c *config.Cluster, res *run.Result, err error, mask func(string) string) (report.Verdict, string) {
	switch {
	case ctx.Err() != nil:
		return report.Cancelled, fmt.Sprintf("the run was cancelled (%v)", context.Cause(ctx))
	case res != nil && res.OverBudget, errors.Is(err, run.ErrOverBudget):
		spent := ""
		if res != nil && res.SpentUSD > 0 {
			spent = fmt.Sprintf(" when the cluster had cost about %s", cost.USD(res.SpentUSD))
		}
		return report.OverBudget, fmt.Sprintf("max_cost reached (max_cost_mode: expected): the job was stopped%s, leaving room for collecting the outputs and tearing down", spent)
	case res != nil && res.TimedOut, errors.Is(err, run.ErrTimedOut):
		return report.TimedOut, fmt.Sprintf("max_duration %s reached: the job was stopped", c.MaxDuration)
	case err == nil:
		return report.Success, ""
	case res != nil && len(res.Interruptions) > 0 && errors.Is(err, run.ErrSpotInterrupted):
		return report.Failure, mask(res.Interruptions[0].Sentence())
	case res != nil && res.ExitStatus > 0:
		return report.Failure, fmt.Sprintf("the job exited with status %d", res.ExitStatus)
	}
	return report.Failure, firstLine(mask(err.Error()))
}

func reportNodes(nodes []cloud.Node) []report.Node {
	out := make([]report.Node, len(nodes))
	for i, n := range nodes {
		out[i] = report.Node{Role: string(n.Role), Name: n.Name, Type: n.Type, Spot: n.Spot}
	}
	return out
}

// withUptime is nodes, each up for d.
func withUptime(nodes []report.Node, d time.Duration) []report.Node {
	for i := range nodes {
		nodes[i].Uptime = d
	}
	return nodes
}

// launchAttempts are the capacity failover's attempts, from the nodes or
// from the launch's error; none when the first attempt launched, which
// is no news.
func launchAttempts(res *run.Result, err error) []report.Attempt {
	var at []cloud.LaunchAttempt
	var le *cloud.LaunchError
	switch {
	case errors.As(err, &le):
		at = le.Attempts
	case res != nil && len(res.Nodes) > 0:
		at = res.Nodes[0].Attempts
	}
	if len(at) < 2 && (len(at) == 0 || at[0].Code == "") {
		return nil
	}
	out := make([]report.Attempt, len(at))
	for i, a := range at {
		out[i] = report.Attempt{Zone: a.Zone, Subnet: a.Subnet, OrchestratorType: a.OrchestratorType,
			FactoriesType: a.FactoriesType, Market: a.Market, Code: a.Code, Node: a.Node}
	}
	return out
}

// teardownOutcome says what teardown removed and what it left. The
// provider's teardown either removes everything it created or returns a
// cloud.LeftoverError naming what is left, so a clean teardown phase
// means the whole cluster is gone.
func teardownOutcome(c *config.Cluster, r report.Run, err error, clean func(string) string) (gone []string, left []report.Leftover) {
	var le cloud.LeftoverError
	if errors.As(err, &le) {
		why := errText(le.Unwrap(), clean)
		for _, l := range le.Leftovers() {
			left = append(left, report.Leftover{Resource: l.Resource, Err: why, Command: l.Command})
		}
		return nil, left
	}
	for _, p := range r.Phases {
		if p.Name == run.StepLaunch && p.Cleanup && p.Err == "" && !p.Running && len(r.Nodes) > 0 {
			if c.Kind == config.AWS {
				return []string{fmt.Sprintf("%d instance(s)", len(r.Nodes)), "the run's security group"}, nil
			}
			return []string{fmt.Sprintf("%d local node(s)", len(r.Nodes))}, nil
		}
	}
	return nil, nil
}

// errText is err's first line, masked: a cloud API's error can quote the
// request, credentials included.
func errText(err error, clean func(string) string) string {
	if err == nil {
		return ""
	}
	return firstLine(clean(err.Error()))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// logTail keeps the last lines of the job's log for the report. It sits
// after the masking writer, so what it keeps is already masked, and it
// keeps only what is written while on (the job's phase): sear's own
// progress lines are not the job's log.
type logTail struct {
	mu      sync.Mutex
	on      bool
	lines   []string
	partial []byte
	total   int
	max     int
}

func newLogTail(max int) *logTail { return &logTail{max: max} }

func (l *logTail) Write(p []byte) (int, error) {
	n := len(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on {
		return n, nil
	}
	for len(p) > 0 {
		i := strings.IndexByte(string(p), '\n')
		if i < 0 {
			l.partial = append(l.partial, p...)
			break
		}
		l.add(string(append(l.partial, p[:i]...)))
		l.partial, p = l.partial[:0], p[i+1:]
	}
	return n, nil
}

func (l *logTail) add(line string) {
	l.total++
	l.lines = append(l.lines, strings.TrimSuffix(line, "\r"))
	if len(l.lines) > 2*l.max {
		l.lines = append(l.lines[:0], l.lines[len(l.lines)-l.max:]...)
	}
}

// record starts or stops keeping lines; stopping keeps a last line that
// had no newline.
func (l *logTail) record(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !on && len(l.partial) > 0 {
		l.add(string(l.partial))
		l.partial = l.partial[:0]
	}
	l.on = on
}

func (l *logTail) tail() report.LogTail {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if len(lines) > l.max {
		lines = lines[len(lines)-l.max:]
	}
	return report.LogTail{Lines: append([]string(nil), lines...), Total: l.total}
}
