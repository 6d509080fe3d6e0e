package sshd

import (
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	// handshakeTimeout bounds key exchange and authentication, like sshd's
	// LoginGraceTime (120 s there; a loopback client needs far less).
	handshakeTimeout = 10 * time.Second
	// maxSessions bounds the sessions open at once on one connection, as
	// sshd's MaxSessions does (10 there; sear runs more in parallel).
	maxSessions = 64
	// serverVersion is what the node announces, in place of OpenSSH's
	// "SSH-2.0-OpenSSH_9.2p1": it says which server a log line came from.
	serverVersion = "SSH-2.0-sear_local"
)

// errUnauthorized is the authentication failure the client sees; it names
// nothing, as sshd's does not.
var errUnauthorized = errors.New("public key not authorized")

// serve runs one connection: handshake, then its channels until it ends.
func (s *Server) serve(c net.Conn) {
	// A deadline bounds the handshake; cleared once authenticated, after
	// which keepalives (answered below) are the client's business.
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.serverConfig())
	if err != nil {
		return
	}
	defer sc.Close()
	_ = c.SetDeadline(time.Time{})
	go answerGlobal(reqs)
	slots := make(chan struct{}, maxSessions)
	for nc := range chans {
		s.open(sc, nc, slots)
	}
}

// serverConfig is made per connection, so a connection gets the host key
// current when it starts (SetHostKey).
func (s *Server) serverConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: s.authorize,
		ServerVersion:     serverVersion,
	}
	cfg.AddHostKey(s.currentHostKey())
	return cfg
}

// authorize accepts exactly the configured keys, for any user name: a local
// node runs everything as the user running sear.
func (s *Server) authorize(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if s.authorized[string(key.Marshal())] {
		return &ssh.Permissions{}, nil
	}
	return nil, errUnauthorized
}

// answerGlobal answers every global request with failure, as sshd does for
// requests it does not know. keepalive@openssh.com is one of those: OpenSSH
// clients count any answer, failure included, as a sign of life.
// tcpip-forward is refused the same way: no forwarding here.
func answerGlobal(reqs <-chan *ssh.Request) {
	for r := range reqs {
		if r.WantReply {
			_ = r.Reply(false, nil)
		}
	}
}

// open accepts a session channel, within the connection's session budget,
// and refuses everything else.
func (s *Server) open(sc *ssh.ServerConn, nc ssh.NewChannel, slots chan struct{}) {
	switch nc.ChannelType() {
	case "session":
	case "direct-tcpip", "forwarded-tcpip", "direct-streamlocal@openssh.com", "x11":
		_ = nc.Reject(ssh.Prohibited, "forwarding is disabled on sear's local nodes")
		return
	default:
		_ = nc.Reject(ssh.UnknownChannelType, fmt.Sprintf("unknown channel type %q", nc.ChannelType()))
		return
	}
	select {
	case slots <- struct{}{}:
	default:
		_ = nc.Reject(ssh.ResourceShortage, fmt.Sprintf("too many sessions on one connection (at most %d)", maxSessions))
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		<-slots
		return
	}
	sess := &session{srv: s, ch: ch, env: s.connEnv(sc)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-slots }()
		sess.serve(reqs)
	}()
}
