package remote

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestDialHostKeyMismatchIsFinal(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	p := newProxy(t, n.srv.Addr())
	tgt := n.target(p.addr())
	tgt.HostKey = newKey(t, "impostor").PublicKey()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, tgt, DialOptions{Retry: 50 * time.Millisecond})
	t.Log(err)
	var hk *HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("err = %v, want *HostKeyError", err)
	}
	if hk.Addr != p.addr() || hk.Got != n.host.Fingerprint() || hk.Want != ssh.FingerprintSHA256(tgt.HostKey) {
		t.Errorf("HostKeyError = %+v", hk)
	}
	for _, want := range []string{p.addr(), "presented host key " + n.host.Fingerprint(), "refusing to connect"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if got := p.accepted.Load(); got != 1 {
		t.Errorf("%d connections, want 1: a mismatch is never retried", got)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestDialAfterHostKeyRotation(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	old := n.target(n.srv.Addr())
	before := n.dial(t) // established connections keep working
	rotated := newKey(t, "rotated host")
	n.srv.SetHostKey(rotated.Signer)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var hk *HostKeyError
	if _, err := Dial(ctx, old, DialOptions{}); !errors.As(err, &hk) {
		t.Fatalf("old key: err = %v, want *HostKeyError", err)
	}
	fresh := old
	fresh.HostKey = rotated.PublicKey()
	c, err := Dial(ctx, fresh, DialOptions{})
	if err != nil {
		t.Fatalf("new key: %v", err)
	}
	defer c.Close()
	if c.HostKeyFingerprint() != rotated.Fingerprint() {
		t.Errorf("fingerprint = %s, want %s", c.HostKeyFingerprint(), rotated.Fingerprint())
	}
	if out, err := before.Output(ctx, "echo still"); err != nil || string(out) != "still\n" {
		t.Errorf("connection from before rotation: %q, %v", out, err)
	}
}

func TestDialUnauthorizedKey(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	tgt := n.target(n.srv.Addr())
	tgt.Signer = newKey(t, "stranger").Signer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, tgt, DialOptions{Retry: 50 * time.Millisecond})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "refused client key") || !strings.Contains(err.Error(), `user "sear"`) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("retried for %s", time.Since(start))
	}
}

// TestDialWaitsForBoot dials a port nothing listens on yet; the node starts
// there 2 s later, as sshd does on a booting instance.
func TestDialWaitsForBoot(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	n := prepareNode(t)
	started := make(chan error, 1)
	time.AfterFunc(2*time.Second, func() { started <- n.listen(t, addr) })
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	begin := time.Now()
	var retries int
	c, err := Dial(ctx, n.target(addr), DialOptions{Retry: 100 * time.Millisecond, Log: func(f string, a ...any) {
		retries++
		t.Logf(f, a...)
	}})
	if lerr := <-started; lerr != nil {
		t.Fatalf("listen: %v", lerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if took := time.Since(begin); took < 2*time.Second || retries < 3 {
		t.Errorf("connected after %s and %d retries: the node was not up yet", took, retries)
	}
	if out, err := c.Output(ctx, "echo up"); err != nil || string(out) != "up\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
}

func TestDialGivesUpAtDeadline(t *testing.T) {
	t.Parallel()
	n := prepareNode(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := Dial(ctx, n.target(addr), DialOptions{Retry: 100 * time.Millisecond})
	t.Log(err)
	if took := time.Since(begin); took > 2500*time.Millisecond {
		t.Errorf("gave up after %s, deadline was 1.5s", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	want := "ssh " + addr + ": not reachable after "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), ": connection refused") {
		t.Errorf("err = %v, want %q... connection refused", err, want)
	}
}

// TestKeepaliveNoticesStall freezes the link under a running command: the
// keepalives go unanswered, the connection is closed, and Run returns.
func TestKeepaliveNoticesStall(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	p := newProxy(t, n.srv.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, n.target(p.addr()), DialOptions{Keepalive: 100 * time.Millisecond, Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- c.Run(ctx, "echo started; sleep 30", RunOptions{Stdout: signalWriter(started)})
	}()
	<-started
	time.Sleep(300 * time.Millisecond) // a few keepalives answered first
	p.stall()
	begin := time.Now()
	select {
	case err := <-errc:
		t.Log(err)
		if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "keepalive") {
			t.Errorf("err = %v, want a lost connection", err)
		}
		if took := time.Since(begin); took < 300*time.Millisecond {
			t.Errorf("gave up after %s, before 3 keepalives could be missed", took)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run still blocked 3s after the link stalled")
	}
}

// signalWriter closes ch on the first write.
type signalWriter chan struct{}

func (w signalWriter) Write(p []byte) (int, error) {
	select {
	case <-w:
	default:
		close(w)
	}
	return len(p), nil
}

// freeAddr returns a loopback host:port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(nextIP(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
