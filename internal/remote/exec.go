package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	// stopGrace is how long a cancelled command has to end on SIGTERM
	// before SIGKILL, and then before its session is closed regardless.
	stopGrace = 5 * time.Second
	// stderrTail is how much of stderr an ExitError keeps for Output and
	// the file transfers.
	stderrTail = 4 << 10
)

// RunOptions are a command's streams, environment and directory.
type RunOptions struct {
	Stdin io.Reader // nil: the command reads EOF at once
	// Stdout and Stderr receive the command's output; nil discards it.
	// One writer for both is safe, as with os/exec: it then sees one
	// write at a time, although the two streams are copied on goroutines
	// of their own.
	Stdout, Stderr io.Writer
	// Env is exported before the command runs. It travels in the command
	// line, so it must never carry a secret: anyone on the node may read a
	// command line (ps, /proc). Secrets go as file contents (WriteFile).
	Env map[string]string
	Dir string // working directory; empty: the user's home
}

// ExitError is a command that ran and failed.
type ExitError struct {
	Addr    string // the node
	Command string // the command, abbreviated and quoted
	Status  int    // exit status; 128+n when killed by signal n
	Signal  string // the signal that killed it ("TERM"), if one did
	Stderr  []byte // the end of its stderr, unless the caller took stderr itself
}

// Error reads "ssh 10.0.0.5:22: "make test" exited with status 2: <last
// line of stderr>".
func (e *ExitError) Error() string {
	how := fmt.Sprintf("exited with status %d", e.Status)
	if e.Signal != "" {
		how = "was killed by signal " + e.Signal
	}
	msg := fmt.Sprintf("ssh %s: %s %s", e.Addr, e.Command, how)
	if line := lastLine(e.Stderr); line != "" {
		msg += ": " + line
	}
	return msg
}

// lastLine is the last non-empty line of b, which is where tools put the
// reason they failed.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Run runs cmd on the node and waits for it. A non-zero exit is an
// *ExitError; without opts.Stderr it carries the end of stderr, where
// tools say why they failed. When ctx ends first, the command's whole
// process group on the node is sent SIGTERM (then SIGKILL after a grace)
// and Run returns ctx's error, wrapped.
func (c *Client) Run(ctx context.Context, cmd string, opts RunOptions) error {
	if opts.Stderr == nil {
		return c.runCaptured(ctx, label(cmd), cmd, opts)
	}
	return c.run(ctx, label(cmd), cmd, opts)
}

// Output runs cmd and returns its stdout. On failure the *ExitError
// carries the end of stderr.
func (c *Client) Output(ctx context.Context, cmd string) ([]byte, error) {
	var out bytes.Buffer
	err := c.runCaptured(ctx, label(cmd), cmd, RunOptions{Stdout: &out})
	return out.Bytes(), err
}

// runCaptured is run keeping the end of stderr for the error.
func (c *Client) runCaptured(ctx context.Context, what, script string, opts RunOptions) error {
	stderr := &tail{max: stderrTail}
	opts.Stderr = stderr
	err := c.run(ctx, what, script, opts)
	var ee *ExitError
	if errors.As(err, &ee) {
		ee.Stderr = stderr.Bytes()
	}
	return err
}

// run runs script, named what in errors, in its own session.
func (c *Client) run(ctx context.Context, what, script string, opts RunOptions) error {
	pre, err := prelude(opts.Env, opts.Dir)
	if err != nil {
		return fmt.Errorf("ssh %s: %s: %w", c.addr, what, err)
	}
	sess, err := c.session(ctx)
	if err != nil {
		return c.failed(what, err)
	}
	defer sess.Close()
	sess.Stdin, sess.Stdout, sess.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	if opts.Stdout != nil && opts.Stdout == opts.Stderr {
		w := &serialWriter{w: opts.Stdout}
		sess.Stdout, sess.Stderr = w, w
	}
	tag := newTag()
	if err := sess.Start(wrap(pre+script, tag)); err != nil {
		return c.failed(what, err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err := <-done:
		return c.result(what, err)
	case <-ctx.Done():
		c.stop(sess, tag, done)
		return fmt.Errorf("ssh %s: %s: %w", c.addr, what, ctx.Err())
	}
}

// session opens a session unless ctx or the connection ends first:
// opening waits for the node's answer, which a dead link never gives.
func (c *Client) session(ctx context.Context) (*ssh.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := c.conn.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, o.err
	case <-ctx.Done():
		go closeWhenOpened(ch)
		return nil, ctx.Err()
	case <-c.ended:
		go closeWhenOpened(ch)
		return nil, fmt.Errorf("%w: the connection ended before the node answered", ErrConnectionLost)
	}
}

// opened is the outcome of opening a session.
type opened struct {
	s   *ssh.Session
	err error
}

// closeWhenOpened closes the session an abandoned open yields, if any.
func closeWhenOpened(ch <-chan opened) {
	if o := <-ch; o.s != nil {
		o.s.Close()
	}
}

// stop ends a command whose caller gave up: SIGTERM to its process group,
// SIGKILL after the grace, then the session is closed whatever the node
// did. Each signal goes two ways: the "signal" request, which sshd turns
// into killpg on the session's group, and killTagged, for when sshd
// refuses the request (a root login). Closing the channel alone would
// leave the command running: sshd leaves a session's child alone when its
// channel closes.
func (c *Client) stop(sess *ssh.Session, tag string, done <-chan error) {
	for _, sig := range []ssh.Signal{ssh.SIGTERM, ssh.SIGKILL} {
		_ = sess.Signal(sig)
		go c.killTagged(tag, sig)
		if waitFor(done, stopGrace) {
			return
		}
	}
	_ = sess.Close()
	waitFor(done, time.Second)
}

// killTagged signals the tagged run's process group from a session of its
// own. It gives up with the connection, which ends a session blocked on a
// dead link.
func (c *Client) killTagged(tag string, sig ssh.Signal) {
	sess, err := c.session(context.Background())
	if err != nil {
		return
	}
	defer sess.Close()
	_ = sess.Run(killScript(tag, string(sig)))
}

// waitFor waits up to d for done and says whether it came.
func waitFor(done <-chan error, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// result turns the session's end into Run's error.
func (c *Client) result(what string, err error) error {
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Addr: c.addr, Command: what, Status: ee.ExitStatus(), Signal: ee.Signal()}
	}
	if err != nil {
		return c.failed(what, err)
	}
	return nil
}

// failed phrases a failure of the connection or the session (not of the
// command): why keepalive gave up, or that the link went.
func (c *Client) failed(what string, err error) error {
	if lost := c.lostErr(); lost != nil {
		return fmt.Errorf("ssh %s: %s: %w", c.addr, what, lost)
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) || errors.Is(err, io.EOF) {
		return fmt.Errorf("ssh %s: %s: %w before the command finished", c.addr, what, ErrConnectionLost)
	}
	return fmt.Errorf("ssh %s: %s: %w", c.addr, what, err)
}

// tail keeps the last max bytes written to it.
type tail struct {
	max int
	buf []byte
}

// Write keeps p's end.
func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// Bytes returns what was kept.
func (t *tail) Bytes() []byte { return t.buf }

// serialWriter lets the session's stdout and stderr copiers share one
// writer.
type serialWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *serialWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
