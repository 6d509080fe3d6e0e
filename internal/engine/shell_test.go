package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// execShell runs a node's scripts with /bin/sh through a local command:
// on this machine (hostShell) or in a container (dockerShell). It keeps
// remote.Client's contract: Env exported, Dir the working directory, a
// non-zero exit a *remote.ExitError, and ctx's end ending the command.
type execShell struct {
	name string
	// command returns the argv that runs script with env in dir; tag
	// names this run for kill.
	command func(script string, env map[string]string, dir, tag string) []string
	// kill, if set, is the argv that ends the run tagged tag where it
	// runs, when ending the local command does not (docker exec).
	kill func(tag string) []string
	// environ is the local command's environment; nil inherits this
	// process's.
	environ []string
}

func (s execShell) Run(ctx context.Context, script string, opts remote.RunOptions) error {
	tag := fmt.Sprintf("%016x", rand.Uint64())
	argv := s.command(script, opts.Env, opts.Dir, tag)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = s.environ
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	// As sshd does, the command leads a group of its own, which a cancel
	// ends whole, as remote.Client's does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if s.kill != nil {
			k := s.kill(tag)
			_ = exec.Command(k[0], k[1:]...).Run()
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return &remote.ExitError{Addr: s.name, Command: fmt.Sprintf("%.40q", script), Status: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// hostShell runs scripts on this machine with env on top of extra and
// this process's environment.
func hostShell(name string, extra map[string]string) execShell {
	base := os.Environ()
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		base = append(base, k+"="+extra[k])
	}
	return execShell{
		name:    name,
		environ: base,
		command: func(script string, env map[string]string, dir, _ string) []string {
			return []string{"sh", "-c", prelude(env, dir) + script}
		},
	}
}

// dockerShell runs scripts in container as user. Ending docker exec
// leaves the command running in the container, so each run leads a
// session of its own there and writes its pid where kill finds it. The
// command docker exec starts leads a process group already, so setsid
// forks: --wait keeps docker exec waiting for the script.
func dockerShell(container, user string) execShell {
	pidFile := func(tag string) string { return "/tmp/sear-test-run-" + tag + ".pid" }
	return execShell{
		name: container,
		command: func(script string, env map[string]string, dir, tag string) []string {
			argv := []string{"docker", "exec", "-u", user}
			if dir != "" {
				argv = append(argv, "-w", dir)
			}
			for _, k := range slices.Sorted(maps.Keys(env)) {
				argv = append(argv, "-e", k+"="+env[k])
			}
			return append(argv, container, "setsid", "--wait", "sh", "-c", "echo $$ > "+pidFile(tag)+"\n"+script)
		},
		kill: func(tag string) []string {
			return []string{"docker", "exec", container, "sh", "-c", `kill -s TERM -- "-$(cat "$1")"`, "sh", pidFile(tag)}
		},
	}
}

// prelude is remote's: cd to dir, export env.
func prelude(env map[string]string, dir string) string {
	var b strings.Builder
	if dir != "" {
		fmt.Fprintf(&b, "cd %s || exit\n", shell.Quote(dir))
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "export %s=%s\n", k, shell.Quote(env[k]))
	}
	return b.String()
}
