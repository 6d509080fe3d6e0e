package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// Where the runner mounts its directories in a Docker action's container
// (ContainerActionHandler), and the working directory it gives it.
const (
	containerWorkspace    = "/github/workspace"
	containerHome         = "/github/home"
	containerWorkflow     = "/github/workflow"
	containerFileCommands = "/github/file_commands"
	dockerSocket          = "/var/run/docker.sock"
)

// JobOptions configures a Job.
type JobOptions struct {
	// Dir holds the runner's work directory (its _temp, and the workspace); a test's TempDir.
	// Required.
	Dir string
	// World is the test world the job runs against; it must listen on Network's gateway
	// (world.Options.ListenAlso). Required.
	World *world.World
	// Network is the Docker network the container joins, as the runner passes its job network:
	// the world's Docker backend's network (InspectNetwork), so that the container reaches the
	// instances, or one of CreateNetwork's. Required.
	Network Network
	// Image is the action's image; default Image(), built once per process.
	Image string
	// Manifest is the action.yml to read inputs and entry points from; default the repository's.
	Manifest string
	// Log receives the image build's progress; nil discards it.
	Log io.Writer
}

// Job is one workflow job on an emulated runner: its directories, its github context and the
// world's variables (which stand for the workflow's env: block), for running the action's steps
// the way the Actions runner runs a Docker action.
type Job struct {
	// Workspace is the host directory mounted at /github/workspace (GITHUB_WORKSPACE): put the
	// repository's files here before a step.
	Workspace string
	// Temp is the runner's _temp directory (RUNNER_TEMP).
	Temp string
	// Manifest is the action's action.yml as read.
	Manifest *Manifest

	image    string
	network  Network
	home     string // _temp/_github_home
	workflow string // _temp/_github_workflow
	commands string // _temp/_runner_file_commands
	github   map[string]string
	worldEnv []string // the world's variables at the gateway, minus GITHUB_TOKEN
	id       string
}

// NewJob lays out the runner's directories under opts.Dir, writes the event payload, and builds
// (or finds) the action's image.
func NewJob(ctx context.Context, opts JobOptions) (*Job, error) {
	if opts.Dir == "" || opts.World == nil || opts.Network.Name == "" || !opts.Network.Gateway.IsValid() {
		return nil, errors.New("runner: a job needs JobOptions.Dir, World and Network")
	}
	if err := reachable(ctx, opts.World, opts.Network); err != nil {
		return nil, err
	}
	if opts.Manifest == "" {
		root, err := RepositoryRoot()
		if err != nil {
			return nil, err
		}
		opts.Manifest = filepath.Join(root, "action.yml")
	}
	m, err := ReadManifest(opts.Manifest)
	if err != nil {
		return nil, err
	}
	if opts.Image == "" {
		if opts.Image, err = Image(ctx, opts.Log); err != nil {
			return nil, err
		}
	}
	seed := opts.World.Seed()
	_, name, _ := strings.Cut(seed.Repository, "/")
	// The hosted runner's layout: /home/runner/work/<repo>/<repo> and /home/runner/work/_temp.
	work := filepath.Join(opts.Dir, "work")
	j := &Job{
		Workspace: filepath.Join(work, name, name),
		Temp:      filepath.Join(work, "_temp"),
		Manifest:  m,
		image:     opts.Image,
		network:   opts.Network,
		id:        randomHex(6),
	}
	j.home = filepath.Join(j.Temp, "_github_home")
	j.workflow = filepath.Join(j.Temp, "_github_workflow")
	j.commands = filepath.Join(j.Temp, "_runner_file_commands")
	for _, d := range []string{j.Workspace, j.home, j.workflow, j.commands} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			return nil, fmt.Errorf("make the runner's directories: %w", err)
		}
	}
	env := opts.World.EnvAt(opts.Network.Gateway)
	j.github = githubContext(seed, envMap(env))
	for _, kv := range env {
		// The runner gives no step GITHUB_TOKEN: an action gets the token through an input
		// (sear's github-token, default ${{ github.token }}) or the workflow's env.
		if !strings.HasPrefix(kv, "GITHUB_TOKEN=") {
			j.worldEnv = append(j.worldEnv, kv)
		}
	}
	payload, err := eventPayload(seed, j.github)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(j.workflow, "event.json"), payload, 0o666); err != nil {
		return nil, fmt.Errorf("write the event payload: %w", err)
	}
	return j, nil
}

// reachable checks that the world listens on the network's gateway, which is where the
// container will call it, so that a missing ListenAlso is named here rather than seen as a
// connection refused inside sear.
func reachable(ctx context.Context, w *world.World, n Network) error {
	u, err := url.Parse(w.URLs().Control)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(n.Gateway.String(), u.Port())
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("the test world does not listen on %s, the gateway of docker network %s, where the action's container calls it; start it with world.Options{ListenAlso: []netip.Addr{%s}}: %w",
			n.Gateway, n.Name, n.Gateway, err)
	}
	return conn.Close()
}

// GitHub returns a value of the job's github context (token, sha, ref, event_name, …).
func (j *Job) GitHub(name string) string { return j.github[name] }

// Stage is which of a Docker action's entry points a step runs.
type Stage int

// The stages sear has: runs.entrypoint, then runs.post-entrypoint at the end of the job.
const (
	Main Stage = iota
	Post
)

func (s Stage) String() string {
	if s == Post {
		return "post"
	}
	return "main"
}

// Step is one run of the action.
type Step struct {
	Stage Stage
	// With are the step's inputs (with: in the workflow), by their action.yml names. Declared
	// inputs left out get their defaults, evaluated, as the runner gives them.
	With map[string]string
	// Env are the step's and workflow's env: entries, NAME=value, on top of the world's.
	Env []string
	// State is the main step's saved state, given to a post step as STATE_<name> (Result.State).
	State map[string]string
	// Entrypoint overrides the manifest's entry point (a test running the image's binary
	// directly); empty means the stage's.
	Entrypoint string
	// Args follow the image on docker run's command line; default the manifest's runs.args.
	Args []string
	// Mounts are extra -v bind mounts, host:container[:ro], for test helpers; the runner has none.
	Mounts []string
}

// environment is the step's container environment, NAME=value, as the runner computes it:
// inputs, the world's variables (the workflow's env), the step's env, the github context's
// GITHUB_* variables, the runner's own, and the file commands, with the host paths translated
// to the container's.
func (j *Job) environment(s Step, files map[string]string) ([]string, error) {
	env := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, ok := env[name]; !ok {
			order = append(order, name)
		}
		env[name] = value
	}
	inputs, err := j.inputs(s.With)
	if err != nil {
		return nil, err
	}
	for _, in := range inputs {
		set(InputVariable(in[0]), in[1])
	}
	for _, kv := range append(append([]string(nil), j.worldEnv...), s.Env...) {
		name, value, _ := strings.Cut(kv, "=")
		set(name, value)
	}
	for _, name := range githubVariables {
		set("GITHUB_"+strings.ToUpper(name), j.github[name])
	}
	for _, fc := range fileCommands {
		set(fc.variable, filepath.Join(containerFileCommands, filepath.Base(files[fc.prefix])))
	}
	// RUNNER_TEMP and RUNNER_WORKSPACE keep their host paths, which do not exist in the
	// container: the runner translates only paths under its four mounts. The runner also passes
	// ACTIONS_RUNTIME_URL, ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL (artifacts, caches),
	// which the world does not emulate and sear does not use; they are left out.
	set("RUNNER_OS", "Linux")
	set("RUNNER_ARCH", "X64")
	set("RUNNER_NAME", "GitHub Actions 1")
	set("RUNNER_ENVIRONMENT", "github-hosted")
	set("RUNNER_TEMP", j.Temp)
	set("RUNNER_WORKSPACE", filepath.Dir(j.Workspace))
	set("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache")
	set("HOME", containerHome)
	for name, value := range s.State {
		set("STATE_"+name, value)
	}
	out := make([]string, 0, len(order))
	for _, name := range order {
		out = append(out, name+"="+env[name])
	}
	return out, nil
}

// inputs are the step's inputs as name-value pairs: the declared ones in order, each given or
// defaulted, then any undeclared ones the step gave (the runner warns and passes them on).
func (j *Job) inputs(with map[string]string) ([][2]string, error) {
	var out [][2]string
	declared := map[string]bool{}
	for _, in := range j.Manifest.Inputs {
		declared[in.Name] = true
		v, ok := with[in.Name]
		if !ok {
			var err error
			if v, err = evaluate(in.Default, j.github); err != nil {
				return nil, fmt.Errorf("input %s: %w", in.Name, err)
			}
		}
		out = append(out, [2]string{in.Name, v})
	}
	for name, v := range with {
		if !declared[name] {
			out = append(out, [2]string{name, v})
		}
	}
	return out, nil
}

// envMap indexes NAME=value pairs.
func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		m[name] = value
	}
	return m
}
