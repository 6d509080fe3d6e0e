package fakeec2

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/testworld/imds"
)

// Spot interruptions follow the EC2 User Guide's "Spot Instance interruptions" and "Spot
// Instance interruption notices": EC2 gives the notice in the instance's metadata
// (spot/instance-action) two minutes before it acts, then stops or terminates the instance, as
// its interruption behaviour says, with state reason Server.SpotInstanceShutdown or
// Server.SpotInstanceTermination (EC2 API Reference, "StateReason").
var (
	reasonSpotTermination = stateReason{"Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination"}
	reasonSpotShutdown    = stateReason{"Server.SpotInstanceShutdown", "Server.SpotInstanceShutdown: Spot instance shutdown"}
)

// SpotNotice is the two minutes' warning EC2 gives before it interrupts a Spot Instance.
const SpotNotice = 2 * time.Minute

// ErrNotSpot is InterruptSpot's answer for an instance EC2 could not interrupt: not a Spot
// Instance, or not running.
var ErrNotSpot = errors.New("not a running Spot Instance")

// SpotInterruption is one interruption to come (Faults.SpotInterruptions). It names an instance
// by id, or, with Instance empty, by the rank sear's tags give it (Role Orchestrator is rank 0,
// Name <cluster>_factory_<rank> a factory); it fires on the first running Spot Instance that
// matches and has no notice yet, at once or as soon as one is running.
type SpotInterruption struct {
	Instance string
	Rank     int
	// Notice is the time from the notice to the interruption; 0 is EC2's two minutes. Tests
	// shorten it.
	Notice time.Duration
}

// spotNotice is an instance's interruption notice.
type spotNotice struct {
	action     string // terminate, stop or hibernate
	noticedAt  time.Time
	actionTime time.Time
}

// InterruptSpot gives a running Spot Instance its interruption notice now and interrupts it
// notice later (0 is EC2's two minutes), and returns the instant it will act. An instance
// already noticed keeps its first notice.
func (s *Server) InterruptSpot(instanceID string, notice time.Duration) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.instances[instanceID]
	if inst == nil || !inst.market.spot || inst.state != stateRunning {
		return time.Time{}, fmt.Errorf("interrupt %s: %w", instanceID, ErrNotSpot)
	}
	return s.interrupt(inst, notice), nil
}

// interrupt posts the notice and schedules the interruption; the caller holds s.mu.
func (s *Server) interrupt(inst *instance, notice time.Duration) time.Time {
	if inst.spot != nil {
		return inst.spot.actionTime
	}
	if notice <= 0 {
		notice = SpotNotice
	}
	action := inst.market.interruptionBehavior
	if action == "" {
		action = "terminate"
	}
	now := s.now()
	inst.spot = &spotNotice{action: action, noticedAt: now, actionTime: now.Add(notice)}
	id := inst.id
	s.spawn(func() {
		if s.sleep(notice) {
			s.spotInterrupt(id)
		}
	})
	return inst.spot.actionTime
}

// spotInterrupt stops or terminates an instance at its notice's time, unless it went meanwhile.
func (s *Server) spotInterrupt(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.instances[id]
	if inst == nil || (inst.state != stateRunning && inst.state != statePending) {
		return
	}
	if inst.spot.action == "terminate" {
		s.shutdown(inst, stateTerminated, reasonSpotTermination)
		return
	}
	// stop and hibernate both leave a stopped instance; the emulator has no memory to save.
	s.shutdown(inst, stateStopped, reasonSpotShutdown)
}

// fireSpotInterruptions gives their notices to the instances the pending
// SpotInterruptions name, and keeps those that match nothing yet; the
// caller holds s.mu.
func (s *Server) fireSpotInterruptions() {
	var left []SpotInterruption
	for _, si := range s.faults.SpotInterruptions {
		if inst := s.spotTarget(si); inst != nil {
			s.interrupt(inst, si.Notice)
			continue
		}
		left = append(left, si)
	}
	s.faults.SpotInterruptions = left
}

// spotTarget is the first running Spot Instance without a notice that si names.
func (s *Server) spotTarget(si SpotInterruption) *instance {
	for _, inst := range sortedBySeq(s.instances, func(i *instance) int { return i.seq }) {
		if !inst.market.spot || inst.state != stateRunning || inst.spot != nil {
			continue
		}
		if si.Instance == inst.id || (si.Instance == "" && rankOf(inst.tags) == si.Rank) {
			return inst
		}
	}
	return nil
}

// rankOf is a node's rank from the tags sear gives it: Role Orchestrator is 0, a factory's Name is
// <cluster>_factory_<rank>; -1 for an instance sear did not tag.
func rankOf(tags map[string]string) int {
	if tags["Role"] == "Orchestrator" {
		return 0
	}
	if i := strings.LastIndex(tags["Name"], "_factory_"); i >= 0 {
		if n, err := strconv.Atoi(tags["Name"][i+len("_factory_"):]); err == nil && n > 0 {
			return n
		}
	}
	return -1
}

// MetadataInstance is what an instance's metadata service answers from (imds.Source). An
// instance is reachable there from its boot until its machine goes, shutting down included.
func (s *Server) MetadataInstance(id string) (imds.Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.instances[id]
	if inst == nil || inst.state == stateTerminated || inst.state == stateStopped {
		return imds.Instance{}, false
	}
	m := imds.Instance{
		ID: id, Spot: inst.market.spot,
		TokensRequired: inst.metadata.httpTokens == "required",
		Disabled:       inst.metadata.httpEndpoint == "disabled",
	}
	if inst.spot != nil {
		m.Action = &imds.Action{Action: inst.spot.action, Time: inst.spot.actionTime}
	}
	return m, true
}
