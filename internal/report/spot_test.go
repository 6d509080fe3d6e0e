package report

import (
	"strings"
	"testing"
	"time"
)

// TestInterruptionsShown: each of the three reports names the interrupted node, the notice's
// time and the time left, and the signal the job got; a secret in a node's name stays masked.
func TestInterruptionsShown(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC)
	r := goldenRuns["success"]
	r.Verdict = Failure
	r.Interruptions = []Interruption{{
		Node: "demo_factory_1", Rank: 1, Action: "terminate", NoticedAt: at, ActionTime: at.Add(2 * time.Minute),
		Signal: "SIGTERM", SignalledAt: at.Add(1200 * time.Millisecond),
	}, {Node: "hunter2_orchestrator", Rank: 0, Action: "terminate", NoticedAt: at, ActionTime: at.Add(90 * time.Second)}}
	r.Reason = r.Interruptions[0].Sentence()
	r.Secrets = []string{"hunter2"}
	want := []string{"Spot interruptions", "2 spot nodes were interrupted by EC2",
		"| `demo_factory_1` | 1 | 2026-12-07 02:30:00 | 2m 00s | terminate | `SIGTERM` after 1.2s |",
		"| none |", "(rank 1) was interrupted by EC2: notice at 02:30:00 UTC, 2m 00s before it would terminate the instance; the job got SIGTERM"}
	for name, out := range map[string]string{"check run": Check(r).Summary, "comment": Comment(r), "step summary": StepSummary(r)} {
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, out)
			}
		}
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s shows the secret", name)
		}
	}
}
