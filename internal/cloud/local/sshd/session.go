package sshd

import (
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// drainWait is how long a closing server still forwards a finished
// command's output.
const drainWait = time.Second

// maxEnv bounds the variables one session may set, so a client cannot
// grow the server's memory without end.
const maxEnv = 1024

// refusal is what `ssh node` without a command prints.
const refusal = "this is a sear local node: it runs commands (ssh node 'command'), not interactive shells\n"

// session is one "session" channel: at most one command, its environment,
// and the signals sent to it.
type session struct {
	srv     *Server
	ch      ssh.Channel
	env     []string
	started bool     // "exec" or "shell" accepted: there is no second
	proc    *process // the command, after "exec"
}

// serve answers the channel's requests until the client closes it or the
// connection ends. Neither ends the command: sshd without a pty leaves the
// child running when the channel goes (session_close_by_channel); the
// command then reads EOF and its writes fail.
func (ss *session) serve(reqs <-chan *ssh.Request) {
	defer ss.ch.Close()
	for req := range reqs {
		ok, then := ss.handle(req)
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if then != nil {
			// Only after the reply, so "exit-status" cannot overtake it.
			ss.srv.wg.Add(1)
			go func() {
				defer ss.srv.wg.Done()
				then()
			}()
		}
	}
}

// handle carries out one request, says whether it succeeded, and returns
// what is to follow the reply, if anything.
func (ss *session) handle(req *ssh.Request) (bool, func()) {
	switch req.Type {
	case "env":
		return ss.setenv(req.Payload), nil
	case "exec":
		return ss.exec(req.Payload)
	case "signal":
		return ss.signal(req.Payload), nil
	case "shell":
		if ss.started {
			return false, nil
		}
		ss.started = true
		return true, ss.turnAway
	default:
		// "pty-req", "subsystem", "x11-req", "auth-agent-req@openssh.com",
		// "window-change" and anything newer: refused, as sshd refuses what
		// its configuration does not allow.
		return false, nil
	}
}

// turnAway answers a "shell" request the way sshd does for an account
// whose shell is nologin: the request succeeds, a line on stderr says why,
// and the session exits with status 1. Replying failure instead would lose
// the line: OpenSSH's client closes the channel on a failed "shell"
// request before writing out what arrived on it.
func (ss *session) turnAway() {
	_, _ = ss.ch.Stderr().Write([]byte(refusal))
	_ = ss.ch.CloseWrite()
	_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{1}))
	_ = ss.ch.Close()
}

// setenv records a variable for the command. sshd accepts only names
// matched by AcceptEnv; a local node accepts any, before "exec".
func (ss *session) setenv(payload []byte) bool {
	var kv struct{ Name, Value string }
	if ssh.Unmarshal(payload, &kv) != nil || ss.started || len(ss.env) >= maxEnv {
		return false
	}
	if kv.Name == "" || strings.ContainsAny(kv.Name, "=\x00") || strings.ContainsRune(kv.Value, 0) {
		return false
	}
	ss.env = append(ss.env, kv.Name+"="+kv.Value)
	return true
}

// exec starts the session's command and returns the wait for its end.
func (ss *session) exec(payload []byte) (bool, func()) {
	var p struct{ Command string }
	if ssh.Unmarshal(payload, &p) != nil || ss.started {
		return false, nil
	}
	proc, err := ss.srv.start(p.Command, ss.env, ss.ch)
	if err != nil {
		_, _ = ss.ch.Stderr().Write([]byte("sear local node: " + err.Error() + "\n"))
		return false, nil
	}
	ss.started, ss.proc = true, proc
	return true, func() { ss.finish(proc) }
}

// signal forwards a "signal" request to the command's process group, as
// sshd does (session_signal_req calls killpg on the session's leader).
func (ss *session) signal(payload []byte) bool {
	var p struct{ Signal string }
	if ssh.Unmarshal(payload, &p) != nil || ss.proc == nil {
		return false
	}
	sig, ok := signalByName[p.Signal]
	if !ok {
		return false
	}
	return ss.proc.signal(sig) == nil
}

// finish waits for the command and its output, then reports how it ended
// and closes the channel, as sshd does: exit-status, or exit-signal when a
// signal killed it.
func (ss *session) finish(p *process) {
	<-p.done
	select {
	case <-p.drained:
	case <-ss.srv.closing:
		// What is left in the pipes gets a moment to reach the client.
		select {
		case <-p.drained:
		case <-time.After(drainWait):
			p.abandonOutput()
			<-p.drained
		}
	}
	_ = ss.ch.CloseWrite()
	name, payload := exitRequest(p.state)
	_, _ = ss.ch.SendRequest(name, false, payload)
	_ = ss.ch.Close()
}

// connEnv is what sshd puts in every session's environment before the
// configured one (do_setup_env): who and where the user is, and which
// connection the command came in on.
func (s *Server) connEnv(sc *ssh.ServerConn) []string {
	cHost, cPort := hostPort(sc.RemoteAddr())
	sHost, sPort := hostPort(sc.LocalAddr())
	env := []string{
		"USER=" + s.user,
		"LOGNAME=" + s.user,
		"HOME=" + s.cfg.Dir,
		"SHELL=" + s.cfg.Shell,
		"SSH_CLIENT=" + cHost + " " + cPort + " " + sPort,
		"SSH_CONNECTION=" + cHost + " " + cPort + " " + sHost + " " + sPort,
	}
	return append(env, s.cfg.Env...)
}

// hostPort splits an address for SSH_CONNECTION, which sshd writes as
// "client-ip client-port server-ip server-port".
func hostPort(a net.Addr) (host, port string) {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), "0"
	}
	return host, port
}
