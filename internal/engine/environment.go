package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/remote"
)

// The node environment (docs/node-environment.md) is what a node's image must have for sear,
// for the engine and for the job. CheckNodes asks every node for all of it at once, right after
// sear connects and before anything is uploaded, so that an image that lacks a piece fails the
// run in seconds with every node's missing pieces, not in the engine step minutes later.

// Requirements say what the nodes must have.
type Requirements struct {
	Engine config.Engine
	// Launcher is the program the job starts with on the orchestrator: "python3" for a
	// !Script, "flambe" for an !Experiment, "" for a command of the user's own.
	Launcher string
	// Setup is the cluster's setup: field. With it, the engine's packages and the launcher
	// are the bootstrap's to install, and the nodes need only what it needs.
	Setup *config.Setup
	// Bootstrapped says the check runs in the venv a bootstrap made, whose packages it
	// installed: what is missing then is the bootstrap's doing, not the image's.
	Bootstrapped bool
}

// need is one piece of the node environment: a shell condition that holds when the node has
// it, and on which nodes it is needed.
type need struct {
	what   string // as the user reads it: "the python3 module distributed (engine dask)"
	check  string
	orchOn bool // only the orchestrator needs it (the launcher)
	// setup says the piece is sear's to install when the cluster file has setup:.
	setup bool
}

// baseNeeds are what sear itself runs on every node: it uploads with GNU tar, starts the job
// and the daemons with setsid, reads logs with tail, and keeps the secrets on /dev/shm.
var baseNeeds = []need{
	{what: "python3 on PATH", check: "command -v python3"},
	{what: "GNU tar", check: "tar --version | grep -q GNU"},
	{what: "setsid (util-linux)", check: "command -v setsid"},
	{what: "tail, awk and kill", check: "command -v tail && command -v awk && command -v kill"},
	{what: "a tmpfs at /dev/shm", check: "[ -d /dev/shm ] && [ -w /dev/shm ]"},
}

// needs lists what the requirements ask of a node, in the order a user fixes them.
func (r Requirements) needs() []need {
	ns := slices.Clone(baseNeeds)
	switch r.Engine {
	case config.EngineDask:
		ns = append(ns, need{what: "the python3 module distributed (engine dask)", check: "python3 -c 'import distributed'", setup: true})
	case config.EngineRay:
		ns = append(ns, need{what: "the ray command and python3 module ray (engine ray)",
			check: `PATH="$HOME/.local/bin:$PATH"; command -v ray && python3 -c 'import ray'`, setup: true})
	}
	switch r.Launcher {
	case "flambe":
		ns = append(ns, need{what: "the flambe command (an !Experiment runs with it)", check: "command -v flambe", orchOn: true, setup: true})
	case "python3", "":
	default:
		ns = append(ns, need{what: "the " + r.Launcher + " command", check: "command -v " + r.Launcher, orchOn: true})
	}
	if r.Setup != nil {
		ns = slices.DeleteFunc(ns, func(n need) bool { return n.setup })
		ns = append(ns, need{
			what:  "apt-get, run as root or with passwordless sudo (setup: installs python3-venv with it when python3 has no venv)",
			check: `python3 -c 'import ensurepip' || { command -v apt-get && { [ "$(id -u)" = 0 ] || sudo -n true; }; }`,
		})
		if r.Setup.EnginePackages == config.EngineSystem && len(SystemPackages(r.Engine)) > 0 {
			ns = append(ns, need{
				what:  "apt-get, run as root or with passwordless sudo (engine_packages: system installs " + strings.Join(SystemPackages(r.Engine), " ") + " with it)",
				check: `command -v apt-get && { [ "$(id -u)" = 0 ] || sudo -n true; }`,
			})
		}
	}
	return ns
}

// NodeShell is one node as CheckNodes reaches it.
type NodeShell struct {
	Name  string
	Shell Shell
	Env   map[string]string // the job's environment there
	Orch  bool              // the orchestrator
}

// MissingError is the pieces of the node environment that nodes lack, and the fix.
type MissingError struct {
	Nodes   []string   // by rank, the nodes that lack something
	Missing [][]string // Missing[i] is what Nodes[i] lacks
	Fix     string
}

func (e *MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of the cluster's nodes lack what the run needs (docs/node-environment.md):", len(e.Nodes))
	for i, n := range e.Nodes {
		fmt.Fprintf(&b, "\n  %s: %s", n, strings.Join(e.Missing[i], "; "))
	}
	if e.Fix != "" {
		b.WriteString("\n" + e.Fix)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotInstalled) hold for a missing engine.
func (e *MissingError) Is(target error) bool { return target == ErrNotInstalled }

// CheckNodes asks every node at once for every piece of the node environment r needs, and
// returns a *MissingError naming each node's missing pieces, with the fix. A node it cannot
// ask is an error of its own, joined to the others.
func CheckNodes(ctx context.Context, nodes []NodeShell, r Requirements) error {
	needs := r.needs()
	missing := make([][]string, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { missing[i], errs[i] = checkNode(ctx, n, needs) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	me := &MissingError{}
	setupFixes := false
	for i, m := range missing {
		if len(m) == 0 {
			continue
		}
		me.Nodes = append(me.Nodes, nodes[i].Name)
		var whats []string
		for _, k := range m {
			idx, _ := strconv.Atoi(k)
			whats = append(whats, needs[idx].what)
			setupFixes = setupFixes || strings.Contains(needs[idx].what, "(engine ") || strings.Contains(needs[idx].what, "flambe")
		}
		me.Missing = append(me.Missing, whats)
	}
	if len(me.Nodes) == 0 {
		return nil
	}
	me.Fix = r.fix(setupFixes)
	return me
}

// fix is what the user does about the missing pieces.
func (r Requirements) fix(engineMissing bool) string {
	if r.Bootstrapped {
		return "Fix: the bootstrap's venv lacks them although sear installed them: a requirement in setup:'s requirements or packages may have removed them or replaced them with a broken version."
	}
	image := "use an image (orchestrator_ami, factory_ami) that has them"
	if r.Setup != nil || !engineMissing {
		return "Fix: " + image + "; sear launches Ubuntu 22.04 when none is named, which has them all."
	}
	pkgs := PipPackages(r.Engine)
	if r.Launcher == "flambe" {
		pkgs = append(pkgs, FlambePackage)
	}
	return fmt.Sprintf("Fix: add `setup: {}` to the cluster file, and sear installs %s in a venv on every node "+
		"(`setup: {engine_packages: system}` takes the distribution's packages instead); or %s.",
		strings.Join(pkgs, " and "), image)
}

// checkNode runs one script that tests every need and prints the index of each that fails.
func checkNode(ctx context.Context, n NodeShell, needs []need) ([]string, error) {
	var b strings.Builder
	for i, nd := range needs {
		if nd.orchOn && !n.Orch {
			continue
		}
		fmt.Fprintf(&b, "if ! { %s; } > /dev/null 2>&1 < /dev/null; then echo %d; fi\n", nd.check, i)
	}
	var out, stderr bytes.Buffer
	if err := n.Shell.Run(ctx, b.String(), remote.RunOptions{Env: n.Env, Stdout: &out, Stderr: &stderr}); err != nil {
		return nil, fmt.Errorf("check the node environment on %s: %w\n%s", n.Name, err, excerpt(stderr.String()))
	}
	return strings.Fields(out.String()), nil
}
