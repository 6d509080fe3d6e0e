package remote

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sear-ci/sear/internal/shell"
)

// quote returns s as one POSIX shell word. Inside single quotes every byte
// is literal except the single quote itself, which is closed, escaped and
// reopened:
//
//	it's  ->  'it'\''s'

// envName is what a POSIX shell accepts as a variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// prelude renders Env and Dir as shell commands run before the command.
// They travel in the command because sshd refuses "env" requests unless
// its AcceptEnv names the variable, and no stock configuration does.
func prelude(env map[string]string, dir string) (string, error) {
	var b strings.Builder
	if dir != "" {
		if strings.ContainsRune(dir, 0) {
			return "", fmt.Errorf("working directory %q contains a NUL byte", dir)
		}
		if strings.HasPrefix(dir, "-") {
			dir = "./" + dir // not an option of cd
		}
		fmt.Fprintf(&b, "cd %s || exit\n", shell.Quote(dir))
	}
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if !envName.MatchString(name) {
			return "", fmt.Errorf("environment variable name %q: expected letters, digits and _, not starting with a digit", name)
		}
		if strings.ContainsRune(env[name], 0) {
			// The value is never quoted back: it might be anything.
			return "", fmt.Errorf("environment variable %s: its value contains a NUL byte, which no environment can hold", name)
		}
		fmt.Fprintf(&b, "export %s=%s\n", name, shell.Quote(env[name]))
	}
	return b.String(), nil
}

// wrap makes script end with its whole process group. sshd runs each
// session's command as the leader of a new session (setsid in
// do_exec_no_pty), so `kill 0` there reaches exactly that command's
// processes, and its "signal" request signals that group (killpg in
// session_signal_req). The wrapper covers a server that signals the
// leader only: its trap passes the signal on to the group. It runs the
// script in the background and waits, since a shell runs a trap only once
// the foreground command returns, but interrupts wait at once. A
// background list's stdin is /dev/null in a shell without job control, so
// the real stdin is handed over on fd 3. exec keeps the wrapper the
// session's leader, the process the server knows, whatever the login
// shell. The tag comment names this run on the node's process list, for
// killTagged.
func wrap(script, tag string) string {
	inner := "# " + tag + "\n" +
		"trap 'trap - TERM HUP INT; kill -TERM 0' TERM HUP INT\n" +
		"exec 3<&0\n" +
		"{\n" + script + "\n} <&3 3<&- &\n" +
		"wait $!\n"
	return "exec /bin/sh -c " + shell.Quote(inner)
}

// newTag returns a tag no other run carries: "sear-run-" and 16 hex digits.
func newTag() string {
	return fmt.Sprintf("sear-run-%016x", rand.Uint64())
}

// killScript signals the process group of the run tagged tag, found by its
// wrapper's command line in /proc. It is the way in when sshd refuses the
// "signal" request, as OpenSSH does for a root login (session_signal_req:
// "session signalling requires privilege separation", which sshd drops
// for root). The pattern brackets one letter so that it matches the
// wrapper's command line but not its own, nor that of the grep running it.
// A group is signalled only when the wrapper leads it (it always does
// under sshd); otherwise only the wrapper, whose trap does the rest.
func killScript(tag, sig string) string {
	pattern := tag[:len(tag)-1] + "[" + tag[len(tag)-1:] + "]"
	return "for f in $(grep -lsE -- " + shell.Quote(pattern) + " /proc/[0-9]*/cmdline); do\n" +
		"  pid=${f#/proc/}; pid=${pid%/cmdline}\n" +
		"  read -r _ _ _ _ pgid _ < \"/proc/$pid/stat\" || continue\n" +
		"  if [ \"$pgid\" = \"$pid\" ]; then kill -s " + sig + " -- \"-$pid\"; else kill -s " + sig + " \"$pid\"; fi\n" +
		"done 2>/dev/null\n" +
		"exit 0\n"
}

// label names a command in an error: its first line, at most 60 characters.
func label(cmd string) string {
	first, _, more := strings.Cut(strings.TrimSpace(cmd), "\n")
	if utf8.RuneCountInString(first) > 60 {
		first, more = string([]rune(first)[:60]), true
	}
	if more {
		first += " …"
	}
	return fmt.Sprintf("%q", first)
}
