// Package run is one run of a runnable on a cluster, start to finish: keys,
// nodes, trust, upload, setup, the job, its outputs, and a teardown that
// happens whatever else does.
package run

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/pipeline"
	"github.com/sear-ci/sear/internal/remote"
)

// Options are a run's inputs, all validated before Run is called.
type Options struct {
	Runnable   *config.Runnable
	Cluster    *config.Cluster
	SecretsINI []byte // may be empty
	Workspace  string // the directory uploaded as the job's working directory
	OutputDir  string // where outputs land on this machine
	RunID      string
	Repository string
	Provider   cloud.Provider
	// Log receives progress and the job's live log; the caller masks it.
	Log io.Writer
	// Observe, if set, sees every phase start and end.
	Observe func(pipeline.Event)
	Now     func() time.Time
}

// Result is what a run produced.
type Result struct {
	ClusterID  string
	Nodes      []cloud.Node
	ExitStatus int  // the job's exit status; -1 if it never finished
	TimedOut   bool // ended at max_duration
	Metrics    Metrics
	Outputs    []string // files brought back, relative to OutputDir
	Phases     []Phase
	Started    time.Time
	Duration   time.Duration
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
	opts   Options
	keys   *keys.Cluster
	nodes  []cloud.Node
	conns  []*remote.Client
	result *Result
	layout []layout // per node, by rank
}

// Run brings the cluster up, runs the job and brings everything back, then
// tears the cluster down. The result is returned even when err is not nil,
// with what was learned before the failure.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st := &state{opts: opts, result: &Result{ExitStatus: -1, Started: opts.Now()}}
	err := pipeline.Run(ctx, st, steps(), pipeline.Options{Observe: st.observe})
	st.result.Duration = opts.Now().Sub(st.result.Started)
	return st.result, err
}

func steps() []pipeline.Step[state] {
	return []pipeline.Step[state]{
		{Name: "keys", Run: makeKeys},
		{Name: "launch", Run: launch, Cleanup: teardown},
		{Name: "connect", Run: connect, Cleanup: disconnect},
		{Name: "trust", Run: establishTrust},
		{Name: "upload", Run: upload, Cleanup: removeSecrets},
		{Name: "setup", Run: setup},
		{Name: "job", Run: runJob},
		{Name: "collect", Run: collect},
	}
}

func (st *state) observe(e pipeline.Event) {
	if e.Done {
		st.result.Phases = append(st.result.Phases, Phase{Name: e.Step, Cleanup: e.Phase == pipeline.PhaseCleanup, Duration: e.Duration, Err: e.Err})
	} else if e.Phase == pipeline.PhaseRun {
		st.logf("sear: %s", e.Step)
	}
	if st.opts.Observe != nil {
		st.opts.Observe(e)
	}
}

func (st *state) logf(format string, args ...any) {
	if st.opts.Log != nil {
		fmt.Fprintf(st.opts.Log, format+"\n", args...)
	}
}

func makeKeys(_ context.Context, st *state) error {
	k, err := keys.New(keys.Options{Nodes: st.opts.Cluster.Nodes(), Lifetime: st.opts.Cluster.MaxDuration, Now: st.opts.Now})
	if err != nil {
		return fmt.Errorf("make the cluster's keys: %w", err)
	}
	st.keys, st.result.ClusterID = k, k.ID
	return nil
}

func launch(ctx context.Context, st *state) error {
	spec := cloud.Spec{
		Cluster: st.opts.Cluster, Keys: st.keys, RunID: st.opts.RunID, Repository: st.opts.Repository,
		ExpiresAt: st.opts.Now().Add(st.opts.Cluster.MaxDuration + 15*time.Minute),
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
