package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The runner's cancel sequence for a step's process (ProcessInvoker.CancelAndKillProcessTree,
// killProcessOnCancel false, which ContainerActionHandler's docker run uses): SIGINT, SIGTERM
// 7.5 s later, SIGKILL 2.5 s after that. The signals go to the docker CLI, which passes the two
// first on to the container's process (docker run's --sig-proxy, on by default); the SIGKILL
// ends the CLI only, and the container keeps running until its process exits.
const (
	SIGINTGrace  = 7500 * time.Millisecond
	SIGTERMGrace = 2500 * time.Millisecond
)

// Container is a step's docker run, started as the runner starts it.
type Container struct {
	// Name is the container's name (docker run --name).
	Name  string
	stage Stage
	files map[string]string // the step's file commands, by prefix

	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when docker run has exited
	waitErr error         // docker run's exit, set before done is closed
	ended   time.Time

	mu             sync.Mutex
	stdout, stderr bytes.Buffer
	written        chan struct{} // closed and replaced on every write
}

// Start starts a step: docker run with exactly the runner's options for a Docker action (see
// dockerRun), and returns once the container is running, or has already exited. tee, if not
// nil, also receives everything the container prints, as the Actions log would.
func (j *Job) Start(ctx context.Context, s Step, tee io.Writer) (*Container, error) {
	guid := randomHex(16)
	files, err := stepFiles(j.commands, guid)
	if err != nil {
		return nil, err
	}
	env, err := j.environment(s, files)
	if err != nil {
		return nil, err
	}
	args, err := j.dockerRun(s, env, guid)
	if err != nil {
		return nil, err
	}
	c := &Container{Name: args[2], stage: s.Stage, files: files, done: make(chan struct{}), written: make(chan struct{})}
	// Not CommandContext: ending ctx must not kill docker run, which would leave the container
	// running; Wait's context ends a step, with docker kill.
	c.cmd = exec.Command("docker", args...)
	// docker run -e NAME takes the value from its own environment, as the runner passes it
	// (values never appear on a command line). Later entries win over the process's own.
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout = &streamWriter{c: c, buf: &c.stdout, tee: tee}
	c.cmd.Stderr = &streamWriter{c: c, buf: &c.stderr, tee: tee}
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start docker run for the %s step: %w", s.Stage, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		c.ended = time.Now()
		close(c.done)
	}()
	if err := c.waitRunning(ctx); err != nil {
		_ = c.Kill(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// dockerRun is docker run's argument list, as ContainerActionHandler and DockerCommandManager
// build it: name and label, the working directory, --rm, every variable by name only, the
// watermark GITHUB_ACTIONS and CI, the entry point, the job's network, the five mounts, the
// image, then runs.args.
func (j *Job) dockerRun(s Step, env []string, guid string) ([]string, error) {
	entrypoint := s.Entrypoint
	if entrypoint == "" {
		entrypoint = j.Manifest.Entrypoint
		if s.Stage == Post {
			entrypoint = j.Manifest.PostEntrypoint
			if entrypoint == "" {
				return nil, errors.New("the action has no post-entrypoint, so the runner runs no post step")
			}
		}
	}
	name := "sear-runner_" + guid[:6]
	args := []string{"run", "--name", name, "--label", labelKey + "=" + j.id,
		"--workdir", containerWorkspace, "--rm"}
	ci := false
	for _, kv := range env {
		n, _, _ := strings.Cut(kv, "=")
		ci = ci || n == "CI"
		args = append(args, "-e", n)
	}
	args = append(args, "-e", "GITHUB_ACTIONS=true")
	if !ci {
		args = append(args, "-e", "CI=true")
	}
	if entrypoint != "" {
		args = append(args, "--entrypoint", entrypoint)
	}
	args = append(args, "--network", j.network.Name)
	mounts := []string{
		dockerSocket + ":" + dockerSocket,
		j.home + ":" + containerHome,
		j.workflow + ":" + containerWorkflow,
		j.commands + ":" + containerFileCommands,
		j.Workspace + ":" + containerWorkspace,
	}
	if _, err := os.Stat(dockerSocket); err != nil {
		// An engine reached another way (DOCKER_HOST); the bind would make an empty directory.
		mounts = mounts[1:]
	}
	for _, m := range append(mounts, s.Mounts...) {
		args = append(args, "-v", m)
	}
	args = append(args, j.image)
	if s.Args != nil {
		return append(args, s.Args...), nil
	}
	return append(args, j.Manifest.Args...), nil
}

// waitRunning returns once the container is running or docker run has exited.
func (c *Container) waitRunning(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := dockerCLI(ctx, nil, "container", "inspect", "--format", "{{.State.Running}}", c.Name)
		if err == nil && out == "true" {
			return nil
		}
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("wait for container %s to start: %w", c.Name, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// Started is when docker run was started.
func (c *Container) Started() time.Time { return c.started }

// Signal sends sig to docker run, which passes it on to the container's process, as the runner
// signals a step it cancels. The process must have installed its handlers by then: as PID 1 in
// its container, it does not die of a signal it does not handle (wait for its first output).
func (c *Container) Signal(sig os.Signal) error {
	select {
	case <-c.done:
		return fmt.Errorf("signal container %s: docker run has exited", c.Name)
	default:
	}
	if err := c.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal container %s: %w", c.Name, err)
	}
	return nil
}

// Kill kills the container's process at once (docker kill, SIGKILL), as a runner that dies or a
// machine that is turned off would end it. A container that is gone already is no error.
func (c *Container) Kill(ctx context.Context) error {
	if _, err := dockerCLI(ctx, nil, "kill", c.Name); err != nil && !isNotFound(err) {
		return fmt.Errorf("kill container %s: %w", c.Name, err)
	}
	return nil
}

// Cancel cancels the step as the runner does: SIGINT; SIGTERM if docker run is still there
// SIGINTGrace later; SIGKILL to docker run SIGTERMGrace after that. Like the runner's, that last
// kill leaves the container running if its process has not exited; Close removes it.
func (c *Container) Cancel(ctx context.Context) error {
	for _, step := range []struct {
		sig   os.Signal
		grace time.Duration
	}{{os.Interrupt, SIGINTGrace}, {syscall.SIGTERM, SIGTERMGrace}} {
		if err := c.Signal(step.sig); err != nil {
			select {
			case <-c.done:
				return nil // it exited meanwhile
			default:
				return err
			}
		}
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(step.grace):
		}
	}
	if err := c.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill docker run of container %s: %w", c.Name, err)
	}
	<-c.done
	return nil
}

// Close removes the container if it outlived docker run (Cancel's last step), and ends docker
// run if it is still waiting; call it when a test is done with the container.
func (c *Container) Close(ctx context.Context) error {
	if _, err := dockerCLI(ctx, nil, "rm", "--force", c.Name); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return nil
}

// Output is what the container has printed so far on stdout and on stderr.
func (c *Container) Output() (stdout, stderr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String(), c.stderr.String()
}

// WaitOutput waits until the container has printed s, on stdout or stderr. It fails if docker
// run exits first, or ctx ends.
func (c *Container) WaitOutput(ctx context.Context, s string) error {
	for {
		c.mu.Lock()
		found := strings.Contains(c.stdout.String(), s) || strings.Contains(c.stderr.String(), s)
		written := c.written
		c.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-written:
		case <-c.done:
			// The last writes may have raced the exit; look once more.
			stdout, stderr := c.Output()
			if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
				return nil
			}
			return fmt.Errorf("container %s exited without printing %q", c.Name, s)
		case <-ctx.Done():
			return fmt.Errorf("wait for container %s to print %q: %w", c.Name, s, context.Cause(ctx))
		}
	}
}

// Result is a finished step, read back as the runner reads it.
type Result struct {
	// ExitCode is docker run's: the process's exit status, 125 to 127 when docker could not run
	// it, -1 when docker run was killed (Cancel's last step).
	ExitCode       int
	Stdout, Stderr string
	// Outputs, State and Env are what the step wrote to GITHUB_OUTPUT, GITHUB_STATE and
	// GITHUB_ENV; Path, to GITHUB_PATH; Summary, to GITHUB_STEP_SUMMARY.
	Outputs, State, Env map[string]string
	Path                []string
	Summary             string
	// Started and Ended are when docker run was started and when it exited.
	Started, Ended time.Time
}

// Wait waits for docker run to exit and reads the step's file commands. If ctx ends first, it
// kills the container and returns ctx's error.
func (c *Container) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		err := c.Kill(context.WithoutCancel(ctx))
		<-c.done
		return nil, errors.Join(fmt.Errorf("container %s: %w", c.Name, context.Cause(ctx)), err)
	}
	var exit *exec.ExitError
	if c.waitErr != nil && !errors.As(c.waitErr, &exit) {
		return nil, fmt.Errorf("docker run of container %s: %w", c.Name, c.waitErr)
	}
	r := &Result{ExitCode: c.cmd.ProcessState.ExitCode(), Started: c.started, Ended: c.ended}
	r.Stdout, r.Stderr = c.Output()
	var errs []error
	read := func(prefix string) string {
		data, err := os.ReadFile(c.files[prefix])
		errs = append(errs, err)
		return string(data)
	}
	var err error
	r.Outputs, err = parseKeyValues("GITHUB_OUTPUT", read(fileOutput))
	errs = append(errs, err)
	r.State, err = parseKeyValues("GITHUB_STATE", read(fileState))
	errs = append(errs, err)
	r.Env, err = parseKeyValues("GITHUB_ENV", read(fileEnv))
	errs = append(errs, err)
	r.Path = parsePath(read(filePath))
	r.Summary = read(fileSummary)
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("read the %s step's file commands in %s: %w", c.stage, filepath.Dir(c.files[fileOutput]), err)
	}
	return r, nil
}

// Run runs a step to its end: Start, Wait, Close.
func (j *Job) Run(ctx context.Context, s Step, tee io.Writer) (*Result, error) {
	c, err := j.Start(ctx, s, tee)
	if err != nil {
		return nil, err
	}
	r, err := c.Wait(ctx)
	return r, errors.Join(err, c.Close(context.WithoutCancel(ctx)))
}

// streamWriter appends one of docker run's streams to the container's buffer and wakes those
// waiting for output.
type streamWriter struct {
	c   *Container
	buf *bytes.Buffer
	tee io.Writer
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.buf.Write(p)
	close(w.c.written)
	w.c.written = make(chan struct{})
	if w.tee != nil {
		_, _ = w.tee.Write(p) // the tee is a log; the step goes on without it
	}
	return len(p), nil
}
