package fakeec2

import (
	"context"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/pause"
)

// The instance state machine (EC2 User Guide, "Amazon EC2 instance state
// changes"): pending → running after BootDelay and Backend.Start; running
// or pending → shutting-down → terminated after Backend.Stop and
// TerminateDelay; an instance that powers itself off goes through
// stopping → stopped instead unless its InstanceInitiatedShutdownBehavior is
// terminate. State reasons use the codes of the EC2 API Reference,
// "StateReason".
var (
	reasonUser     = stateReason{"Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"}
	reasonInstance = stateReason{"Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown"}
	reasonInternal = stateReason{"Server.InternalError", "Server.InternalError: Internal error on launch"}
)

// spawn runs f in a goroutine that Close waits for. The caller holds s.mu,
// which orders it against Close.
func (s *Server) spawn(f func()) {
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// sleep waits d, or less if the server closes; it reports whether the full
// wait happened.
func (s *Server) sleep(d time.Duration) bool {
	return pause.For(s.ctx, d) == nil
}

// startBoot hands a new instance to the backend; the caller holds s.mu.
func (s *Server) startBoot(inst *instance) {
	fail := s.consumeFailBoot(inst.id)
	spec := LaunchSpec{
		InstanceID: inst.id, ImageID: inst.imageID, InstanceType: inst.instanceType,
		UserData: append([]byte(nil), inst.userData...), ShutdownBehavior: inst.shutdownBehavior,
		Tags: copyTags(inst.tags), Subnet: inst.subnetID, SecurityGroups: append([]string(nil), inst.groupIDs...),
	}
	s.spawn(func() { s.boot(inst.id, spec, fail) })
}

// boot runs Backend.Start and the boot delay concurrently: the instance is
// running when both are done.
func (s *Server) boot(id string, spec LaunchSpec, fail bool) {
	start := time.Now()
	if fail {
		if s.sleep(s.opts.BootDelay) {
			s.launchFailed(id, "injected boot failure")
		}
		return
	}
	ip, err := s.backend.Start(s.ctx, spec)
	if err != nil {
		s.launchFailed(id, err.Error())
		return
	}
	if s.sleep(s.opts.BootDelay - time.Since(start)) {
		s.bootFinished(id, ip)
	}
}

// launchFailed terminates an instance that could not boot, with
// Server.InternalError, and makes sure the backend holds nothing of it.
func (s *Server) launchFailed(id, why string) {
	s.mu.Lock()
	inst := s.instances[id]
	if inst != nil && inst.state == statePending {
		inst.backendErr = why
		s.terminateNow(inst, reasonInternal)
	}
	s.mu.Unlock()
	s.stopBackend(id)
}

// bootFinished moves a pending instance to running. If it was terminated
// meanwhile, or a FailBoot fault names it, the machine the backend just
// started is destroyed.
func (s *Server) bootFinished(id, ip string) {
	s.mu.Lock()
	inst := s.instances[id]
	if inst == nil || inst.state != statePending {
		s.mu.Unlock()
		s.stopBackend(id)
		return
	}
	if s.faults.FailBoot[id] { // set while the instance was pending
		inst.backendErr = "injected boot failure"
		s.terminateNow(inst, reasonInternal)
		s.mu.Unlock()
		s.stopBackend(id)
		return
	}
	inst.state = stateRunning
	if ip != "" {
		inst.privateIP = ip
	}
	s.fireSpotInterruptions()
	s.mu.Unlock()
}

// shutdown starts an instance on its way to target (terminated or stopped);
// the caller holds s.mu. A shutdown already under way is redirected, so a
// TerminateInstances during stopping ends in terminated.
func (s *Server) shutdown(inst *instance, target string, reason stateReason) {
	busy := inst.state == stateShuttingDown || inst.state == stateStopping
	if busy && inst.target == stateTerminated {
		return
	}
	inst.target = target
	inst.state = stateShuttingDown
	if target == stateStopped {
		inst.state = stateStopping
	}
	inst.reason = reason
	inst.transition = transitionReason(reason, s.now())
	if !busy {
		s.spawn(func() { s.finishShutdown(inst.id) })
	}
}

// transitionReason is the stateTransitionReason EC2 reports, for example
// "User initiated (2024-01-01 12:00:00 GMT)".
func transitionReason(r stateReason, at time.Time) string {
	if strings.HasPrefix(r.code, "Server.") { // EC2's own doing: the code, no date
		return r.code
	}
	return "User initiated (" + at.UTC().Format("2006-01-02 15:04:05") + " GMT)"
}

// finishShutdown destroys the backend machine, waits out TerminateDelay and
// settles the instance in its target state.
func (s *Server) finishShutdown(id string) {
	start := time.Now()
	err := s.backend.Stop(context.WithoutCancel(s.ctx), id)
	if !s.sleep(s.opts.TerminateDelay - time.Since(start)) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.instances[id]
	if inst == nil || (inst.state != stateShuttingDown && inst.state != stateStopping) {
		return // killed meanwhile
	}
	if err != nil {
		inst.backendErr = err.Error()
	}
	if inst.target == stateTerminated {
		s.terminateNow(inst, inst.reason)
		return
	}
	inst.state = stateStopped
}

// terminateNow puts an instance in terminated and releases what it held;
// the caller holds s.mu.
func (s *Server) terminateNow(inst *instance, reason stateReason) {
	inst.state, inst.target, inst.reason = stateTerminated, "", reason
	if inst.transition == "" {
		inst.transition = transitionReason(reason, s.now())
	}
	inst.terminateTime = s.now()
	s.releaseVolumes(inst)
	if e := s.enis[inst.eniID]; e != nil {
		e.deleted = true
	}
}

// stopBackend destroys an instance's machine; a cleanup, so it is not
// cancelled by Close.
func (s *Server) stopBackend(id string) {
	if err := s.backend.Stop(context.WithoutCancel(s.ctx), id); err != nil {
		s.mu.Lock()
		if inst := s.instances[id]; inst != nil {
			inst.backendErr = err.Error()
		}
		s.mu.Unlock()
	}
}

// InstanceExited is how the backend reports an instance that powered itself
// off (a shutdown -h inside it): shutting-down → terminated when its
// InstanceInitiatedShutdownBehavior is terminate, stopping → stopped
// otherwise (EC2 User Guide, "Change the instance initiated shutdown
// behavior").
func (s *Server) InstanceExited(instanceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.instances[instanceID]
	if inst == nil || (inst.state != stateRunning && inst.state != statePending) {
		return
	}
	target := stateStopped
	if inst.shutdownBehavior == "terminate" {
		target = stateTerminated
	}
	s.shutdown(inst, target, reasonInstance)
}

// Kill makes an instance die at once, as hardware failure would: it is
// terminated with Server.InternalError and its backend machine destroyed.
func (s *Server) Kill(instanceID string) {
	s.mu.Lock()
	inst := s.instances[instanceID]
	if inst == nil || inst.state == stateTerminated {
		s.mu.Unlock()
		return
	}
	s.terminateNow(inst, stateReason{"Server.InternalError", "Server.InternalError: Internal error"})
	s.spawn(func() { s.stopBackend(instanceID) })
	s.mu.Unlock()
}

// PurgeTerminated forgets instances terminated more than olderThan ago.
// EC2 keeps terminated instances visible for a while ("DescribeInstances":
// "Recently terminated instances might appear in the returned results. This
// interval is usually less than one hour"); the emulator keeps them until
// purged. It returns how many were removed.
func (s *Server) PurgeTerminated(olderThan time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := s.now().Add(-olderThan)
	n := 0
	for id, inst := range s.instances {
		if inst.state == stateTerminated && !inst.terminateTime.After(cutoff) {
			delete(s.instances, id)
			n++
		}
	}
	return n
}
