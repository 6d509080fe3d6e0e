package engine

import (
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/shell"
)

// Exit statuses of the scripts, which Start turns into errors a user can
// act on.
const (
	exitNotReady = 3  // readyProgram: not every worker joined in time
	exitMissing  = 10 // the preflight failed: the engine is not installed
	exitDied     = 11 // a daemon exited: its log says why
	exitSlow     = 12 // a daemon was not serving in time
)

// logLines is how much of a daemon's log the scripts print, and
// shownLines how much of it an error shows once excerpt has dropped the
// Python traceback frames.
const (
	logLines   = 200
	shownLines = 30
)

// poll is how often a script looks again at a daemon it waits for.
const poll = 200 * time.Millisecond

// aliveFunc and groupAliveFunc are the scripts' shell functions. A
// process counts as alive unless it is gone or a zombie: an orphan's
// zombie lingers where pid 1 does not reap (sear itself is pid 1 in its
// action container), and kill's signal 0 succeeds on a zombie. Without ps
// (a minimal image), kill's word is taken. kill takes "-s SIG --": dash,
// the sh of Debian and Ubuntu, reads "kill -0 -- -PID" as a signal and the
// bad pid "-".
const (
	aliveFunc = `alive() {
	kill -s 0 "$1" 2>/dev/null || return 1
	s=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	[ "${s#Z}" = "$s" ]
}
`
	groupAliveFunc = `group_alive() {
	kill -s 0 -- "-$1" 2>/dev/null || return 1
	command -v ps > /dev/null || return 0
	ps -e -o pgid= -o stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}
`
)

// startScript starts node rank's daemons, each in a session of its own with
// its output in <role>.log and its pid, which is also its process group
// and session id, in <role>.pid. It waits for a daemon with an up test
// for at most wait.
func (e *Engine) startScript(rank int, wait time.Duration) string {
	n := e.opts.Nodes[rank]
	var b strings.Builder
	b.WriteString(aliveFunc)
	if s := e.flavor.setup(); s != "" {
		b.WriteString(s + "\n")
	}
	fmt.Fprintf(&b, "d=%s\nmkdir -p \"$d\" || exit\n", shell.Quote(n.Dir))
	fmt.Fprintf(&b, "if ! out=$({ %s; } 2>&1); then\n\tprintf '%%s\\n' \"$out\" >&2\n\texit %d\nfi\n", e.flavor.preflight().check, exitMissing)
	for _, dm := range e.flavor.daemons(e, rank) {
		b.WriteString(launch(dm))
		if dm.up != "" {
			b.WriteString(waitUp(dm, wait))
		}
	}
	return b.String()
}

// launch starts dm detached. The subshell exits at once, so the daemon is
// an orphan, reaped by init and not by this script's shell; setsid does
// not fork there (its caller leads no group), so $! is the daemon's pid
// and, once setsid has run, its group's.
func launch(dm daemon) string {
	var b strings.Builder
	files := []string{fmt.Sprintf(`"$d/%s.pid"`, dm.role)}
	for _, f := range dm.clean {
		files = append(files, fmt.Sprintf(`"$d/%s"`, f))
	}
	fmt.Fprintf(&b, "rm -f %s\n", strings.Join(files, " "))
	fmt.Fprintf(&b, "(setsid %s > \"$d/%[2]s.log\" 2>&1 < /dev/null & echo $! > \"$d/%[2]s.pid\")\n", join(dm.argv), dm.role)
	return b.String()
}

// waitUp waits for dm's up test, failing with the end of its log if it
// exits first or is not up within wait.
func waitUp(dm daemon, wait time.Duration) string {
	tries := max(int(wait/poll), 1)
	return fmt.Sprintf(`i=0
until %[1]s; do
	if ! alive "$(cat "$d/%[2]s.pid")"; then
		tail -n %[3]d "$d/%[2]s.log" >&2
		exit %[4]d
	fi
	i=$((i + 1))
	if [ "$i" -ge %[5]d ]; then
		tail -n %[3]d "$d/%[2]s.log" >&2
		exit %[6]d
	fi
	sleep %[7]s
done
`, dm.up, dm.role, logLines, exitDied, tries, exitSlow, seconds(poll))
}

// stopScript ends node rank's daemons, the last started first: SIGTERM to
// the group, which Dask's nanny and `ray start --block` pass on to their
// processes, then SIGKILL after a grace. A missing pid file is a daemon
// that never started or was stopped already, so the script can run again.
// Signalling the pid alone covers a daemon so young that setsid has not
// yet made its group.
func (e *Engine) stopScript(rank int) string {
	n := e.opts.Nodes[rank]
	var roles []string
	for _, dm := range e.flavor.daemons(e, rank) {
		roles = append([]string{dm.role}, roles...)
	}
	return fmt.Sprintf(`%sd=%s
for r in %s; do
	f="$d/$r.pid"
	[ -s "$f" ] || continue
	p=$(cat "$f")
	if kill -s TERM -- "-$p" 2>/dev/null || kill -s TERM "$p" 2>/dev/null; then
		i=0
		while group_alive "$p" || alive "$p"; do
			i=$((i + 1))
			if [ "$i" -ge %d ]; then
				kill -s KILL -- "-$p" 2>/dev/null || kill -s KILL "$p" 2>/dev/null
				break
			fi
			sleep %s
		done
	fi
	rm -f "$f"
done
`, aliveFunc+groupAliveFunc, shell.Quote(n.Dir), strings.Join(roles, " "), int(stopGrace/poll), seconds(poll))
}

// aliveScript fails with exitDied, printing the daemon's role and the end
// of its log, if a daemon of node rank has exited.
func (e *Engine) aliveScript(rank int) string {
	n := e.opts.Nodes[rank]
	var roles []string
	for _, dm := range e.flavor.daemons(e, rank) {
		roles = append(roles, dm.role)
	}
	return fmt.Sprintf(`%sd=%s
for r in %s; do
	[ -s "$d/$r.pid" ] || continue
	alive "$(cat "$d/$r.pid")" && continue
	echo "$r"
	tail -n %d "$d/$r.log"
	exit %d
done
`, aliveFunc, shell.Quote(n.Dir), strings.Join(roles, " "), logLines, exitDied)
}

// readyScript runs the flavor's readyProgram for want workers and at most
// timeout.
func (e *Engine) readyScript(timeout time.Duration) string {
	var b strings.Builder
	if s := e.flavor.setup(); s != "" {
		b.WriteString(s + "\n")
	}
	fmt.Fprintf(&b, "exec python3 -c %s %d %d\n", shell.Quote(e.flavor.readyProgram()), e.flavor.want(e), max(int(math.Ceil(timeout.Seconds())), 1))
	return b.String()
}

// tailScript prints the end of a daemon's log.
func (e *Engine) tailScript(rank int, role string) string {
	return fmt.Sprintf("tail -n %d %s 2>&1", logLines, shell.Quote(e.logPath(rank, role)))
}

func (e *Engine) logPath(rank int, role string) string {
	return path.Join(e.opts.Nodes[rank].Dir, role+".log")
}

// daemonEnv is the daemons' and the ready check's environment: the node's
// own, with the engine's variables on top.
func (e *Engine) daemonEnv(rank int) map[string]string {
	env := maps.Clone(e.opts.Nodes[rank].Env)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, e.Env(rank))
	return env
}

// join quotes each word of argv that needs it.
func join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = a
		if a == "" || strings.ContainsFunc(a, needsQuote) {
			q[i] = shell.Quote(a)
		}
	}
	return strings.Join(q, " ")
}

func needsQuote(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || slices.Contains([]rune("-_./:=,@+%"), r))
}

// seconds formats d for sleep(1): "0.2".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%g", d.Seconds())
}
