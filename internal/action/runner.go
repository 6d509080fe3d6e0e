package action

import (
	"fmt"
	"strings"
)

// Runner is what the GitHub Actions runner tells a step through its
// environment (GITHUB_* and STATE_*), read once by ReadRunner so that the
// rest of sear reads fields, never the variables. Outside a runner (sear
// run on a developer's machine) every field is empty, and callers fall
// back to what a command line has.
type Runner struct {
	// Workspace is GITHUB_WORKSPACE, the checkout every path is under.
	Workspace string
	// Repository is GITHUB_REPOSITORY, OWNER/REPO.
	Repository string
	// ServerURL and APIURL are GITHUB_SERVER_URL and GITHUB_API_URL:
	// github.com and its API, or a GitHub Enterprise Server's.
	ServerURL, APIURL string
	// RunID and RunAttempt are GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT: every
	// job of a workflow run's attempt shares them.
	RunID, RunAttempt string
	// Actor is GITHUB_ACTOR, who started the run.
	Actor string
	// Token is GITHUB_TOKEN, which the runner does not set: a workflow
	// passes it to `sear run` as a variable of its own.
	Token string
	// EventName, EventPath and SHA are GITHUB_EVENT_NAME, the webhook
	// payload's file (GITHUB_EVENT_PATH) and GITHUB_SHA; ReadEvent reads
	// them.
	EventName, EventPath, SHA string
	// OutputFile, StateFile and SummaryFile are the files the runner reads
	// after the step: GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY.
	OutputFile, StateFile, SummaryFile string
	// State is what the main step saved, as the post step reads it.
	State State
}

// ReadRunner reads the runner's variables. It never fails: what a step
// needs that is missing is for its caller to say (ErrNoWorkspace).
func ReadRunner(getenv Getenv) Runner {
	return Runner{
		Workspace: getenv("GITHUB_WORKSPACE"), Repository: getenv("GITHUB_REPOSITORY"),
		ServerURL: getenv("GITHUB_SERVER_URL"), APIURL: getenv("GITHUB_API_URL"),
		RunID: getenv("GITHUB_RUN_ID"), RunAttempt: getenv("GITHUB_RUN_ATTEMPT"),
		Actor: getenv("GITHUB_ACTOR"), Token: getenv("GITHUB_TOKEN"),
		EventName: getenv("GITHUB_EVENT_NAME"), EventPath: getenv("GITHUB_EVENT_PATH"), SHA: getenv("GITHUB_SHA"),
		OutputFile: getenv("GITHUB_OUTPUT"), StateFile: getenv("GITHUB_STATE"), SummaryFile: getenv("GITHUB_STEP_SUMMARY"),
		State: readState(getenv),
	}
}

// WorkflowURL is the workflow run's page, "" outside a runner.
func (r Runner) WorkflowURL() string {
	if r.ServerURL == "" || r.Repository == "" || r.RunID == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s", strings.TrimSuffix(r.ServerURL, "/"), r.Repository, r.RunID)
}

// SaveState saves s for the post step in GITHUB_STATE, which the runner
// hands the post step as STATE_<name> variables.
func (r Runner) SaveState(s State) error {
	return WriteOutputs(r.StateFile, []Output{
		{Name: stateRunID, Value: s.RunID}, {Name: stateClusterID, Value: s.ClusterID},
		{Name: stateClusterKind, Value: s.ClusterKind}, {Name: stateRegion, Value: s.Region},
		{Name: stateRetryClusterID, Value: s.RetryClusterID},
	})
}

// State is what the main step leaves the post step: which cluster to
// sweep, and where.
type State struct {
	RunID, ClusterID string
	// ClusterKind is the cluster file's tag (config.Kind): only an AWS
	// cluster leaves anything to sweep.
	ClusterKind string
	Region      string
	// RetryClusterID is spot_retry's on-demand cluster's id, chosen before
	// the run like ClusterID, so the post step sweeps it too; "" without
	// spot_retry.
	RetryClusterID string
}

// The state's names: the post step reads each as STATE_<name>.
const (
	stateRunID       = "run-id"
	stateClusterID   = "cluster-id"
	stateClusterKind = "cluster-kind"
	stateRegion      = "region"

	stateRetryClusterID = "retry-cluster-id"
)

func readState(getenv Getenv) State {
	return State{
		RunID: getenv("STATE_" + stateRunID), ClusterID: getenv("STATE_" + stateClusterID),
		ClusterKind: getenv("STATE_" + stateClusterKind), Region: getenv("STATE_" + stateRegion),
		RetryClusterID: getenv("STATE_" + stateRetryClusterID),
	}
}
