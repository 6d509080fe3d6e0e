package sshd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
)

// process is one command a session started, the leader of its own process
// group.
type process struct {
	pgid    int
	done    chan struct{}    // closed once the leader has exited and been reaped
	state   *os.ProcessState // how it ended; set before done is closed
	drained chan struct{}    // closed once stdout and stderr are at EOF or failed
	outputs []*os.File       // our ends of stdout and stderr
}

// start runs command as `Shell -c command` in the node's directory, in a new
// session (setsid), as sshd's do_exec_no_pty does: the command leads a
// process group of its own, so "signal" requests and kill 0 reach exactly
// its processes.
func (s *Server) start(command string, env []string, ch ssh.Channel) (*process, error) {
	pp, err := newPipes()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.cfg.Shell, "-c", command)
	cmd.Dir = s.cfg.Dir
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pp.childIn, pp.childOut, pp.childErr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p := &process{done: make(chan struct{}), drained: make(chan struct{})}
	if err := s.launch(cmd, p); err != nil {
		pp.closeAll()
		return nil, err
	}
	pp.closeChild()
	p.plumb(ch, pp)
	go p.wait(cmd, &s.groups)
	return p, nil
}

// launch starts cmd unless the server is closing, and records its group,
// both under the lock, so Close cannot miss a command starting meanwhile.
func (s *Server) launch(cmd *exec.Cmd, p *process) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosing() {
		return errors.New("the node is shutting down")
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.cfg.Shell, err)
	}
	p.pgid = cmd.Process.Pid
	s.groups.add(p)
	return nil
}

// wait reaps the leader and hands its group over to orphan tracking.
func (p *process) wait(cmd *exec.Cmd, g *groups) {
	_ = cmd.Wait() // how it ended is in ProcessState
	p.state = cmd.ProcessState
	g.leaderExited(p)
	close(p.done)
}

// signal sends sig to the command's whole process group while its leader
// runs. Once the leader has ended the request is refused, as sshd refuses
// it for a session whose child has exited: the group id may no longer be
// the command's.
func (p *process) signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return errors.New("the command has ended")
	default:
		return syscall.Kill(-p.pgid, sig)
	}
}

// plumb connects the channel to the command: the client's data to stdin,
// stdout to channel data, stderr to extended data.
func (p *process) plumb(ch ssh.Channel, pp *pipes) {
	go feed(pp.in, ch)
	p.outputs = []*os.File{pp.out, pp.err}
	var wg sync.WaitGroup
	wg.Add(2)
	go drain(&wg, ch, pp.out)
	go drain(&wg, ch.Stderr(), pp.err)
	go func() {
		wg.Wait()
		close(p.drained)
	}()
}

// abandonOutput stops waiting for the command's output. A process outside
// the command's group (one that called setsid, as a daemon does) may hold
// stdout open for good; sshd would wait for it, but a server that is
// closing cannot.
func (p *process) abandonOutput() {
	for _, f := range p.outputs {
		_ = f.Close()
	}
}

// feed copies the client's data to stdin and closes it on the client's EOF,
// or when the channel or the connection goes, so the command reads EOF.
func feed(w *os.File, ch ssh.Channel) {
	_, _ = io.Copy(w, ch)
	_ = w.Close()
}

// drain copies one output to the channel until EOF. When a write fails (the
// channel or the connection is gone) it closes the pipe, so the command's
// next write fails with EPIPE, as under sshd, which closes a dead session's
// descriptors, instead of blocking once the pipe is full.
func drain(wg *sync.WaitGroup, dst io.Writer, r *os.File) {
	defer wg.Done()
	_, _ = io.Copy(dst, r)
	_ = r.Close()
}

// pipes are the command's three standard streams: the child's ends and ours.
type pipes struct {
	childIn, childOut, childErr *os.File
	in, out, err                *os.File
}

// newPipes makes the three pipes, or none.
func newPipes() (*pipes, error) {
	var pp pipes
	var err error
	if pp.childIn, pp.in, err = os.Pipe(); err != nil {
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	if pp.out, pp.childOut, err = os.Pipe(); err != nil {
		pp.closeAll()
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	if pp.err, pp.childErr, err = os.Pipe(); err != nil {
		pp.closeAll()
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	return &pp, nil
}

// closeChild closes the child's ends in this process once the child has
// them, so EOF on stdout means every writer is gone.
func (pp *pipes) closeChild() {
	for _, f := range []*os.File{pp.childIn, pp.childOut, pp.childErr} {
		if f != nil {
			_ = f.Close()
		}
	}
}

// closeAll closes every end, after a failed start.
func (pp *pipes) closeAll() {
	pp.closeChild()
	for _, f := range []*os.File{pp.in, pp.out, pp.err} {
		if f != nil {
			_ = f.Close()
		}
	}
}

// exitRequest is the request that reports how the command ended, with the
// payload sshd's session_exit_message sends: "exit-status" with the code,
// or "exit-signal" with the signal's name, the core flag and empty message
// and language tags.
func exitRequest(ps *os.ProcessState) (string, []byte) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return "exit-signal", ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Error      string
			Lang       string
		}{signalName(ws.Signal()), ws.CoreDump(), "", ""})
	}
	return "exit-status", ssh.Marshal(struct{ Status uint32 }{uint32(ps.ExitCode())})
}
