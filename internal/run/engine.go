package run

import (
	"context"
	"path"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/engine"
)

// startEngine starts the cluster's engine once setup_cmds have run (they
// may be what installs it) and waits until every worker has joined. Its
// Cleanup, stopEngine, runs even when it fails halfway.
func startEngine(ctx context.Context, st *state) error {
	e, err := st.engine()
	if err != nil {
		return err
	}
	if w := e.Warning(); w != "" {
		st.logf("sear: warning: %s", w)
	}
	if e.Kind() == config.EngineNone {
		return nil
	}
	st.logf("sear: starting %s at %s", e.Kind(), e.Address())
	// Start's errors name the engine and the node already.
	ready, err := e.Start(ctx, st.engineShells())
	if err != nil {
		return err
	}
	st.logf("sear: %s ready at %s: %d workers, %d threads", e.Kind(), ready.Address, len(ready.Workers), ready.Threads())
	return nil
}

// stopEngine ends the engine's daemons. On EC2 the nodes' termination
// would end them too, but a local node is this machine, where they would
// outlive the run.
func stopEngine(ctx context.Context, st *state) error {
	if st.terminating() {
		return nil // they ran on instances that are being terminated
	}
	e, err := st.engine()
	if err != nil {
		return nil // startEngine failed on this before starting anything
	}
	return e.Stop(ctx, st.engineShells())
}

// engine describes the cluster's engine on its nodes. It is cheap, and
// built anew by each caller, so that state needs no field for it. The
// daemons see what the job sees (PYTHONPATH, the SEAR_ variables): a Dask
// worker unpickles the job's functions, so it must import what the job
// imports.
func (st *state) engine() (*engine.Engine, error) {
	opts := st.engineOptions()
	for i, n := range st.nodes {
		opts.Nodes[i].Env = st.env(n)
	}
	return engine.New(opts)
}

// engineEnv is what the engine adds to the environment of every command on
// node n, the job's included: DASK_SCHEDULER_ADDRESS and Dask's TLS
// settings, or RAY_ADDRESS and Ray's. It leaves the nodes' Env out, so
// env(n) may call it.
func (st *state) engineEnv(n cloud.Node) map[string]string {
	e, err := engine.New(st.engineOptions())
	if err != nil {
		return nil // startEngine reports it
	}
	return e.Env(n.Rank)
}

// engineOptions places the engine's files under the node's sear directory
// and points it at the TLS material the trust step delivered.
func (st *state) engineOptions() engine.Options {
	c := st.opts.Cluster
	nodes := make([]engine.Node, len(st.nodes))
	for i, n := range st.nodes {
		l := st.layout[i]
		nodes[i] = engine.Node{
			Name: n.Name,
			IP:   n.PrivateIP,
			Dir:  path.Join(path.Dir(l.Job), "engine"),
			Work: l.Work,
			TLS: engine.TLSFiles{
				CA:   path.Join(l.TLS, "ca.pem"),
				Cert: path.Join(l.TLS, "node.pem"),
				Key:  path.Join(l.TLS, "node-key.pem"),
			},
		}
	}
	return engine.Options{Kind: c.Engine, TLS: c.TLS, Nodes: nodes}
}

// engineShells are the nodes' connections as the engine's shells; a node
// never reached is nil, not a nil *remote.Client in an interface.
func (st *state) engineShells() []engine.Shell {
	shells := make([]engine.Shell, len(st.nodes))
	for i := range shells {
		if i < len(st.conns) && st.conns[i] != nil {
			shells[i] = st.conns[i]
		}
	}
	return shells
}
