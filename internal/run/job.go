package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
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
	if err := st.prepareCheckpoints(ctx); err != nil {
		return fmt.Errorf("make SEAR_CHECKPOINT_DIR: %w", err)
	}
	if err := st.start(ctx, orch); err != nil {
		return err
	}
	var sw *spotWatch
	if st.hasSpot() {
		sw = st.watchSpot(ctx)
	}
	err := st.waitJob(ctx, orch, sw)
	// The interruptions explain the job's end, whatever it was: a job that
	// saved and exited on the signal, one the instance's end cut short.
	st.result.Interruptions = sw.stop(ctx)
	if err != nil && len(st.result.Interruptions) > 0 && ctx.Err() == nil {
		// While EC2's notice lasts, the orchestrator is still there to
		// save from, whichever node was interrupted.
		st.saveCheckpoint(ctx)
	}
	if err != nil {
		return interruptedErr(st.result.Interruptions, err)
	}
	return nil
}

// waitJob follows the job until it ends, within max_duration.
func (st *state) waitJob(ctx context.Context, orch cloud.Node, sw *spotWatch) error {
	jobCtx, cancel := context.WithTimeout(ctx, st.opts.Cluster.MaxDuration)
	defer cancel()
	jobCtx, cancelSpend := st.withSpendLimit(jobCtx)
	defer cancelSpend()
	status, err := st.follow(jobCtx, orch, sw)
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(context.Cause(jobCtx), ErrOverBudget):
		st.result.OverBudget = true
		st.result.SpentUSD = st.spentBy(time.Now())
		st.stop(ctx, orch)
		return fmt.Errorf("%w: the cluster had cost about $%.2f of $%.2f", ErrOverBudget, st.result.SpentUSD, st.opts.Spend.LimitUSD)
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
	env, trap := st.env(n), ""
	if st.hasSpot() {
		// The spot signal goes to the job's whole process group, the
		// wrapper included: trapped there (a trap, unlike an ignored
		// signal, is reset for the job at exec), it leaves the wrapper
		// alive to record the job's exit status.
		trap = "trap : " + strings.TrimPrefix(st.spotSignal(), "SIG") + "; "
		env["SEAR_SPOT_NOTICE"] = path.Join(l.Job, spotNoticeFile)
	}
	script := fmt.Sprintf(`set -e
mkdir -p %[1]s %[2]s
rm -f %[1]s/exit %[1]s/log %[1]s/%[5]s
: > %[1]s/log
setsid sh -c '%[4]s"$@" >> "$0/log" 2>&1 < /dev/null; echo $? > "$0/exit.tmp"; mv "$0/exit.tmp" "$0/exit"' %[1]s %[3]s > /dev/null 2>&1 < /dev/null &
echo $! > %[1]s/pid`, shell.Quote(l.Job), shell.Quote(l.Output), shell.Join(st.command()), trap, spotNoticeFile)
	st.logf("sear: running %s", shell.Join(st.command()))
	if err := st.conns[n.Rank].Run(ctx, script, remote.RunOptions{Env: env, Dir: l.Work}); err != nil {
		return fmt.Errorf("start the job on %s: %w", n.Name, err)
	}
	return nil
}

// follow streams the log from where it left off until the job exits. If
// the connection drops, it reconnects and resumes at the start of the
// line it was in, so no line is lost, repeated or cut in two.
func (st *state) follow(ctx context.Context, n cloud.Node, sw *spotWatch) (int, error) {
	var offset int64
	for {
		err := st.tailOnce(ctx, n, &offset)
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		status, ended, cerr := st.exitStatus(ctx, n)
		if cerr == nil && ended {
			// The job may have written its last lines after tail's
			// final read; one more pass picks them up. If the link
			// drops during it, the loop reconnects and reads them.
			if err = st.tailRest(ctx, n, &offset); err == nil {
				if status < 0 {
					return -1, fmt.Errorf("the job on %s ended without an exit status: something killed its process group", n.Name)
				}
				return status, nil
			}
		}
		if err == nil {
			err = cerr
		}
		if in, ok := sw.noticed(n.Rank); ok && err != nil {
			// EC2 is reclaiming the node: no reconnect will reach it.
			return -1, fmt.Errorf("lost %s at its spot interruption (EC2 said it would %s it at %s): %w",
				n.Name, in.Action, in.ActionTime.UTC().Format(time.RFC3339), err)
		}
		if err != nil {
			st.logf("sear: log stream from %s interrupted (%v); reconnecting", n.Name, err)
			if rerr := st.reconnect(ctx, n); rerr != nil {
				return -1, fmt.Errorf("lost %s: %w", n.Name, rerr)
			}
		}
	}
}

// tailOnce follows the log from offset until the job's wrapper exits or
// the stream breaks, and moves offset past the lines it passed on. GNU
// tail waits on inotify where the file system has it, but polls where it
// does not (NFS, FUSE: the test world's containers), every -s seconds: at
// 0.2 s a line waited 100 ms on average there, at 0.05 s 25 ms, for a
// stat of the log 20 times a second.
func (st *state) tailOnce(ctx context.Context, n cloud.Node, offset *int64) error {
	l := st.layout[n.Rank]
	cmd := fmt.Sprintf("exec tail -c +%d -s 0.05 --pid=\"$(cat %s/pid)\" -f %s/log", *offset+1, shell.Quote(l.Job), shell.Quote(l.Job))
	w := &logLines{w: st.opts.Log, offset: *offset}
	err := st.conns[n.Rank].Run(ctx, cmd, remote.RunOptions{Stdout: w})
	*offset = w.offset // a line begun and not ended is read again
	return err
}

// tailRest passes on what is left of the log, an unended last line too.
func (st *state) tailRest(ctx context.Context, n cloud.Node, offset *int64) error {
	l := st.layout[n.Rank]
	cmd := fmt.Sprintf("tail -c +%d %s/log", *offset+1, shell.Quote(l.Job))
	w := &logLines{w: st.opts.Log, offset: *offset}
	if err := st.conns[n.Rank].Run(ctx, cmd, remote.RunOptions{Stdout: w}); err != nil {
		*offset = w.offset
		return err
	}
	err := w.flush()
	*offset = w.offset
	return err
}

// exitScript prints the job's exit status; "running" while its wrapper
// lives; "gone" if the wrapper died without writing one (its process
// group was killed: the OOM killer, a kill -9 from the job itself). The
// status file is read again after the liveness check, since the wrapper
// writes it just before it exits.
const exitScript = `cd %s || exit
if [ -s exit ]; then cat exit; exit; fi
if kill -0 "$(cat pid)" 2>/dev/null; then echo running; exit; fi
if [ -s exit ]; then cat exit; else echo gone; fi`

// exitStatus says whether the job has ended and with what status: -1 for
// a job whose wrapper died without recording one. Without that case, a
// tail that ends at once (the pid it follows is dead) and a status that
// never comes would make follow spin until max_duration.
func (st *state) exitStatus(ctx context.Context, n cloud.Node) (status int, ended bool, err error) {
	out, err := st.conns[n.Rank].Output(ctx, fmt.Sprintf(exitScript, shell.Quote(st.layout[n.Rank].Job)))
	if err != nil {
		return -1, false, fmt.Errorf("read the job's exit status: %w", err)
	}
	switch s := strings.TrimSpace(string(out)); s {
	case "running":
		return -1, false, nil
	case "gone":
		return -1, true, nil
	default:
		// The wrapper writes a number; anything else (the job wrote
		// over it) is no status, and the job has ended all the same.
		status, err := strconv.Atoi(s)
		if err != nil {
			return -1, true, nil
		}
		return status, true, nil
	}
}

func (st *state) reconnect(ctx context.Context, n cloud.Node) error {
	c, err := st.dial(ctx, n, st.keys.Nodes[n.Rank].ActiveHostKey())
	if err != nil {
		return err
	}
	st.connMu.Lock()
	old := st.conns[n.Rank]
	st.conns[n.Rank] = c
	st.connMu.Unlock()
	old.Close()
	return nil
}

// conn is the node of rank's client now, for a goroutine beside the job's
// (see connMu).
func (st *state) conn(rank int) *remote.Client {
	st.connMu.Lock()
	defer st.connMu.Unlock()
	return st.conns[rank]
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

// logLines passes the job's log on in whole lines and counts the bytes
// passed, the offset a resumed tail starts from. The start of a line is
// held until its end arrives: if the connection breaks in between, the
// next tail reads the line again, whole, and no message of sear's (the
// reconnect's) lands in the middle of it. A carriage return ends a line
// too, so a progress bar that redraws itself with one streams live.
type logLines struct {
	w       io.Writer // nil discards
	offset  int64
	partial []byte
}

// maxPartial bounds what is held of a line that never ends; beyond it, the
// line is passed on in pieces.
const maxPartial = 64 << 10

func (l *logLines) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	end := bytes.LastIndexAny(l.partial, "\n\r") + 1
	if end == 0 && len(l.partial) >= maxPartial {
		end = len(l.partial)
	}
	if end == 0 {
		return len(p), nil
	}
	if err := l.pass(l.partial[:end]); err != nil {
		return 0, err
	}
	l.partial = append(l.partial[:0], l.partial[end:]...)
	return len(p), nil
}

// flush passes on a last line the job did not end, ending it.
func (l *logLines) flush() error {
	if len(l.partial) == 0 {
		return nil
	}
	line := append(l.partial, '\n')
	l.partial = nil
	if l.w != nil {
		if _, err := l.w.Write(line); err != nil {
			return err
		}
	}
	l.offset += int64(len(line) - 1) // the newline is ours, not the log's
	return nil
}

func (l *logLines) pass(b []byte) error {
	if l.w != nil {
		if _, err := l.w.Write(b); err != nil {
			return err
		}
	}
	l.offset += int64(len(b))
	return nil
}
