package pipeline

import "time"

// Phase says whether an Event is about a step's Run or its Cleanup.
type Phase int

// The phases of a step.
const (
	PhaseRun Phase = iota + 1
	PhaseCleanup
)

// String returns "run" or "cleanup".
func (p Phase) String() string {
	switch p {
	case PhaseRun:
		return "run"
	case PhaseCleanup:
		return "cleanup"
	default:
		return "phase(?)"
	}
}

// Event reports the start or the end of one phase of one step, so a report
// can list phases with their durations and outcome.
//
// Each phase that runs produces exactly two events with the same Step, Phase
// and Start: one with Done false when it starts, and one with Done true when
// it ends, carrying Duration and Err (nil on success; a *PanicError if it
// panicked). A step whose Run or Cleanup is nil produces no event for that
// phase, and a step never started (after a failure or a cancellation) none
// at all.
type Event struct {
	Step     string
	Phase    Phase
	Start    time.Time
	Duration time.Duration
	Err      error
	Done     bool
}
