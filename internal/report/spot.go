package report

import (
	"fmt"
	"strings"
	"time"
)

// Interruption is EC2 interrupting one of the run's spot nodes: the notice
// the node saw in its instance metadata (spot/instance-action), two
// minutes before EC2 acts on AWS, and the signal the job got for it.
type Interruption struct {
	// Node is the node's Flambé name; Rank its rank (0 the orchestrator).
	Node string
	Rank int
	// Action is what EC2 announced: terminate, stop or hibernate.
	Action string
	// NoticedAt is when the node saw the notice; ActionTime when EC2 said
	// it would act. ActionTime less NoticedAt is the time the job had left.
	NoticedAt, ActionTime time.Time
	// Signal is the signal the job got (spot_signal), "" if it could not
	// be sent (the job had ended, or the orchestrator was unreachable);
	// SignalledAt is when it was sent.
	Signal      string
	SignalledAt time.Time `json:",omitempty"`
}

// Retry is the on-demand retry of a job a spot interruption ended.
type Retry struct {
	// ClusterID is the first cluster's: the retry's is the report's own.
	ClusterID string
	// CheckpointFiles is how many files of SEAR_CHECKPOINT_DIR the
	// interrupted job left on the orchestrator, restored for the retry.
	CheckpointFiles int
	// Nodes are the first cluster's nodes, with their uptime; the report's
	// Nodes are both clusters'.
	Nodes []Node `json:"-"`
}

// Sentence says what the retry was.
func (r Retry) Sentence() string {
	from := "from the beginning: the interrupted job saved no checkpoint in SEAR_CHECKPOINT_DIR"
	if r.CheckpointFiles > 0 {
		from = "from the checkpoint the interrupted job saved (" + plural(r.CheckpointFiles, "file", "files") + " of SEAR_CHECKPOINT_DIR)"
	}
	return "the job was run again on on-demand nodes (spot_retry), " + from + "; the interrupted cluster was " + r.ClusterID
}

// Left is the time the job had from the notice to EC2's action.
func (i Interruption) Left() time.Duration {
	return max(0, i.ActionTime.Sub(i.NoticedAt).Round(time.Second))
}

// Sentence says in one line what happened: the verdict's reason when the
// interruption ended the run.
func (i Interruption) Sentence() string {
	s := fmt.Sprintf("spot node %s (rank %d) was interrupted by EC2: notice at %s UTC, %s before it would %s the instance",
		i.Node, i.Rank, i.NoticedAt.UTC().Format("15:04:05"), duration(i.Left()), orDefault(i.Action, "terminate"))
	if i.Signal != "" {
		s += "; the job got " + i.Signal
	} else {
		s += "; the job got no signal"
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// interruptions lists the spot nodes EC2 interrupted, one row each: which,
// when the notice came, the time it left, and the signal the job got.
var interruptions = section{write: func(b *strings.Builder, ctx *render, sh *shape) {
	ins := ctx.run.Interruptions
	if len(ins) == 0 {
		return
	}
	fmt.Fprintf(b, "\n> [!WARNING]\n> **%s interrupted by EC2** (Spot interruption notice).\n",
		plural(len(ins), "spot node was", "spot nodes were"))
	fmt.Fprintf(b, "\n#### Spot interruptions\n\n")
	writeRow(b, "Node", "Rank", "Notice (UTC)", "Time left", "Action", "Signal to the job")
	writeRow(b, "---", "---:", "---", "---:", "---", "---")
	shown := min(len(ins), sh.items)
	for _, i := range ins[:shown] {
		sig := "none"
		if i.Signal != "" {
			sig = code(clip(ctx.shown(i.Signal), 20))
			if !i.SignalledAt.IsZero() {
				sig += fmt.Sprintf(" after %.1fs", i.SignalledAt.Sub(i.NoticedAt).Seconds())
			}
		}
		writeRow(b, code(clip(ctx.shown(i.Node), 100)), fmt.Sprint(i.Rank), i.NoticedAt.UTC().Format("2006-01-02 15:04:05"),
			duration(i.Left()), text(clip(ctx.shown(i.Action), 20)), sig)
	}
	if shown < len(ins) {
		ctx.cutNote(b, "interruptions", shown, len(ins))
	}
	if r := ctx.run.Retry; r != nil {
		fmt.Fprintf(b, "\n%s.\n", text(ctx.shown(upperFirst(r.Sentence()))))
	}
}}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
