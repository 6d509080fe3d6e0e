package sshd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestSignalReachesProcessGroup sends TERM as sear's client does on
// cancel: the leader and its background child both end, and the client
// learns the signal from "exit-signal".
func TestSignalReachesProcessGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sess, err := f.dial(t).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("sleep 1000 & echo $! > sleep.pid; wait"); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, filepath.Join(f.dir, "sleep.pid"))
	if err := sess.Signal(ssh.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var ee *ssh.ExitError
	if err := sess.Wait(); !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Fatalf("Wait = %v, want exit-signal TERM", err)
	}
	if !waitGone(pid, 2*time.Second) {
		t.Fatalf("background sleep (pid %d) survived the signal", pid)
	}
}

func TestExitStatusAndStreams(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sess, err := f.dial(t).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Setenv("GREETING", "hello there"); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	sess.Stdin, sess.Stdout, sess.Stderr = strings.NewReader("in"), &stdout, &stderr
	err = sess.Run(`cat; echo " $GREETING"; echo oops >&2; exit 42`)
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 42 {
		t.Errorf("Run = %v, want status 42", err)
	}
	if stdout.String() != "in hello there\n" || stderr.String() != "oops\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	c := newFixture(t).dial(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, nil); err == nil {
		t.Error("pty-req accepted")
	}
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("subsystem accepted")
	}
	if _, err := c.Dial("tcp", "127.0.0.1:22"); err == nil {
		t.Error("direct-tcpip accepted")
	}
	if _, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		t.Error("tcpip-forward accepted")
	}
	ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
	if ok || err != nil {
		t.Errorf("keepalive = %v, %v; want failure, as sshd answers", ok, err)
	}
}

func TestSessionLimit(t *testing.T) {
	t.Parallel()
	c := newFixture(t).dial(t)
	for i := range maxSessions {
		if _, err := c.NewSession(); err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
	}
	_, err := c.NewSession()
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.ResourceShortage {
		t.Errorf("session %d: err = %v, want resource shortage", maxSessions+1, err)
	}
}

// TestDroppedConnectionLeavesCommand drops the connection under a running
// command: like sshd without a pty, the command goes on, and its writes
// to the lost stdout fail.
func TestDroppedConnectionLeavesCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.dial(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	script := `trap '' PIPE; echo $$ > pid; sleep 0.3; i=0
while [ $i -lt 100000 ] && echo line; do i=$((i+1)); done
echo $i > count`
	if err := sess.Start(script); err != nil {
		t.Fatal(err)
	}
	readPid(t, filepath.Join(f.dir, "pid"))
	c.Close()
	count := waitFile(t, filepath.Join(f.dir, "count"), 5*time.Second)
	if n, err := strconv.Atoi(strings.TrimSpace(count)); err != nil || n >= 100000 {
		t.Errorf("count = %q: the writes should have failed", count)
	}
}

// waitFile waits for a file to appear and returns its content.
func waitFile(t *testing.T, path string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
	return ""
}

// TestCloseEndsEverything closes a server with a running command, a
// command that ignores SIGTERM and a background process whose command has
// already ended: all are gone when Close returns.
func TestCloseEndsEverything(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.dial(t)
	start := func(cmd string) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Start(cmd); err != nil {
			t.Fatal(err)
		}
	}
	start("sleep 1000 & echo $! > running.pid; wait")
	start("trap '' TERM; sleep 1000 & echo $! > stubborn.pid; wait")
	orphan := runOutput(t, c, "sleep 1000 >/dev/null 2>&1 </dev/null & echo $!")
	pids := []int{readPid(t, filepath.Join(f.dir, "running.pid")), readPid(t, filepath.Join(f.dir, "stubborn.pid")), orphan}
	begin := time.Now()
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took < closeGrace || took > closeGrace+killWait+time.Second {
		t.Errorf("Close took %s; want the grace, then SIGKILL", took)
	}
	for _, pid := range pids {
		if !gone(pid) {
			t.Errorf("pid %d survived Close", pid)
		}
	}
}

// runOutput runs cmd and returns its stdout as a pid.
func runOutput(t *testing.T, c *ssh.Client, cmd string) int {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Output(cmd)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestCloseDoesNotWaitForDaemons leaves a process of its own session (as
// a detached job is) holding the command's stdout: Close does not end it,
// as it is not the command's group, and does not wait for it either.
func TestCloseDoesNotWaitForDaemons(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sess, err := f.dial(t).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("setsid sleep 1000 & echo $! > daemon.pid"); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, filepath.Join(f.dir, "daemon.pid"))
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	waitExec(t, pid, "sleep") // by then setsid has left the command's group
	begin := time.Now()
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > drainWait+time.Second {
		t.Errorf("Close took %s", took)
	}
	if gone(pid) {
		t.Error("Close ended a process outside the command's group")
	}
}

// waitExec waits until pid runs the program named comm.
func waitExec(t *testing.T, pid int, comm string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(b)) == comm {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d never ran %s", pid, comm)
}

func TestListenValidates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := Config{Addr: "127.0.1.250:0", HostKey: f.host.Signer, Authorized: []ssh.PublicKey{f.client.PublicKey()}, Dir: f.dir}
	for name, mutate := range map[string]func(*Config){
		"no host key":       func(c *Config) { c.HostKey = nil },
		"no authorized key": func(c *Config) { c.Authorized = nil },
		"no dir":            func(c *Config) { c.Dir = "" },
		"missing dir":       func(c *Config) { c.Dir = filepath.Join(f.dir, "missing") },
		"bad address":       func(c *Config) { c.Addr = "nowhere" },
	} {
		cfg := good
		mutate(&cfg)
		if s, err := Listen(cfg); err == nil {
			s.Close()
			t.Errorf("%s: no error", name)
		}
	}
}
