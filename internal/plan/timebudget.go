package plan

import (
	"fmt"
	"strings"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/timebudget"
)

// Bound is one phase's bound in the run's time budget (package
// timebudget): the nodes' lifetime is the sum of them, so the plan shows
// where it goes.
type Bound struct {
	Phase string `json:"phase"`
	Bound string `json:"bound"`
	// Covers says what the bound covers and where it comes from: a field of
	// the cluster file, or a fixed bound of sear's.
	Covers string `json:"covers"`
}

// bounds lists b's phases that get time, in the order a run spends it.
func bounds(b timebudget.Budget) []Bound {
	out := []Bound{{"ready", config.FormatDuration(b.Ready), "ready_timeout: launch, connect, environment check, trust and engine start, one window"}}
	for _, x := range []struct {
		phase  timebudget.Phase
		covers string
	}{
		{timebudget.Upload, "fixed: the workspace and secrets"},
		{timebudget.Bootstrap, "fixed: setup:'s venv and requirements"},
		{timebudget.Setup, "fixed: setup_cmds"},
		{timebudget.Job, fmt.Sprintf("max_duration %s, plus %s to start and stop the job", config.FormatDuration(b.MaxDuration), config.FormatDuration(b.JobOverhead))},
		{timebudget.Collect, "fixed: bringing outputs back"},
		{timebudget.Teardown, "fixed: every cleanup"},
	} {
		if d := b.Bound(x.phase); d > 0 {
			out = append(out, Bound{x.phase.String(), config.FormatDuration(d), x.covers})
		}
	}
	return append(out, Bound{"slack", config.FormatDuration(b.Slack), "fixed: late steps and clock skew"})
}

// textBounds is the budget on one line: phase and bound.
func textBounds(bs []Bound) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = b.Phase + " " + b.Bound
	}
	return strings.Join(parts, " + ")
}
