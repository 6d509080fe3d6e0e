package remote

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/shell"
)

// FuzzQuote checks that a quoted word reads back as itself in sh.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "plain", "it's", `"$HOME" $(id) ` + "`id`", "'", "''", "a\nb", `\'`, "-n", "*", "~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			t.Skip("no shell word holds a NUL")
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+shell.Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Fatalf("sh read %q back as %q (%v)", s, out, err)
		}
	})
}

// TestWrapEndsGroupWhenLeaderIsSignalled covers a server that signals the
// session's leader only, not its group: the wrapper's trap passes the
// signal on to the whole group, background children included.
func TestWrapEndsGroupWhenLeaderIsSignalled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", wrap("sleep 1000 & echo $! > sleep.pid; wait", newTag()))
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // as sshd does
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, filepath.Join(dir, "sleep.pid"))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil { // the leader only
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !waitGone(pid, 2*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("background sleep (pid %d) survived SIGTERM to the leader", pid)
	}
}

// TestWrapKeepsStdinAndStatus checks what a background list would lose
// without the wrapper's care: stdin, and the exit status.
func TestWrapKeepsStdinAndStatus(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("/bin/sh", "-c", wrap("cat; exit 7", newTag()))
	cmd.Stdin = strings.NewReader("through\n")
	out, err := cmd.Output()
	if string(out) != "through\n" {
		t.Errorf("stdout = %q", out)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Errorf("err = %v, want exit status 7", err)
	}
}

func TestPrelude(t *testing.T) {
	t.Parallel()
	got, err := prelude(map[string]string{"B": "it's", "A": "1"}, "-odd dir")
	want := "cd './-odd dir' || exit\nexport A='1'\nexport B='it'\\''s'\n"
	if err != nil || got != want {
		t.Errorf("prelude = %q, %v; want %q", got, err, want)
	}
}

// TestKillScriptFindsTaggedRun runs the fallback for servers that refuse
// "signal" requests: it must end the tagged run's group, and nothing else.
func TestKillScriptFindsTaggedRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := func(tag, name string) (*exec.Cmd, int) {
		cmd := exec.Command("/bin/sh", "-c", wrap("sleep 1000 & echo $! > "+name+"; wait", tag))
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		return cmd, readPid(t, filepath.Join(dir, name))
	}
	tag := newTag()
	target, victim := start(tag, "target.pid")
	_, bystander := start(newTag(), "bystander.pid")
	if out, err := exec.Command("/bin/sh", "-c", killScript(tag, "TERM")).CombinedOutput(); err != nil {
		t.Fatalf("kill script: %v: %s", err, out)
	}
	_ = target.Wait()
	if !waitGone(victim, 2*time.Second) {
		t.Errorf("tagged run's sleep (pid %d) survived", victim)
	}
	if processGone(bystander) {
		t.Errorf("another run's sleep (pid %d) was killed", bystander)
	}
}
