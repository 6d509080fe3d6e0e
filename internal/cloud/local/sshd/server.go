// Package sshd is the SSH server a local node is: the embedded local
// cluster's nodes are these servers, inside the sear process, each on its
// own loopback address, so that sear reaches a local node exactly as it
// reaches an EC2 instance: over SSH, with a pinned host key.
//
// It speaks the subset of the protocol sear uses, the way OpenSSH's sshd
// does without a pty: "exec" sessions whose command runs as `Shell -c cmd`
// as the leader of a new session (sshd calls setsid for every session's
// child), "env" and "signal" requests, "exit-status" and "exit-signal"
// replies. Interactive shells, ptys and forwarding are refused.
package sshd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Config says where a local node listens and what its commands see.
type Config struct {
	Addr       string          // e.g. "127.0.0.3:0": each local node has its own loopback address
	HostKey    ssh.Signer      // the key the node proves itself with; see Server.SetHostKey
	Authorized []ssh.PublicKey // the only client keys accepted
	Dir        string          // the node's home and every command's working directory
	Env        []string        // base environment of every command ("PATH=...")
	Shell      string          // runs each command as `Shell -c cmd`; default "/bin/sh"
}

// Server is a running local node.
type Server struct {
	cfg        Config
	ln         net.Listener
	authorized map[string]bool // by ssh wire encoding
	user       string

	closing chan struct{} // closed when Close starts

	mu      sync.Mutex
	hostKey ssh.Signer
	conns   map[net.Conn]bool
	groups  groups

	wg sync.WaitGroup // accept loop, connections, sessions
}

// Listen starts a node on cfg.Addr and serves it until Close.
func Listen(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Shell == "" {
		cfg.Shell = "/bin/sh"
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("local ssh server: current user: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("local ssh server: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, user: u.Username, hostKey: cfg.HostKey, conns: map[net.Conn]bool{}, closing: make(chan struct{})}
	s.authorized = map[string]bool{}
	for _, k := range cfg.Authorized {
		s.authorized[string(k.Marshal())] = true
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// validate rejects a Config no node could serve.
func (cfg Config) validate() error {
	switch {
	case cfg.HostKey == nil:
		return errors.New("local ssh server: no host key")
	case len(cfg.Authorized) == 0:
		return errors.New("local ssh server: no authorized client key, so nobody could log in")
	case cfg.Dir == "":
		return errors.New("local ssh server: no directory for the node")
	}
	if fi, err := os.Stat(cfg.Dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("local ssh server: node directory %q is not a directory", cfg.Dir)
	}
	return nil
}

// Addr returns the host:port the server listens on, with the port the
// system chose when Config.Addr asked for port 0.
func (s *Server) Addr() string {
	return s.ln.Addr().String()
}

// SetHostKey replaces the host key. Connections made from now on are
// offered the new key; established ones keep theirs, as with sshd, which
// reads its host keys when a connection starts. A nil key is ignored.
func (s *Server) SetHostKey(k ssh.Signer) {
	if k == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostKey = k
}

// currentHostKey returns the key new connections get.
func (s *Server) currentHostKey() ssh.Signer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostKey
}

// Close stops listening, ends every command still running (its whole
// process group: SIGTERM, then SIGKILL after a grace), waits for them,
// and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.isClosing() {
		s.mu.Unlock()
		return nil
	}
	close(s.closing)
	s.mu.Unlock()
	err := s.ln.Close()
	s.groups.end(closeGrace)
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("local ssh server %s: %w", s.Addr(), err)
	}
	return nil
}

// accept serves each incoming connection until the listener is closed.
func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed by Close; a loopback listener has no other failure to wait out
		}
		if !s.track(c) {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serve(c)
		}()
	}
}

// track records a connection so Close can end it; false once closing.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosing() {
		return false
	}
	s.conns[c] = true
	return true
}

// untrack forgets a finished connection.
func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	c.Close()
}

// isClosing says whether Close has started.
func (s *Server) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}
