// Package run is one run of a runnable on a cluster, start to finish: keys,
// nodes, trust, upload, setup, the job, its outputs, and a teardown that
// happens whatever else does.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/extensions"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/pipeline"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/timebudget"
)

// Options are a run's inputs, all validated before Run is called.
type Options struct {
	Runnable   *config.Runnable
	Cluster    *config.Cluster
	SecretsINI []byte // may be empty
	Workspace  string // the directory uploaded as the job's working directory
	OutputDir  string // where outputs land on this machine
	RunID      string
	// ClusterID, if set, is the cluster's id (keys.NewID), tagged
	// sear:cluster-id on everything the run creates; empty makes one. The
	// action sets it to sweep exactly this step's resources afterwards:
	// RunID is shared by every job of a workflow run.
	ClusterID  string
	Repository string
	Provider   cloud.Provider
	// Command, if set, runs on the orchestrator with sh -c instead of the
	// runnable (which is still uploaded), with the same environment.
	Command string
	// GitToken is sent, only to GitTokenHost (GITHUB_SERVER_URL's host),
	// when cloning the runnable's git extensions over HTTPS.
	GitToken, GitTokenHost string
	// SSHAgentSocket serves keys for ssh:// and git@ extension locations.
	SSHAgentSocket string
	// Log receives progress and the job's live log; the caller masks it.
	Log io.Writer
	// Abandon is closed on a second signal: teardown stops waiting. The
	// terminate call a first signal started is not abandoned.
	Abandon <-chan struct{}
	// Observe, if set, sees every phase start and end.
	Observe func(pipeline.Event)
	Now     func() time.Time
	// OutputBase, if set, is the directory OutputDir must be inside (the
	// action's workspace): no directory from it down to OutputDir may be
	// a symlink, since the repository, which a pull request controls,
	// holds them. Unset, only OutputDir itself is checked.
	OutputBase string
	// MaxOutputBytes and MaxOutputFiles cap what collection writes into
	// OutputDir; zero means DefaultMaxOutputBytes and
	// DefaultMaxOutputFiles. Files and directories both count.
	MaxOutputBytes int64
	MaxOutputFiles int
	// Budget, if set, replaces the cluster's time budget
	// (Cluster.TimeBudget); tests shrink it to seconds.
	Budget *timebudget.Budget
	// Spend, if set, stops the job when the cluster's cost so far reaches
	// its budget (max_cost_mode: expected).
	Spend *SpendLimit
	// SaveCheckpoint, if set, is a directory on this machine where the
	// orchestrator's SEAR_CHECKPOINT_DIR is saved when a spot
	// interruption ended the job (spot_retry). RestoreCheckpoint, if
	// set, is such a directory, uploaded to the orchestrator's
	// SEAR_CHECKPOINT_DIR before the job starts (the retry).
	SaveCheckpoint, RestoreCheckpoint string
}

// Result is what a run produced.
type Result struct {
	ClusterID  string
	Nodes      []cloud.Node
	ExitStatus int  // the job's exit status; -1 if it never finished
	TimedOut   bool // ended at max_duration
	// OverBudget says the job was stopped at the budget (Options.Spend),
	// when the cluster had cost SpentUSD.
	OverBudget bool
	SpentUSD   float64
	// CheckpointFiles is how many files of the job's checkpoint were saved
	// (Options.SaveCheckpoint) or restored (Options.RestoreCheckpoint).
	CheckpointFiles int
	Metrics         Metrics
	Outputs         []string // files brought back, relative to OutputDir
	Phases          []Phase
	Started         time.Time
	Duration        time.Duration

	// OutputsCut says what the caps on outputs cut, and which to raise,
	// as a sentence for the reader; empty when nothing was cut.
	OutputsCut string
	// OutputsSkipped are the entries from the node that were not written
	// (links, devices, .git), by kind.
	OutputsSkipped []SkippedOutputs
	// Interruptions are the spot nodes EC2 interrupted while the job ran.
	Interruptions []Interruption
}

// Phase is one step of the run with its duration.
type Phase struct {
	Name     string
	Cleanup  bool
	Duration time.Duration
	Err      error
}

// state is what the steps share.
type state struct {
	opts  Options
	keys  *keys.Cluster
	nodes []cloud.Node
	conns []*remote.Client
	// connMu guards conns while the job runs: following the log may
	// replace a node's client (reconnect) while the spot watchers' monitors
	// use it from their goroutines (conn).
	connMu sync.Mutex
	result *Result
	layout []layout // per node, by rank

	runnable []byte             // what the job reads, as uploaded
	clones   []extensions.Clone // git extensions cloned on this machine
	extDir   string             // where the clones are, removed at the end

	// paths are the nodes' PATH with the bootstrap's venv first, by rank; nil
	// without setup: or before the bootstrap succeeded.
	paths []string
	// bootPhases are each node's bootstrap, shown after the bootstrap step.
	bootPhases []pipeline.Event

	// budget is the run's time; sched hands out its deadlines from the
	// first launch call, nil before.
	budget timebudget.Budget
	sched  *timebudget.Schedule

	expiresAt  time.Time // the nodes' own deadline: the schedule's start + the lifetime
	teardownBy time.Time // the teardown's deadline, set by the first cleanup

	// interrupted is the run's own context: once it is done (a signal),
	// a Terminator provider is ending the nodes, and with their RAM the
	// secrets INI in it.
	interrupted context.Context
}

// terminating says the fast terminate of a signal is under way.
func (st *state) terminating() bool {
	_, ok := st.opts.Provider.(cloud.Terminator)
	return ok && st.interrupted.Err() != nil
}

// Run brings the cluster up, runs the job and brings everything back, then
// tears the cluster down. The result is returned even when err is not nil,
// with what was learned before the failure.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st := &state{opts: opts, result: &Result{ExitStatus: -1, Started: opts.Now()}, interrupted: ctx}
	st.budget = opts.Cluster.TimeBudget()
	if opts.Budget != nil {
		st.budget = *opts.Budget
	}
	// Before anything costs money: outputs that could not land would make
	// the whole run for nothing.
	if err := opts.CheckOutputDir(); err != nil {
		return st.result, err
	}
	finished := make(chan struct{})
	fast := st.terminateOnCancel(ctx, finished)
	err := pipeline.Run(ctx, st, steps(), pipeline.Options{Observe: st.observe, Abandon: opts.Abandon, CleanupTimeout: st.budget.Teardown})
	close(finished)
	if ferr := <-fast; ferr != nil {
		err = errors.Join(err, ferr)
	}
	st.result.Duration = opts.Now().Sub(st.result.Started)
	return st.result, err
}

// fastTerminateTimeout bounds the terminate call a signal starts; it is
// one API call, retried on throttling.
const fastTerminateTimeout = 2 * time.Minute

// terminateOnCancel sends the provider's fast terminate the moment ctx is
// cancelled (a signal), before any cleanup runs: the cleanups before the
// launch step's (the job's, the secrets') take time, and every second an
// instance lives after a cancel is money and exposure. The call runs on a
// context of its own, so a second signal (Abandon) never cuts it short.
// The channel returned yields its error once, after finished is closed.
func (st *state) terminateOnCancel(ctx context.Context, finished <-chan struct{}) <-chan error {
	out := make(chan error, 1)
	t, ok := st.opts.Provider.(cloud.Terminator)
	if !ok {
		out <- nil
		return out
	}
	go func() {
		select {
		case <-finished:
			out <- nil
			return
		case <-ctx.Done():
		}
		st.logf("sear: interrupted (%v): terminating the cluster's instances now", context.Cause(ctx))
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fastTerminateTimeout)
		defer cancel()
		err := t.Terminate(tctx)
		if err != nil {
			err = fmt.Errorf("terminate on interrupt: %w", err)
		}
		<-finished
		out <- err
	}()
	return out
}

// The steps' names, in the order they run: the pipeline's events and a
// Result's phases carry them, and callers match them (the job's log tail,
// the launch's teardown in a report) by these constants, not by copies.
const (
	StepExtensions  = "extensions"
	StepKeys        = "keys"
	StepLaunch      = "launch"
	StepConnect     = "connect"
	StepEnvironment = "environment"
	StepTrust       = "trust"
	StepUpload      = "upload"
	StepBootstrap   = "bootstrap"
	StepSetup       = "setup"
	StepEngine      = "engine"
	StepJob         = "job"
	StepCollect     = "collect"
)

func steps() []pipeline.Step[state] {
	return []pipeline.Step[state]{
		{Name: StepExtensions, Run: fetchExtensions, Cleanup: removeExtensions},
		{Name: StepKeys, Run: makeKeys},
		{Name: StepLaunch, Run: bounded(timebudget.Ready, launch), Cleanup: tearingDown(teardown)},
		{Name: StepConnect, Run: bounded(timebudget.Ready, connect), Cleanup: tearingDown(disconnect)},
		{Name: StepEnvironment, Run: bounded(timebudget.Ready, checkEnvironment)},
		{Name: StepTrust, Run: bounded(timebudget.Ready, establishTrust)},
		{Name: StepUpload, Run: bounded(timebudget.Upload, upload), Cleanup: tearingDown(removeSecrets)},
		{Name: StepBootstrap, Run: bounded(timebudget.Bootstrap, bootstrap)},
		{Name: StepSetup, Run: bounded(timebudget.Setup, setup)},
		{Name: StepEngine, Run: bounded(timebudget.Ready, startEngine), Cleanup: tearingDown(stopEngine)},
		{Name: StepJob, Run: bounded(timebudget.Job, runJob)},
		{Name: StepCollect, Run: bounded(timebudget.Collect, collect)},
	}
}

// observe records each phase and announces it. The caller's Observe sees
// the event first, so that a log group it opens holds the phase's lines.
func (st *state) observe(e pipeline.Event) {
	if e.Done {
		st.result.Phases = append(st.result.Phases, Phase{Name: e.Step, Cleanup: e.Phase == pipeline.PhaseCleanup, Duration: e.Duration, Err: e.Err})
	}
	if st.opts.Observe != nil {
		st.opts.Observe(e)
	}
	if !e.Done && e.Phase == pipeline.PhaseRun {
		st.logf("sear: %s", e.Step)
	}
	if e.Done && e.Step == StepBootstrap && e.Phase == pipeline.PhaseRun {
		st.emitBootPhases()
	}
}

func (st *state) logf(format string, args ...any) {
	if st.opts.Log != nil {
		fmt.Fprintf(st.opts.Log, format+"\n", args...)
	}
}

func makeKeys(_ context.Context, st *state) error {
	st.fillBudget()
	k, err := keys.New(keys.Options{Nodes: st.opts.Cluster.Nodes(), Lifetime: st.budget.Lifetime(), Now: st.opts.Now, ID: st.opts.ClusterID})
	if err != nil {
		return fmt.Errorf("make the cluster's keys: %w", err)
	}
	st.keys, st.result.ClusterID = k, k.ID
	return nil
}

func launch(ctx context.Context, st *state) error {
	if st.expiresAt.IsZero() { // called as a single step, not through bounded
		st.fillBudget()
		st.expiresAt = st.opts.Now().Add(st.budget.Lifetime())
	}
	spec := cloud.Spec{
		Cluster: st.opts.Cluster, Keys: st.keys, RunID: st.opts.RunID, Repository: st.opts.Repository,
		ExpiresAt: st.expiresAt,
	}
	nodes, err := st.opts.Provider.Launch(ctx, spec)
	st.nodes, st.result.Nodes = nodes, nodes
	if err != nil {
		return fmt.Errorf("launch cluster %q: %w", st.opts.Cluster.Name, err)
	}
	st.layout = make([]layout, len(nodes))
	for i, n := range nodes {
		st.layout[i] = newLayout(n, st.keys.ID)
	}
	return nil
}

func teardown(ctx context.Context, st *state) error {
	st.logf("sear: tearing down cluster %s", st.result.ClusterID)
	return st.opts.Provider.Teardown(ctx)
}
