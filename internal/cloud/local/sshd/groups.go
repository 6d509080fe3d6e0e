package sshd

import (
	"sync"
	"syscall"
	"time"
)

const (
	// closeGrace is how long Close lets commands end on SIGTERM before
	// SIGKILL: what a job needs to flush its output and exit cleanly.
	closeGrace = 5 * time.Second
	// killWait bounds the wait after SIGKILL, which cannot be caught but
	// can be delayed by a process stuck in the kernel.
	killWait = 2 * time.Second
	// pollEvery is how often Close looks whether the groups are gone.
	pollEvery = 20 * time.Millisecond
)

// groups are the process groups of the commands a server started. A group
// outlives its leader when the command left processes behind (`cmd &`);
// such groups are kept as orphans, so Close ends them too, and a local node
// leaves nothing running after teardown.
type groups struct {
	mu      sync.Mutex
	leaders map[*process]bool // not yet reaped
	orphans map[int]bool      // process group ids whose leader is gone
}

// add records a command just started.
func (g *groups) add(p *process) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leaders == nil {
		g.leaders = map[*process]bool{}
	}
	g.leaders[p] = true
}

// leaderExited moves a reaped command's group to the orphans if some of
// its processes still run.
func (g *groups) leaderExited(p *process) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.leaders, p)
	if groupAlive(p.pgid) {
		if g.orphans == nil {
			g.orphans = map[int]bool{}
		}
		g.orphans[p.pgid] = true
	}
}

// end ends every group: SIGTERM, then SIGKILL to what is left after grace.
func (g *groups) end(grace time.Duration) {
	g.signal(syscall.SIGTERM)
	if g.waitGone(grace) {
		return
	}
	g.signal(syscall.SIGKILL)
	g.waitGone(killWait)
}

// signal sends sig to every group, leaders' and orphans'.
func (g *groups) signal(sig syscall.Signal) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p := range g.leaders {
		_ = syscall.Kill(-p.pgid, sig)
	}
	for pgid := range g.orphans {
		_ = syscall.Kill(-pgid, sig)
	}
}

// waitGone waits up to d for every group to be gone and says whether they
// all are.
func (g *groups) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !g.gone() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
	return true
}

// gone forgets orphan groups that have emptied and says whether nothing is
// left. A group id cannot be reused while the group has members, so an id
// is signalled only while it still names the command's group.
func (g *groups) gone() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for pgid := range g.orphans {
		if !groupAlive(pgid) {
			delete(g.orphans, pgid)
		}
	}
	return len(g.leaders) == 0 && len(g.orphans) == 0
}
