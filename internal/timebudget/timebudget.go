// Package timebudget is the one owner of a run's time: a bound for each
// phase, derived from the cluster file's numbers, and the nodes' lifetime,
// which is the sum of those bounds. Because every deadline the run hands
// down (the EC2 wait, the SSH dial's retry, the engine's start, each step's
// context, the teardown's) comes from the same Schedule, a run that stays
// inside its bounds ends its teardown before the nodes' own shutdown
// deadline (the dead-man's switch): the claim holds by construction, not by
// a margin someone guessed.
//
// The package is a leaf (it imports nothing of sear's) so that config can
// offer a cluster's budget and run, plan, keys and the providers share it.
package timebudget

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Phase names a bound. Ready is one window shared by several steps
// (launch, connect, environment, trust, and later the engine's start);
// every other phase has a bound of its own.
type Phase int

// The phases, in the order a run goes through them. Ready comes first for
// the cumulative deadlines even though the engine's start, which also draws
// on it, comes after Setup.
const (
	Ready Phase = iota
	Upload
	Bootstrap
	Setup
	Job
	Collect
	Teardown
	numPhases
)

var phaseNames = [numPhases]string{"ready", "upload", "bootstrap", "setup", "job", "collect", "teardown"}

func (p Phase) String() string {
	if p < 0 || p >= numPhases {
		return fmt.Sprintf("Phase(%d)", int(p))
	}
	return phaseNames[p]
}

// The fixed bounds, for the phases no cluster field sizes. They are
// generous on purpose: a bound that ends a healthy run is worse than a
// lifetime a little longer than needed, and each only counts when the
// phase has something to do.
const (
	// DefaultUpload bounds sending the workspace and the secrets: a
	// repository's tracked files, and only those that differ.
	DefaultUpload = 10 * time.Minute
	// DefaultBootstrap bounds setup:'s venv and pip install on every node;
	// a stock image took 8m42s for examples/script (BENCHMARKS.md), so this
	// is twice that with room to spare.
	DefaultBootstrap = 20 * time.Minute
	// DefaultSetup bounds the cluster file's setup_cmds, all of them.
	DefaultSetup = 20 * time.Minute
	// DefaultJobOverhead is what the job step needs besides max_duration:
	// checking the launcher, starting the job, and, at max_duration,
	// TERM, the grace before KILL, and reading the exit status.
	DefaultJobOverhead = 2 * time.Minute
	// DefaultCollect bounds bringing outputs back; sized for run's
	// default cap of 1 GiB at a slow runner's few MB/s.
	DefaultCollect = 10 * time.Minute
	// DefaultTeardown bounds every cleanup together; it is
	// pipeline.DefaultCleanupTimeout (terminating instances and waiting for
	// EC2 to release their network interfaces before deleting a group).
	DefaultTeardown = 10 * time.Minute
	// DefaultSlack covers what no context bounds: a step returning a few
	// seconds after its deadline, the gaps between steps, and the nodes'
	// clocks being a little ahead of the runner's.
	DefaultSlack = 5 * time.Minute
)

// Budget is a run's bound for each phase. The zero value of a field means
// the phase has nothing to do and gets no time.
type Budget struct {
	Ready     time.Duration // ready_timeout: launch, connect, environment, trust and the engine's start together
	Upload    time.Duration
	Bootstrap time.Duration // setup:, zero without it
	Setup     time.Duration // setup_cmds, zero without them
	// MaxDuration is the job's own bound (max_duration); the job step's
	// bound is MaxDuration + JobOverhead.
	MaxDuration time.Duration
	JobOverhead time.Duration
	Collect     time.Duration
	Teardown    time.Duration
	Slack       time.Duration
}

// Inputs are the cluster's numbers a budget is derived from.
type Inputs struct {
	ReadyTimeout time.Duration // ready_timeout
	MaxDuration  time.Duration // max_duration
	Bootstrap    bool          // the cluster file has setup:
	SetupCmds    bool          // the cluster file has setup_cmds
}

// For derives the budget of a cluster with these numbers.
func For(in Inputs) Budget {
	b := Budget{
		Ready: in.ReadyTimeout, Upload: DefaultUpload, MaxDuration: in.MaxDuration, JobOverhead: DefaultJobOverhead,
		Collect: DefaultCollect, Teardown: DefaultTeardown, Slack: DefaultSlack,
	}
	if in.Bootstrap {
		b.Bootstrap = DefaultBootstrap
	}
	if in.SetupCmds {
		b.Setup = DefaultSetup
	}
	return b
}

// Bound is phase p's bound; Job's includes JobOverhead.
func (b Budget) Bound(p Phase) time.Duration {
	switch p {
	case Ready:
		return b.Ready
	case Upload:
		return b.Upload
	case Bootstrap:
		return b.Bootstrap
	case Setup:
		return b.Setup
	case Job:
		return b.MaxDuration + b.JobOverhead
	case Collect:
		return b.Collect
	case Teardown:
		return b.Teardown
	}
	return 0
}

// Lifetime is how long the nodes may live from the first launch call: every
// phase's bound and the slack. It sets the nodes' own shutdown deadline,
// sear:expires-at and the certificates' validity, so it must, and by
// construction does, outlast the slowest run the bounds allow.
func (b Budget) Lifetime() time.Duration {
	var d time.Duration
	for p := Phase(0); p < numPhases; p++ {
		d += b.Bound(p)
	}
	return d + b.Slack
}

// String lists the bounds, as plan and errors show them.
func (b Budget) String() string {
	var parts []string
	for p := Phase(0); p < numPhases; p++ {
		if d := b.Bound(p); d > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", p, d))
		}
	}
	return strings.Join(parts, ", ")
}

// Schedule hands out a run's deadlines, from the moment of the first launch
// call. Each phase's deadline is the earlier of two: its own bound from
// when it begins (for Ready, what is left of the one window), and the
// instant the phases up to it would end if every earlier one had used its
// whole bound. The second keeps an overrun (a step that returned late)
// from pushing everything after it past the nodes' lifetime: the later
// phases get less instead. It is safe for concurrent use.
type Schedule struct {
	b     Budget
	start time.Time
	now   func() time.Time

	mu        sync.Mutex
	readyUsed time.Duration // time spent in Ready phases that have ended
	readyAt   time.Time     // when the Ready phase under way began; zero if none
	furthest  Phase         // the latest non-Ready phase begun
}

// Start begins the schedule now; now is the clock (time.Now unless a test
// fakes it).
func (b Budget) Start(now func() time.Time) *Schedule {
	if now == nil {
		now = time.Now
	}
	return &Schedule{b: b, start: now(), now: now, furthest: Ready}
}

// Budget is the budget the schedule hands out.
func (s *Schedule) Budget() Budget { return s.b }

// Started is when the schedule, and so the nodes' lifetime, began.
func (s *Schedule) Started() time.Time { return s.start }

// Expires is when the nodes end themselves.
func (s *Schedule) Expires() time.Time { return s.start.Add(s.b.Lifetime()) }

// Begin starts phase p now and returns its deadline. A Ready phase draws
// on the one ready window until End: the engine's start gets what the
// launch, connect, environment and trust steps left, not a fresh window.
func (s *Schedule) Begin(p Phase) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	own := now.Add(s.b.Bound(p))
	if p == Ready {
		own = now.Add(s.b.Ready - s.readyUsed)
		s.readyAt = now
	} else if p > s.furthest {
		s.furthest = p
	}
	if cap := s.capLocked(p); cap.Before(own) {
		return cap
	}
	return own
}

// End ends phase p now; for Ready it charges the time spent to the window.
func (s *Schedule) End(p Phase) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == Ready && !s.readyAt.IsZero() {
		s.readyUsed += s.now().Sub(s.readyAt)
		s.readyAt = time.Time{}
	}
}

// ReadyLeft is what is left of the ready window, not counting a Ready phase
// under way.
func (s *Schedule) ReadyLeft() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Ready - s.readyUsed
}

// capLocked is the latest phase p may end so that every phase after it
// still fits in the lifetime: the start, the whole ready window, and the
// bounds of every other phase up to p (for Ready, up to the furthest phase
// begun, since the engine's start comes after setup).
func (s *Schedule) capLocked(p Phase) time.Time {
	last := p
	if p == Ready {
		last = s.furthest
	}
	d := s.b.Ready
	for q := Ready + 1; q <= last; q++ {
		d += s.b.Bound(q)
	}
	return s.start.Add(d)
}

// ExceededError says which bound a phase ran out of and what to change.
type ExceededError struct {
	Phase Phase
	Bound time.Duration // the phase's whole bound (Ready: the whole window)
	// MaxDuration is set for Job, whose bound adds the overhead to it.
	MaxDuration time.Duration
}

func (e *ExceededError) Error() string {
	switch e.Phase {
	case Ready:
		return fmt.Sprintf("ready_timeout %s ran out (one window for launching the nodes, connecting, checking and trusting them, and starting the engine); raise ready_timeout in the cluster file", e.Bound)
	case Upload:
		return fmt.Sprintf("the upload ran out of its %s bound (fixed, timebudget.DefaultUpload); upload less: keep large files out of the workspace or untracked by git", e.Bound)
	case Bootstrap:
		return fmt.Sprintf("the bootstrap (setup:) ran out of its %s bound (fixed, timebudget.DefaultBootstrap); install fewer requirements, or use an image that has them (orchestrator_ami, factory_ami) and drop setup:", e.Bound)
	case Setup:
		return fmt.Sprintf("setup_cmds ran out of their %s bound (fixed, timebudget.DefaultSetup); shorten setup_cmds or use an image that has their work done (orchestrator_ami, factory_ami)", e.Bound)
	case Job:
		return fmt.Sprintf("the job step ran out of its %s bound (max_duration %s plus %s to start and stop the job); raise max_duration in the cluster file or the max-duration input", e.Bound, e.MaxDuration, e.Bound-e.MaxDuration)
	case Collect:
		return fmt.Sprintf("collecting outputs ran out of its %s bound (fixed, timebudget.DefaultCollect); bring back less: narrow outputs in the cluster file, or lower max-output-bytes", e.Bound)
	case Teardown:
		return fmt.Sprintf("the teardown ran out of its %s bound; run sear sweep to delete what is left", e.Bound)
	}
	return fmt.Sprintf("%s ran out of its %s bound", e.Phase, e.Bound)
}

// Exceeded is the error for phase p running out of its bound.
func (b Budget) Exceeded(p Phase) *ExceededError {
	e := &ExceededError{Phase: p, Bound: b.Bound(p)}
	if p == Job {
		e.MaxDuration = b.MaxDuration
	}
	return e
}

// Sum writes the lifetime as the sum of its bounds, each duration as format
// writes it: "ready_timeout 10m + upload 10m + max_duration 6h + job start
// and stop 2m + collect 10m + teardown 10m + slack 5m".
func (b Budget) Sum(format func(time.Duration) string) string {
	var parts []string
	add := func(name string, d time.Duration) {
		if d > 0 {
			parts = append(parts, name+" "+format(d))
		}
	}
	add("ready_timeout", b.Ready)
	add("upload", b.Upload)
	add("bootstrap", b.Bootstrap)
	add("setup_cmds", b.Setup)
	add("max_duration", b.MaxDuration)
	add("job start and stop", b.JobOverhead)
	add("collect", b.Collect)
	add("teardown", b.Teardown)
	add("slack", b.Slack)
	return strings.Join(parts, " + ")
}
