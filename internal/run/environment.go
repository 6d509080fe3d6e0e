package run

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/engine"
	"github.com/sear-ci/sear/internal/pipeline"
	"github.com/sear-ci/sear/internal/remote"
)

// checkEnvironment asks every node, right after connecting and before anything is uploaded,
// for everything the run needs of its image (docs/node-environment.md): a node that lacks a
// piece fails the run now, naming every node's missing pieces and the fix, rather than in the
// engine step after the upload. With setup:, the nodes need only what the bootstrap needs.
func checkEnvironment(ctx context.Context, st *state) error {
	return engine.CheckNodes(ctx, st.nodeShells(), st.requirements())
}

func (st *state) requirements() engine.Requirements {
	return engine.Requirements{Engine: st.opts.Cluster.Engine, Launcher: st.launcher(), Setup: st.opts.Cluster.Setup}
}

func (st *state) nodeShells() []engine.NodeShell {
	ns := make([]engine.NodeShell, len(st.nodes))
	for i, n := range st.nodes {
		ns[i] = engine.NodeShell{Name: n.Name, Shell: st.conns[n.Rank], Env: st.env(n), Orch: n.Rank == 0}
	}
	return ns
}

// venv is where the bootstrap puts node n's venv.
func (st *state) venv(n cloud.Node) string { return path.Join(n.Home, "sear", "venv") }

// bootstrap makes the node environment on every node at once when the cluster file has
// setup: (engine.Bootstrap), logs each node's steps with their times, and then checks the
// environment again, in the venv, as the job and the engine will see it. From then on every
// command on a node runs with the venv first on its PATH.
func bootstrap(ctx context.Context, st *state) error {
	s := st.opts.Cluster.Setup
	if s == nil {
		return nil
	}
	paths := make([]string, len(st.nodes))
	var mu sync.Mutex
	st.bootPhases = nil
	err := st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		c := st.conns[n.Rank]
		var out strings.Builder
		if err := c.Run(ctx, `printf '%s' "$PATH"`, remote.RunOptions{Stdout: &out}); err != nil {
			return fmt.Errorf("read PATH: %w", err)
		}
		b := engine.Bootstrap{Engine: st.opts.Cluster.Engine, Setup: s, Flambe: st.launcher() == "flambe",
			Venv: st.venv(n), Work: st.layout[n.Rank].Work}
		start := st.opts.Now()
		timings, err := b.Run(ctx, n.Name, c, st.env(n), nil)
		total := st.opts.Now().Sub(start)
		parts := make([]string, len(timings))
		for i, t := range timings {
			parts[i] = fmt.Sprintf("%s %s", t.Step, t.Duration.Round(time.Millisecond))
		}
		result := "done"
		if err != nil {
			result = "failed"
		}
		st.logf("sear: bootstrap on %s %s in %s: %s", n.Name, result, total.Round(time.Millisecond), strings.Join(parts, ", "))
		mu.Lock()
		st.bootPhases = append(st.bootPhases, pipeline.Event{Step: StepBootstrap + " " + n.Name, Phase: pipeline.PhaseRun, Start: start, Duration: total, Err: err, Done: true})
		mu.Unlock()
		if err != nil {
			return err
		}
		paths[n.Rank] = path.Join(b.Venv, "bin") + ":" + out.String()
		return nil
	})
	if err != nil {
		return err
	}
	st.paths = paths
	req := st.requirements()
	req.Setup, req.Bootstrapped = nil, true
	return engine.CheckNodes(ctx, st.nodeShells(), req)
}

// emitBootPhases shows each node's bootstrap as a phase of its own, after the bootstrap's
// own phase has ended: the report then lists every node's time, and the action's log groups,
// which do not nest, stay whole.
func (st *state) emitBootPhases() {
	for _, e := range st.bootPhases {
		st.result.Phases = append(st.result.Phases, Phase{Name: e.Step, Duration: e.Duration, Err: e.Err})
		if st.opts.Observe != nil {
			start := e
			start.Done, start.Duration, start.Err = false, 0, nil
			st.opts.Observe(start)
			st.opts.Observe(e)
		}
	}
}
