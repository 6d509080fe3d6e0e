package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/sear-ci/sear/internal/shell"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/remote"
)

// ErrJobFailed is returned when the job ran and exited non-zero.
var ErrJobFailed = errors.New("the job failed")

// ErrTimedOut is returned when the job was ended at max_duration.
var ErrTimedOut = errors.New("the job was ended at max_duration")

// setup runs the cluster's setup_cmds on every node, in the workspace.
func setup(ctx context.Context, st *state) error {
	cmds := st.opts.Cluster.SetupCmds
	if len(cmds) == 0 {
		return nil
	}
	return st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		for _, cmd := range cmds {
			var out bytes.Buffer // remote serializes one writer shared by both streams
			err := st.conns[n.Rank].Run(ctx, cmd, remote.RunOptions{Env: st.env(n), Dir: st.layout[n.Rank].Work, Stdout: &out, Stderr: &out})
			if err != nil {
				return fmt.Errorf("setup command %q failed: %w\n%s", cmd, err, tail(out.String(), 20))
			}
		}
		return nil
	})
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// runJob starts the job detached on the orchestrator, so a dropped SSH
// connection does not end it, streams its log, and waits for its exit.
func runJob(ctx context.Context, st *state) error {
	orch := st.nodes[0]
	if err := st.preflight(ctx, orch); err != nil {
		return err
	}
	if err := st.start(ctx, orch); err != nil {
		return err
	}
	jobCtx, cancel := context.WithTimeout(ctx, st.opts.Cluster.MaxDuration)
	defer cancel()
	status, err := st.follow(jobCtx, orch)
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(jobCtx.Err(), context.DeadlineExceeded):
		st.result.TimedOut = true
		st.stop(ctx, orch)
		return fmt.Errorf("%w (%s)", ErrTimedOut, st.opts.Cluster.MaxDuration)
	case err != nil:
		st.stop(context.WithoutCancel(ctx), orch)
		return err
	}
	st.result.ExitStatus = status
	if status != 0 {
		return fmt.Errorf("%w: exit status %d", ErrJobFailed, status)
	}
	return nil
}

// preflight checks, before anything runs, that the launcher exists there.
func (st *state) preflight(ctx context.Context, n cloud.Node) error {
	name := st.launcher()
	if name == "" {
		return nil
	}
	err := st.conns[n.Rank].Run(ctx, "command -v "+name, remote.RunOptions{Env: st.env(n)})
	if err != nil {
		return fmt.Errorf("%s is not installed on the orchestrator (%s); install it in the image or with setup_cmds", name, n.Name)
	}
	return nil
}

// start launches the job in its own session: its process group can be
// ended as a whole, and it survives the SSH session that started it.
func (st *state) start(ctx context.Context, n cloud.Node) error {
	l := st.layout[n.Rank]
	script := fmt.Sprintf(`set -e
mkdir -p %[1]s %[2]s
rm -f %[1]s/exit %[1]s/log
: > %[1]s/log
setsid sh -c '"$@" >> "$0/log" 2>&1 < /dev/null; echo $? > "$0/exit.tmp"; mv "$0/exit.tmp" "$0/exit"' %[1]s %[3]s > /dev/null 2>&1 < /dev/null &
echo $! > %[1]s/pid`, shell.Quote(l.Job), shell.Quote(l.Output), shell.Join(st.command()))
	st.logf("sear: running %s", shell.Join(st.command()))
	if err := st.conns[n.Rank].Run(ctx, script, remote.RunOptions{Env: st.env(n), Dir: l.Work}); err != nil {
		return fmt.Errorf("start the job on %s: %w", n.Name, err)
	}
	return nil
}

// follow streams the log from where it left off until the job exits. If
// the connection drops, it reconnects and resumes at the same byte, so no
// line is lost or repeated.
func (st *state) follow(ctx context.Context, n cloud.Node) (int, error) {
	var offset int64
	for {
		err := st.tailOnce(ctx, n, &offset)
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		if status, done := st.exitStatus(ctx, n); done {
			// The job may have written its last lines after tail's
			// final read; one more pass picks them up.
			st.tailRest(ctx, n, &offset)
			return status, nil
		}
		if err != nil {
			st.logf("sear: log stream from %s interrupted (%v); reconnecting", n.Name, err)
			if rerr := st.reconnect(ctx, n); rerr != nil {
				return -1, fmt.Errorf("lost %s: %w", n.Name, rerr)
			}
		}
	}
}

func (st *state) tailOnce(ctx context.Context, n cloud.Node, offset *int64) error {
	l := st.layout[n.Rank]
	cmd := fmt.Sprintf("exec tail -c +%d -s 0.2 --pid=\"$(cat %s/pid)\" -f %s/log", *offset+1, shell.Quote(l.Job), shell.Quote(l.Job))
	w := &countingWriter{w: st.opts.Log, n: offset}
	return st.conns[n.Rank].Run(ctx, cmd, remote.RunOptions{Stdout: w})
}

func (st *state) tailRest(ctx context.Context, n cloud.Node, offset *int64) {
	l := st.layout[n.Rank]
	cmd := fmt.Sprintf("tail -c +%d %s/log", *offset+1, shell.Quote(l.Job))
	st.conns[n.Rank].Run(ctx, cmd, remote.RunOptions{Stdout: &countingWriter{w: st.opts.Log, n: offset}})
}

func (st *state) exitStatus(ctx context.Context, n cloud.Node) (int, bool) {
	out, err := st.conns[n.Rank].Output(ctx, "cat "+shell.Quote(path.Join(st.layout[n.Rank].Job, "exit"))+" 2>/dev/null || true")
	if err != nil {
		return -1, false
	}
	s := strings.TrimSpace(string(out))
	if s == "" {
		return -1, false
	}
	status, err := strconv.Atoi(s)
	return status, err == nil
}

func (st *state) reconnect(ctx context.Context, n cloud.Node) error {
	c, err := st.dial(ctx, n, st.keys.Nodes[n.Rank].ActiveHostKey())
	if err != nil {
		return err
	}
	st.conns[n.Rank].Close()
	st.conns[n.Rank] = c
	return nil
}

// stop ends the job's whole process group: TERM, then KILL after a grace.
func (st *state) stop(ctx context.Context, n cloud.Node) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	pid := path.Join(st.layout[n.Rank].Job, "pid")
	cmd := fmt.Sprintf(`p=$(cat %s) || exit 0
kill -s TERM -- "-$p" 2>/dev/null || exit 0
for i in 1 2 3 4 5 6 7 8 9 10; do kill -s 0 -- "-$p" 2>/dev/null || exit 0; sleep 1; done
kill -s KILL -- "-$p" 2>/dev/null || true`, shell.Quote(pid))
	if err := st.conns[n.Rank].Run(ctx, cmd, remote.RunOptions{}); err != nil {
		st.logf("sear: could not stop the job on %s: %v (the cluster's teardown ends it)", n.Name, err)
	}
}

// countingWriter forwards writes and counts the bytes that got through, the
// offset a resumed tail starts from.
type countingWriter struct {
	w io.Writer
	n *int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.w == nil {
		*c.n += int64(len(p))
		return len(p), nil
	}
	k, err := c.w.Write(p)
	*c.n += int64(k)
	return k, err
}
