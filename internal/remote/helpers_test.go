package remote

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sear-ci/sear/internal/cloud/local/sshd"
	"github.com/sear-ci/sear/internal/keys"
)

// lastOctet hands each test node its own loopback address, as the local
// cluster does.
var lastOctet atomic.Int32

func init() { lastOctet.Store(20) }

// nextIP returns a fresh loopback address in 127.0.0.0/8.
func nextIP() string {
	return fmt.Sprintf("127.0.0.%d", 20+lastOctet.Add(1)%200)
}

// node is an in-process SSH server with the keys to reach it.
type node struct {
	srv    *sshd.Server
	dir    string
	host   *keys.SSHKey
	client *keys.SSHKey
}

// newNode starts a local node on a fresh loopback address.
func newNode(t *testing.T) *node {
	t.Helper()
	return newNodeAt(t, net.JoinHostPort(nextIP(), "0"))
}

// newNodeAt starts a local node on addr.
func newNodeAt(t *testing.T, addr string) *node {
	t.Helper()
	n := prepareNode(t)
	if err := n.listen(t, addr); err != nil {
		t.Fatal(err)
	}
	return n
}

// prepareNode makes a node's keys and directory, not yet listening.
func prepareNode(t *testing.T) *node {
	t.Helper()
	return &node{dir: t.TempDir(), host: newKey(t, "host"), client: newKey(t, "client")}
}

// listen starts the node's server on addr, closed when the test ends.
func (n *node) listen(t *testing.T, addr string) error {
	srv, err := sshd.Listen(sshd.Config{
		Addr:       addr,
		HostKey:    n.host.Signer,
		Authorized: []ssh.PublicKey{n.client.PublicKey()},
		Dir:        n.dir,
		Env:        []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"},
	})
	if err != nil {
		return err
	}
	n.srv = srv
	t.Cleanup(func() { srv.Close() })
	return nil
}

// newKey makes an ed25519 key.
func newKey(t *testing.T, comment string) *keys.SSHKey {
	t.Helper()
	k, err := keys.NewSSHKey(comment)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// target is how the client reaches n at addr.
func (n *node) target(addr string) Target {
	return Target{Addr: addr, User: "sear", HostKey: n.host.PublicKey(), Signer: n.client.Signer}
}

// dial connects to n, failing the test if it cannot.
func (n *node) dial(t *testing.T) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, n.target(n.srv.Addr()), DialOptions{Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// proxy is a TCP relay the test controls: it counts connections and can
// stall, holding every byte, as a dead link or a frozen machine would.
type proxy struct {
	ln       net.Listener
	target   string
	accepted atomic.Int32

	mu      sync.Mutex
	stalled bool
	resume  chan struct{}
}

// newProxy relays a fresh loopback address to target.
func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(nextIP(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, resume: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); p.unstall() })
	go p.serve()
	return p
}

// addr is where clients connect.
func (p *proxy) addr() string { return p.ln.Addr().String() }

// serve relays each connection both ways.
func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		go p.relay(in, out)
		go p.relay(out, in)
	}
}

// relay copies src to dst, holding data while stalled.
func (p *proxy) relay(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.wait()
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// stall holds all traffic from now on.
func (p *proxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
}

// unstall lets traffic flow again.
func (p *proxy) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		close(p.resume)
		p.resume = make(chan struct{})
	}
}

// wait blocks while stalled.
func (p *proxy) wait() {
	p.mu.Lock()
	stalled, resume := p.stalled, p.resume
	p.mu.Unlock()
	if stalled {
		<-resume
	}
}

// processGone says whether pid has ended: no such process, or a zombie
// nobody reaps (an orphan's parent here may be a pid 1 that never reaps).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ')' {
			return len(s) > i+2 && s[i+2] == 'Z'
		}
	}
	return false
}

// waitGone polls until pid is gone or d passes.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
