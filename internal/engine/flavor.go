package engine

import (
	"fmt"

	"github.com/sear-ci/sear/internal/config"
)

// flavor is what differs between Dask and Ray.
type flavor interface {
	name() string
	defaultPort() int
	address(e *Engine) string
	env(e *Engine, rank int) map[string]string
	// daemons are what node rank runs, in start order.
	daemons(e *Engine, rank int) []daemon
	// setup is shell run before anything else on a node; may be empty.
	setup() string
	preflight() preflight
	// readyProgram is Python run on the orchestrator with the job's
	// environment and the arguments <want> <timeout seconds>. It prints a
	// Ready as JSON and exits 0 once want workers have joined, or prints
	// what has joined and exits exitNotReady at the timeout.
	readyProgram() string
	// want is how many workers readyProgram waits for, and wantRanks the
	// nodes they run on.
	want(e *Engine) int
	wantRanks(e *Engine) []int
}

// daemon is one long-running process of the engine on a node.
type daemon struct {
	role string   // "scheduler", "worker", "head": names its .log and .pid files
	argv []string // the command, run in a session of its own
	// clean are files in the engine directory that the daemon writes and
	// up tests for: removed before it starts, so an old one cannot pass.
	clean []string
	// up is a shell condition that holds once the daemon serves, with $d
	// the engine directory; the start waits for it. Empty: no wait.
	up string
}

// preflight is a shell command that fails when the engine is not
// installed, what to say when it fails without saying why, and what the
// user does about it.
type preflight struct {
	check  string
	silent string
	fix    string
}

func flavorOf(k config.Engine) (flavor, error) {
	switch k {
	case config.EngineDask:
		return dask{}, nil
	case config.EngineRay:
		return ray{}, nil
	case config.EngineNone:
		return nil, nil
	}
	return nil, fmt.Errorf("engine %q: expected dask, ray or none", k)
}
