package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// A bootstrap makes the node environment on a node whose image lacks it (the cluster file's
// setup:, docs/node-environment.md): python3-venv with apt-get when python3 has no venv (and the
// engine's distribution packages with engine_packages: system), a venv, the engine's packages
// at sear's pins, the setup's packages, then the user's requirements file. Each is a step of its
// own, timed, so the log says where the minutes went and a failure says which step failed.

// Bootstrap describes one node's bootstrap.
type Bootstrap struct {
	Engine config.Engine
	Setup  *config.Setup
	// Flambe installs Flambé in the venv too: the job is an !Experiment.
	Flambe bool
	Venv   string // the venv's directory on the node, absolute
	Work   string // the uploaded workspace, where the requirements file is
}

// BootStep is one step of a bootstrap.
type BootStep struct {
	Name   string // "apt-get", "venv", "packages", "requirements"
	Script string
}

// Timing is how long one step took on a node.
type Timing struct {
	Step     string
	Duration time.Duration
}

// BootstrapError is a step that failed on a node, with the end of its output.
type BootstrapError struct {
	Node, Step string
	Err        error
	Tail       string
}

func (e *BootstrapError) Error() string {
	// The run names the node before the message, as it does every node's error.
	return fmt.Sprintf("the bootstrap (setup:) failed in its %s step: %v; the end of its log:\n%s", e.Step, e.Err, e.Tail)
}

func (e *BootstrapError) Unwrap() error { return e.Err }

// bootTailLines is how much of a failed step's output its error shows.
const bootTailLines = 25

// pip runs the venv's pip without its version nag, prompts or progress bars, which fill a
// captured log.
func (b Bootstrap) pip() string {
	return shell.Quote(path.Join(b.Venv, "bin", "python")) + " -m pip install --disable-pip-version-check --no-input --progress-bar off"
}

// Steps are the bootstrap's steps, in order; a step with nothing to do is left out.
func (b Bootstrap) Steps() []BootStep {
	system := b.Setup.EnginePackages == config.EngineSystem
	var steps []BootStep
	// apt-get only when something is missing: an image that has python3-venv (and the
	// engine's packages) needs neither root nor a mirror. The dpkg lock is waited for: on a
	// freshly booted Ubuntu, cloud-init or unattended-upgrades may hold it.
	var apt strings.Builder
	apt.WriteString("need=\n")
	apt.WriteString("python3 -c 'import ensurepip' 2>/dev/null || need=python3-venv\n")
	if system {
		for _, p := range SystemPackages(b.Engine) {
			mod := strings.TrimPrefix(p, "python3-")
			fmt.Fprintf(&apt, "python3 -c 'import %s' 2>/dev/null || need=\"$need %s\"\n", mod, p)
		}
	}
	apt.WriteString(`if [ -z "$need" ]; then
	echo "sear: nothing to install with apt-get"
	exit 0
fi
if [ "$(id -u)" = 0 ]; then
	sudo=
elif sudo -n true 2>/dev/null; then
	sudo="sudo -n"
else
	echo "sear: installing $need with apt-get needs root or passwordless sudo" >&2
	exit 1
fi
echo "sear: apt-get install $need"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update || exit
$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends $need
`)
	steps = append(steps, BootStep{Name: "apt-get", Script: apt.String()})

	venvArgs := ""
	if system {
		venvArgs = " --system-site-packages" // the distribution's engine, seen from the venv
	}
	v := shell.Quote(b.Venv)
	steps = append(steps, BootStep{Name: "venv", Script: fmt.Sprintf(
		"[ -x %[1]s/bin/python ] || python3 -m venv%[2]s %[1]s || exit\n%[1]s/bin/python -m pip --version\n", v, venvArgs)})

	pkgs := b.pins()
	pkgs = append(pkgs, b.Setup.Packages...)
	if len(pkgs) > 0 {
		steps = append(steps, BootStep{Name: "packages", Script: b.pip() + " " + shell.Join(pkgs) + "\n"})
	}
	if r := b.Setup.Requirements; r != "" {
		req := path.Join(b.Work, r)
		// The pins again: a requirement that wants another version of the engine
		// is a conflict pip reports, not a silent replacement.
		steps = append(steps, BootStep{Name: "requirements", Script: fmt.Sprintf(
			"[ -f %[1]s ] || { echo \"sear: the requirements file %[2]s is not in the uploaded workspace\" >&2; exit 1; }\ncd %[3]s || exit\n%[4]s -r %[1]s%[5]s\n",
			shell.Quote(req), r, shell.Quote(b.Work), b.pip(), joinArgs(b.pins()))})
	}
	return steps
}

// pins are the pip packages sear installs for the engine and the runnable.
func (b Bootstrap) pins() []string {
	var pkgs []string
	if b.Setup.EnginePackages == config.EnginePip {
		pkgs = append(pkgs, PipPackages(b.Engine)...)
	}
	if b.Flambe {
		pkgs = append(pkgs, FlambePackage)
	}
	return pkgs
}

func joinArgs(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return " " + shell.Join(args)
}

// Run runs the bootstrap's steps on one node with env, calling done after each, and returns
// their timings. A failed step is a *BootstrapError with the end of its output.
func (b Bootstrap) Run(ctx context.Context, node string, sh Shell, env map[string]string, done func(Timing)) ([]Timing, error) {
	var timings []Timing
	for _, s := range b.Steps() {
		var out bytes.Buffer // remote serializes one writer shared by both streams
		start := time.Now()
		err := sh.Run(ctx, s.Script, remote.RunOptions{Env: env, Stdout: &out, Stderr: &out})
		t := Timing{Step: s.Name, Duration: time.Since(start)}
		timings = append(timings, t)
		if done != nil {
			done(t)
		}
		if err != nil {
			var ee *remote.ExitError
			if !errors.As(err, &ee) && ctx.Err() != nil {
				return timings, fmt.Errorf("the bootstrap on %s in its %s step: %w", node, s.Name, err)
			}
			return timings, &BootstrapError{Node: node, Step: s.Name, Err: err, Tail: tailLines(out.String(), bootTailLines)}
		}
	}
	return timings, nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
