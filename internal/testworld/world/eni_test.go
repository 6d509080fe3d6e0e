package world

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestENIReleaseDelayOverHTTP: the control endpoint takes eni_release_delay,
// reads it back, refuses a negative one, and DELETE clears it.
func TestENIReleaseDelayOverHTTP(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	var f Faults
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"eni_release_delay": "90s"}}`, &f)
	if f.EC2.ENIReleaseDelay != Duration(90*time.Second) {
		t.Errorf("eni_release_delay in force %v, want 90s", time.Duration(f.EC2.ENIReleaseDelay))
	}
	if got := w.EC2().CurrentFaults().ENIReleaseDelay; got != 90*time.Second {
		t.Errorf("the emulator has %v, want 90s", got)
	}
	status, raw := control(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"eni_release_delay": "-1s"}}`, nil)
	if status != http.StatusBadRequest || !strings.Contains(string(raw), "eni_release_delay must not be negative") {
		t.Errorf("a negative delay: %d %s, want 400 naming eni_release_delay", status, raw)
	}
	mustControl(t, env, http.MethodDelete, "/_testworld/faults", nil, &f)
	if f.EC2.ENIReleaseDelay != 0 {
		t.Errorf("eni_release_delay after DELETE %v, want 0", time.Duration(f.EC2.ENIReleaseDelay))
	}
}
