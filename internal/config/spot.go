package config

import (
	"strings"
)

// SpotHandling is what sear does when EC2 interrupts a spot node: the
// signal the job gets with the two minutes' notice, so that a
// checkpointing job can save.
type SpotHandling struct {
	// SpotSignal is spot_signal, the signal's name as kill -l spells it
	// with its SIG prefix ("SIGTERM"); DefaultSpotSignal unless the file
	// names another. Empty on a local cluster, which has no spot nodes.
	SpotSignal string `json:",omitempty"`
	// SpotRetry is spot_retry: SpotRetryOnDemand runs the job once more,
	// on on-demand nodes, when a spot interruption ended it, from the
	// checkpoint the job saved in SEAR_CHECKPOINT_DIR; "" never retries.
	SpotRetry string `json:",omitempty"`
}

// SpotRetryOnDemand is spot_retry's one value.
const SpotRetryOnDemand = "on-demand"

// DefaultSpotSignal is the signal a job gets on a spot interruption
// notice unless spot_signal names another: what a stopping container or
// systemd sends first, which Python and most trainers already handle.
const DefaultSpotSignal = "SIGTERM"

// spotSignals are the signals a job may ask for: those it can catch.
// SIGKILL and SIGSTOP cannot be caught, so a job could never save on them;
// SIGINT and SIGQUIT are ignored by every command a non-interactive shell
// starts in the background (POSIX, "Shell Command Language", 2.11), as
// the detached job is, and an ignored signal stays ignored across exec.
var spotSignals = []string{"SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"}

// spotFields reads spot_signal: a signal name, with or without its SIG
// prefix, in any case.
func (s *source) spotFields(fs map[string]field, c *Cluster) {
	c.SpotSignal = DefaultSpotSignal
	if f, ok := fs["spot_retry"]; ok {
		if v, ok := s.str(f); ok {
			switch {
			case v != SpotRetryOnDemand:
				s.errorAt(f.value, "spot_retry %q is not a retry sear makes: write spot_retry: on-demand (run the job once more on on-demand nodes after a spot interruption), or remove it", v)
			case !c.Spot:
				s.errorAt(f.key, "spot_retry needs spot: true: without spot nodes nothing is interrupted, so there is nothing to retry")
			default:
				c.SpotRetry = v
			}
		}
	}
	f, ok := fs["spot_signal"]
	if !ok {
		return
	}
	v, ok := s.str(f)
	if !ok {
		return
	}
	name := strings.ToUpper(strings.TrimSpace(v))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	for _, sig := range spotSignals {
		if name == sig {
			c.SpotSignal = sig
			return
		}
	}
	switch name {
	case "SIGKILL", "SIGSTOP":
		s.errorAt(f.value, "spot_signal %q cannot be caught, so the job could never save on it; expected one of %s", v, strings.Join(spotSignals, ", "))
		return
	case "SIGINT", "SIGQUIT":
		s.errorAt(f.value, "spot_signal %q never reaches the job: a detached job starts with it ignored; expected one of %s", v, strings.Join(spotSignals, ", "))
		return
	}
	s.errorAt(f.value, "spot_signal %q is not a signal sear sends; expected one of %s", v, strings.Join(spotSignals, ", "))
}
