package runner

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// Run metadata the world does not decide: one workflow, one job, one run.
const (
	workflowName = "sear"
	jobName      = "experiment"
	runID        = 9876543210
	runNumber    = 42
	actor        = "octocat"
	actorID      = 583231
)

// githubContext is the job's github context as the runner holds it, for the input defaults'
// expressions and for the GITHUB_* variables. Keys are the context's names (event_name, sha, …).
func githubContext(seed world.Seed, urls map[string]string) map[string]string {
	owner, _, _ := strings.Cut(seed.Repository, "/")
	c := map[string]string{
		"token":               seed.GitHubToken,
		"repository":          seed.Repository,
		"repository_id":       strconv.FormatInt(seed.RepositoryID, 10),
		"repository_owner":    owner,
		"repository_owner_id": strconv.FormatInt(seed.OwnerID, 10),
		"event_name":          seed.Event,
		"sha":                 seed.SHA,
		"server_url":          urls["GITHUB_SERVER_URL"],
		"api_url":             urls["GITHUB_API_URL"],
		"graphql_url":         urls["GITHUB_API_URL"] + "/graphql",
		"run_id":              strconv.Itoa(runID),
		"run_number":          strconv.Itoa(runNumber),
		"run_attempt":         "1",
		"retention_days":      "90",
		"actor":               actor,
		"actor_id":            strconv.Itoa(actorID),
		"triggering_actor":    actor,
		"workflow":            workflowName,
		"job":                 jobName,
		// A local action (uses: ./) is "__self" until a step id names it; sear's own workflows
		// use it that way, and a marketplace user's step is the same container either way.
		"action":            "__self",
		"action_repository": "",
		"action_ref":        "",
		"workspace":         containerWorkspace,
		"event_path":        containerWorkflow + "/event.json",
		"head_ref":          "",
		"base_ref":          "",
		"ref_protected":     "false",
		"ref_type":          "branch",
	}
	if seed.Event == "pull_request" {
		c["ref"] = fmt.Sprintf("refs/pull/%d/merge", seed.PullRequest)
		c["ref_name"] = fmt.Sprintf("%d/merge", seed.PullRequest)
		c["head_ref"], c["base_ref"] = seed.HeadRef, seed.BaseRef
	} else {
		c["ref"] = "refs/heads/" + seed.BaseRef
		c["ref_name"] = seed.BaseRef
	}
	c["workflow_ref"] = seed.Repository + "/.github/workflows/" + workflowName + ".yml@" + c["ref"]
	c["workflow_sha"] = seed.SHA
	return c
}

// githubVariables are the context values the runner exports as GITHUB_<NAME> to every step
// (GitHubContext.GetRuntimeEnvironmentVariables): not the token, which reaches an action only
// through an input or the step's env.
var githubVariables = []string{
	"action", "action_ref", "action_repository", "actor", "actor_id", "api_url", "base_ref",
	"event_name", "event_path", "graphql_url", "head_ref", "job", "ref", "ref_name",
	"ref_protected", "ref_type", "repository", "repository_id", "repository_owner",
	"repository_owner_id", "retention_days", "run_attempt", "run_id", "run_number", "server_url",
	"sha", "triggering_actor", "workflow", "workflow_ref", "workflow_sha", "workspace",
}

// eventPayload is GITHUB_EVENT_PATH's content for the world's event, with the fields of
// GitHub's webhook payloads that an action reads.
func eventPayload(seed world.Seed, c map[string]string) ([]byte, error) {
	owner, name, _ := strings.Cut(seed.Repository, "/")
	repo := map[string]any{
		"id": seed.RepositoryID, "name": name, "full_name": seed.Repository, "fork": false,
		"default_branch": seed.BaseRef, "owner": map[string]any{"login": owner, "id": seed.OwnerID},
		"html_url": c["server_url"] + "/" + seed.Repository,
	}
	sender := map[string]any{"login": actor, "id": actorID, "type": "User"}
	var payload map[string]any
	switch seed.Event {
	case "pull_request":
		head := map[string]any{"full_name": seed.Repository, "fork": false}
		if seed.Fork {
			// The world's fork belongs to "contributor" (docs/testworld.md).
			head = map[string]any{"full_name": "contributor/" + name, "fork": true}
		}
		payload = map[string]any{
			"action": "synchronize", "number": seed.PullRequest,
			"pull_request": map[string]any{
				"number": seed.PullRequest, "state": "open",
				"html_url": fmt.Sprintf("%s/%s/pull/%d", c["server_url"], seed.Repository, seed.PullRequest),
				"head":     map[string]any{"ref": seed.HeadRef, "sha": seed.HeadSHA, "repo": head},
				"base":     map[string]any{"ref": seed.BaseRef, "sha": seed.BaseSHA, "repo": repo},
			},
		}
	case "push":
		payload = map[string]any{
			"ref": c["ref"], "before": strings.Repeat("0", 40), "after": seed.SHA,
			"head_commit": map[string]any{"id": seed.SHA},
		}
	default: // workflow_dispatch
		payload = map[string]any{"ref": c["ref"], "inputs": map[string]any{}, "workflow": ".github/workflows/" + workflowName + ".yml"}
	}
	payload["repository"], payload["sender"] = repo, sender
	return json.MarshalIndent(payload, "", "  ")
}
