package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sear-ci/sear/internal/pause"
)

const (
	defaultRetry     = 500 * time.Millisecond
	maxRetry         = 5 * time.Second
	defaultKeepalive = 15 * time.Second
	// attemptTimeout bounds one connect and handshake, so a SYN lost in a
	// booting instance's half-configured network costs seconds, not the
	// kernel's two minutes of retransmissions.
	attemptTimeout = 20 * time.Second
)

// Target is one node as sear reaches it.
type Target struct {
	Addr    string        // host:port
	User    string        // the login user ("ubuntu" on EC2)
	HostKey ssh.PublicKey // pinned: nothing else is ever accepted
	Signer  ssh.Signer    // the client key
}

// DialOptions tunes Dial; the zero value is ready to use.
type DialOptions struct {
	// Retry is the first pause between attempts while the node does not
	// answer; it doubles up to 5s (or Retry, if larger) and is jittered.
	// Default 500ms.
	Retry time.Duration
	// Keepalive is the interval of keepalive@openssh.com requests; after 3
	// unanswered the connection is closed. Default 15s; negative disables.
	Keepalive time.Duration
	// Log receives retries and lost connections; nil discards them.
	Log func(format string, args ...any)
}

// withDefaults fills in what the caller left zero.
func (o DialOptions) withDefaults() DialOptions {
	if o.Retry <= 0 {
		o.Retry = defaultRetry
	}
	if o.Keepalive == 0 {
		o.Keepalive = defaultKeepalive
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return o
}

// Dial connects to t, retrying while the node is not reachable yet (refused,
// reset, timed out: a booting instance) until ctx is done. A host key other
// than t.HostKey (*HostKeyError) and a refused client key end it at once.
func Dial(ctx context.Context, t Target, opts DialOptions) (*Client, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	start := time.Now()
	wait := backoff{next: opts.Retry, max: max(maxRetry, opts.Retry)}
	var last error
	for {
		conn, err := attempt(ctx, t)
		switch {
		case err == nil:
			return newClient(conn, t, opts), nil
		case final(err):
			return nil, err
		case ctx.Err() != nil:
			return nil, unreachable(t.Addr, time.Since(start), last, err, ctx.Err())
		case !retryable(err):
			return nil, fmt.Errorf("ssh %s: %w", t.Addr, err)
		}
		last = err
		d := wait.step()
		opts.Log("ssh %s: %s; retrying in %s", t.Addr, cause(err), d.Round(time.Millisecond))
		if pause.For(ctx, d) != nil {
			return nil, unreachable(t.Addr, time.Since(start), last, nil, ctx.Err())
		}
	}
}

// validate rejects a Target missing what Dial needs.
func (t Target) validate() error {
	switch {
	case t.HostKey == nil:
		return fmt.Errorf("ssh %s: no pinned host key: sear never connects without one", t.Addr)
	case t.Signer == nil:
		return fmt.Errorf("ssh %s: no client key", t.Addr)
	case t.User == "":
		return fmt.Errorf("ssh %s: no user name", t.Addr)
	}
	if _, _, err := net.SplitHostPort(t.Addr); err != nil {
		return fmt.Errorf("ssh address %q: expected host:port: %w", t.Addr, err)
	}
	return nil
}

// attempt makes one connection: TCP, key exchange with the pinned host
// key, public key authentication.
func attempt(ctx context.Context, t Target) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	// The handshake takes no context: the deadline bounds it, and closing
	// the connection when ctx ends unblocks it at once.
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	var rejected *HostKeyError
	sc, chans, reqs, err := ssh.NewClientConn(nc, t.Addr, &ssh.ClientConfig{
		User:              t.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(t.Signer)},
		HostKeyCallback:   pin(t.Addr, t.HostKey, &rejected),
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
	})
	interrupted := !stop()
	switch {
	case rejected != nil:
		return nil, rejected
	case interrupted:
		if err == nil {
			sc.Close()
		}
		return nil, fmt.Errorf("ssh handshake: %w", ctx.Err())
	case err != nil:
		return nil, classify(t, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

// classify turns the handshake's failures that are final into errors a
// user can act on; x/crypto/ssh has no types for them, only messages.
func classify(t Target, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unable to authenticate"):
		return &permanentError{fmt.Errorf("ssh %s: the node refused client key %s for user %q "+
			"(it is not in the user's authorized keys): %w", t.Addr, ssh.FingerprintSHA256(t.Signer.PublicKey()), t.User, err)}
	case strings.Contains(msg, "no common algorithm for host key"):
		return &permanentError{fmt.Errorf("ssh %s: the node offers no ssh-ed25519 host key, "+
			"the only kind the cluster pins: %w", t.Addr, err)}
	}
	return err
}

// permanentError is a failure that another attempt would only repeat.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// final says whether err is a verdict (a host key mismatch, a refused
// client key) that another attempt would only repeat.
func final(err error) bool {
	var hk *HostKeyError
	var pe *permanentError
	return errors.As(err, &hk) || errors.As(err, &pe)
}

// retryable says whether err may go away by itself: the node is booting,
// its sshd not yet listening, restarting, or dropping connections while
// cloud-init writes its keys.
func retryable(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true // closed during the handshake, e.g. sshd's MaxStartups
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// cause is the short form of a connection failure, for a log line or the
// end of an error: "connection refused" rather than the whole dial chain.
func cause(err error) string {
	var errno syscall.Errno
	var ne net.Error
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed during the SSH handshake"
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	return err.Error()
}

// unreachableError is Dial giving up: ctx ended before a connection.
type unreachableError struct {
	addr  string
	after time.Duration
	last  error // the last attempt's failure, before ctx ended
	ctx   error // ctx.Err()
}

// unreachable builds the error for a Dial that ran out of time. last is
// the last complete attempt's failure; current the one ctx interrupted,
// used when no attempt completed.
func unreachable(addr string, after time.Duration, last, current, ctxErr error) error {
	if last == nil && current != nil && !errors.Is(current, ctxErr) {
		last = current
	}
	return &unreachableError{addr: addr, after: after, last: last, ctx: ctxErr}
}

// Error reads "ssh 10.0.0.5:22: not reachable after 2m0s: connection refused".
func (e *unreachableError) Error() string {
	why := "gave up before a connection attempt completed"
	if e.last != nil {
		why = cause(e.last)
	}
	return fmt.Sprintf("ssh %s: not reachable after %s: %s", e.addr, roundDuration(e.after), why)
}

// Unwrap gives errors.Is both the context's error and the last cause.
func (e *unreachableError) Unwrap() []error {
	if e.last == nil {
		return []error{e.ctx}
	}
	return []error{e.ctx, e.last}
}

// roundDuration keeps a duration readable: "1.5s", "2m0s".
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// backoff is exponential with jitter, so that the N nodes of a cluster,
// dialled at once, do not retry in lockstep.
type backoff struct{ next, max time.Duration }

// step returns the next pause: the current one ±25%.
func (b *backoff) step() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.max)
	return d - d/4 + rand.N(d/2+1)
}
