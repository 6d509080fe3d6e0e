package remote

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// ErrConnectionLost is wrapped by every error caused by the connection
// rather than the command: the node vanished, the network dropped, or
// keepalives went unanswered. A caller may dial again and resume.
var ErrConnectionLost = errors.New("connection lost")

// Client is a connection to one node. It is safe for concurrent use: each
// call opens its own SSH session.
type Client struct {
	addr        string
	fingerprint string
	conn        *ssh.Client
	log         func(format string, args ...any)

	closeOnce sync.Once
	closed    chan struct{} // closed by Close
	// ended is closed once the connection has shut down, whatever shut
	// it: Close, keepalive, the node. x/crypto/ssh can lose a channel
	// opened in the moment its connection ends (the open goes out after
	// the read loop has forgotten every channel, and no answer comes), so
	// opening a session gives up on this as well as on its context.
	ended chan struct{}

	mu   sync.Mutex
	lost error // why keepalive closed the connection
}

// newClient wraps an established connection and starts its keepalives.
func newClient(conn *ssh.Client, t Target, opts DialOptions) *Client {
	c := &Client{
		addr:        t.Addr,
		fingerprint: ssh.FingerprintSHA256(t.HostKey),
		conn:        conn,
		log:         opts.Log,
		closed:      make(chan struct{}),
		ended:       make(chan struct{}),
	}
	go func() {
		_ = conn.Wait()
		close(c.ended)
	}()
	if opts.Keepalive > 0 {
		go c.keepalive(opts.Keepalive)
	}
	return c
}

// Close closes the connection. Commands still running on the node go on
// as they would after an OpenSSH client went away: sshd does not end a
// session's command when the channel closes (without a pty).
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.conn.Close()
	})
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("ssh %s: close: %w", c.addr, err)
	}
	return nil
}

// HostKeyFingerprint returns the SHA256 fingerprint of the node's host key
// (the pinned one: no other is accepted), as ssh-keygen -l prints it.
func (c *Client) HostKeyFingerprint() string {
	return c.fingerprint
}

// setLost records why the connection was given up on.
func (c *Client) setLost(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lost = err
}

// lostErr returns why the connection was given up on, or nil.
func (c *Client) lostErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}
