package remote

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.dial(t)
	sub := filepath.Join(n.dir, "it's a dir")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		cmd            string
		opts           RunOptions
		stdout, stderr string
		status         int
		signal         string
	}{
		{name: "stdout and stderr apart", cmd: "echo out; echo err >&2", stdout: "out\n", stderr: "err\n"},
		{name: "stdin reaches the command", cmd: "tr a-z A-Z", opts: RunOptions{Stdin: strings.NewReader("hello\nworld")}, stdout: "HELLO\nWORLD"},
		{name: "no stdin reads EOF", cmd: "cat; echo done", stdout: "done\n"},
		{name: "exit status", cmd: "echo partial; exit 3", stdout: "partial\n", status: 3},
		{name: "killed by a signal", cmd: "kill -KILL $$", status: 137, signal: "KILL"},
		{name: "env with quotes, dollars, newlines", cmd: `printf '%s|%s' "$A" "$B_2"`,
			opts:   RunOptions{Env: map[string]string{"A": `it's "$HOME" and ` + "`id`", "B_2": "two\nlines "}},
			stdout: `it's "$HOME" and ` + "`id`|two\nlines "},
		{name: "dir", cmd: "pwd", opts: RunOptions{Dir: sub}, stdout: sub + "\n"},
		{name: "default dir is the home", cmd: `pwd; [ "$HOME" = "$(pwd)" ] && echo home`, stdout: n.dir + "\nhome\n"},
		{name: "missing dir fails", cmd: "echo never", opts: RunOptions{Dir: filepath.Join(n.dir, "nope")}, status: 2},
		{name: "comment at the end", cmd: "echo a # trailing comment", stdout: "a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			tt.opts.Stdout, tt.opts.Stderr = &stdout, &stderr
			err := c.Run(context.Background(), tt.cmd, tt.opts)
			checkExit(t, err, tt.status, tt.signal)
			if got := stdout.String(); got != tt.stdout {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
			if tt.stderr != "" && stderr.String() != tt.stderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.stderr)
			}
		})
	}
}

// checkExit checks err is nil for status 0, else an *ExitError with the
// status and signal.
func checkExit(t *testing.T, err error, status int, signal string) {
	t.Helper()
	if status == 0 {
		if err != nil {
			t.Fatalf("err = %v, want success", err)
		}
		return
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v (%T), want *ExitError", err, err)
	}
	if ee.Status != status || ee.Signal != signal {
		t.Errorf("exit = status %d signal %q, want %d %q (%v)", ee.Status, ee.Signal, status, signal, err)
	}
}

func TestRunRejectsBadEnv(t *testing.T) {
	t.Parallel()
	c := newNode(t).dial(t)
	for _, env := range []map[string]string{
		{"1A": "x"}, {"A-B": "x"}, {"A B": "x"}, {"": "x"}, {"A": "nul\x00inside"},
	} {
		err := c.Run(context.Background(), "true", RunOptions{Env: env})
		if err == nil {
			t.Errorf("env %q: no error", env)
			continue
		}
		if strings.Contains(err.Error(), "inside") {
			t.Errorf("error quotes the value: %v", err)
		}
	}
}

func TestOutput(t *testing.T) {
	t.Parallel()
	c := newNode(t).dial(t)
	out, err := c.Output(context.Background(), "printf 'a\\000b'")
	if err != nil || string(out) != "a\x00b" {
		t.Fatalf("Output = %q, %v", out, err)
	}
	out, err = c.Output(context.Background(), "echo some; echo 'first' >&2; echo 'no such thing' >&2; exit 4")
	checkExit(t, err, 4, "")
	if string(out) != "some\n" || !strings.HasSuffix(err.Error(), "exited with status 4: no such thing") {
		t.Errorf("Output = %q, %v", out, err)
	}
}

// TestRunCancelEndsProcessGroup checks that cancelling Run leaves nothing
// of the command running: not the shell, not its background child.
func TestRunCancelEndsProcessGroup(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.dial(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- c.Run(ctx, "sleep 1000 & echo $! > sleep.pid; wait", RunOptions{})
	}()
	pid := readPid(t, filepath.Join(n.dir, "sleep.pid"))
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !waitGone(pid, 2*time.Second) {
		t.Fatalf("sleep (pid %d) still runs after cancel", pid)
	}
}

// readPid waits for a command to write its pid to path.
func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

// One plain buffer for both streams, as os/exec allows: the race detector
// sees no concurrent writes, and every line arrives.
func TestRunOneWriterForBothStreams(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.dial(t)
	var out bytes.Buffer
	cmd := `i=0; while [ $i -lt 200 ]; do echo "out $i"; echo "err $i" >&2; i=$((i + 1)); done`
	if err := c.Run(context.Background(), cmd, RunOptions{Stdout: &out, Stderr: &out}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"out 0\n", "err 0\n", "out 199\n", "err 199\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if got := strings.Count(out.String(), "\n"); got != 400 {
		t.Errorf("%d lines, want 400", got)
	}
}
