// Package report describes one sear run for the people who read its result
// and renders it three ways: a check run's output, a sticky pull-request
// comment and the Actions step summary. The renderers are pure functions of
// a Run: they never fail, and they never exceed GitHub's size limits (they
// truncate with a note and a link to the full log instead). Posting to
// GitHub is package report/github; writing the action's outputs is here
// (outputs.go) because it needs nothing but files.
//
// A Run carries text from the job, the cloud and the user's files, which
// GitHub shows as it is: it masks a step's log, never a check run, a
// comment or a step summary. So every renderer first sanitises each text
// field (no terminal escapes or control characters: see Run.Redacted),
// then masks it with Run.Secrets, then renders, and masks the rendered
// text once more, in case rendering joined pieces of a secret from two
// fields. Callers should still mask what they can (the run package masks
// the job's log as it streams).
package report

import (
	"time"
)

// Verdict is how a run ended.
type Verdict string

// The verdicts. All but Running and BadConfig are also GitHub check-run
// conclusions with the same spelling.
const (
	// Running is a run still under way: its check run is in progress.
	Running Verdict = "running"
	// Success is a job that exited 0.
	Success Verdict = "success"
	// Failure is a job that failed, or a run that could not bring its
	// cluster up or tear it down.
	Failure Verdict = "failure"
	// TimedOut is a run stopped at the cluster's max_duration.
	TimedOut Verdict = "timed_out"
	// Cancelled is a run stopped by a signal (a cancelled workflow).
	Cancelled Verdict = "cancelled"
	// OverBudget is a run stopped when its cost reached max_cost
	// (max_cost_mode: expected). It concludes "failure".
	OverBudget Verdict = "over_budget"
	// ActionRequired is a fork pull request refused before anything was
	// launched, because the workflow did not opt in to running them.
	ActionRequired Verdict = "action_required"
	// BadConfig is a runnable or cluster file that did not validate;
	// nothing was launched.
	BadConfig Verdict = "config_error"
)

// Conclusion is the check-run conclusion for the verdict, "" while running.
// A configuration error concludes "failure": GitHub has no finer word, and
// the annotations say what failed.
func (v Verdict) Conclusion() string {
	switch v {
	case Running:
		return ""
	case Success, TimedOut, Cancelled, ActionRequired, Failure:
		return string(v)
	}
	return "failure"
}

// Run is everything a report says about one run of one runnable.
type Run struct {
	// Runnable names the runnable; it names the check run and the sticky
	// comment, so it must be stable from one run to the next (the runnable
	// file's path in the repository is a good name).
	Runnable string
	Verdict  Verdict
	// Reason says in one line why the verdict is what it is, for anything
	// but a plain success: "the job exited with status 2",
	// "max_duration 2h0m0s reached".
	Reason string
	// Commit is the SHA the run ran on (the pull request's head).
	Commit string
	// ClusterID is sear's id of the cluster (its resources carry it as the
	// sear:cluster-id tag).
	ClusterID string
	// Region is the AWS region the cluster ran in; "" for a local cluster.
	Region   string
	Started  time.Time
	Duration time.Duration
	Phases   []Phase
	Nodes    []Node
	// Attempts are the cluster's launch attempts when EC2 had no room for
	// the first (the capacity failover's), the last one the one that
	// launched unless the launch failed; empty when the first launched.
	Attempts []Attempt
	// Interruptions are the spot nodes EC2 interrupted during the run
	// (spot.go), in the order the notices came.
	Interruptions []Interruption
	// Retry, if set, says the job was run again on on-demand nodes after
	// a spot interruption ended it (spot_retry); the rest of the report is
	// the retry's, Interruptions the first run's.
	Retry   *Retry `json:",omitempty"`
	Metrics Metrics
	// Projected is what the run may cost at most, known before launch;
	// the reports show it while the run is under way. nil for none.
	Projected *Projection
	// Base is the run on the pull request's base commit to compare with;
	// nil when there is none.
	Base *Baseline
	Log  LogTail
	// Links point at the rest of the story; empty ones are left out.
	Links Links
	// TornDown lists what teardown deleted, one resource or group per entry
	// ("3 instances", "security group sg-0abc").
	TornDown []string
	// Leftovers are what teardown could not delete.
	Leftovers []Leftover
	// TLSOff says the cluster ran with tls: false, which a report must
	// never let pass unnoticed.
	TLSOff bool
	// ConfigErrors are the problems found in the input files; they also
	// become check-run annotations.
	ConfigErrors []ConfigError
	// Warnings are things the reader should know that did not change the
	// verdict, such as a report that could not be posted for lack of a
	// permission.
	Warnings []string
	// Secrets are what every output masks: each form of each secret, as
	// redact.Expand lists them and redact.Writer.Secrets returns them,
	// not the bare values (a value's base64 or JSON form would go
	// through). They are never written anywhere, JSON included.
	Secrets []string `json:"-"`
}

// Phase is one step of a run.
type Phase struct {
	Name     string
	Start    time.Time
	Duration time.Duration
	// Err is the phase's error, "" when it succeeded.
	Err string
	// Running marks the phase under way when the report was made.
	Running bool
	// Cleanup marks a teardown step (run in reverse after the others).
	Cleanup bool
}

// Node is one machine of the cluster.
type Node struct {
	// Role is "orchestrator" or "factory".
	Role string
	Name string
	// Type is the EC2 instance type; "" for a node on this machine.
	Type string
	Spot bool
	// Uptime is how long the node existed (launch to termination); zero
	// means the run's duration, which is what a caller who does not track
	// each node can say.
	Uptime time.Duration
}

// Attempt is one try at launching the whole cluster in one place.
type Attempt struct {
	Zone, Subnet                    string
	OrchestratorType, FactoriesType string
	Market                          string // "spot", "on-demand", "spot, else on-demand"
	// Code is EC2's error code that ended it (InsufficientInstanceCapacity),
	// "" for the one that launched; Node names the node that met it.
	Code, Node string
}

// Baseline is the run on the base commit that metrics are compared with.
type Baseline struct {
	Commit string
	// URL links to the base run's check run.
	URL     string
	Metrics Metrics
}

// LogTail is the end of the job's log.
type LogTail struct {
	// Lines are the last lines of the log, oldest first, without their
	// line ends. The renderers show as many of them as fit.
	Lines []string
	// Total is how many lines the whole log has; 0 when unknown.
	Total int
}

// Links point at what a report cannot hold.
type Links struct {
	// CheckRun is the run's check run on GitHub.
	CheckRun string
	// Log is the full log: the Actions job log, or a file for the command
	// line.
	Log string
	// Workflow is the workflow run.
	Workflow string
	// Comment is the sticky pull-request comment.
	Comment string
}

// Leftover is a resource teardown could not delete.
type Leftover struct {
	// Resource names it: "instance i-0abc", "security group sg-0abc".
	Resource string
	// Err is why it could not be deleted.
	Err string
	// Command deletes it by hand, copy-pasteable.
	Command string
}

// ConfigError is one problem in a configuration file.
type ConfigError struct {
	// File is the path relative to the repository root, which is what an
	// annotation needs to land on the file in the pull request.
	File    string
	Line    int // 1-based; 0 for the file as a whole
	Column  int // 1-based; 0 when unknown
	Message string
	// Source is the offending line as it stands in the file, if known.
	Source string
}
