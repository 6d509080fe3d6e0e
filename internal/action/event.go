package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Event is what triggered the workflow, as far as sear cares.
type Event struct {
	// Name is GITHUB_EVENT_NAME.
	Name string
	// Owner and Repo name the repository the workflow runs in.
	Owner, Repo string
	// HeadSHA is the commit the run is about: the pull request's head (a
	// pull_request run's GITHUB_SHA is a merge commit, and a check run on
	// it does not show on the pull request), else GITHUB_SHA.
	HeadSHA string
	// PullRequest is the pull request's number, 0 for other events.
	PullRequest int
	BaseSHA     string
	// Fork says the pull request's head lives in another repository.
	Fork bool
	// HeadRepo is that repository, "" when it was deleted.
	HeadRepo string
}

// The events sear runs on. A pull_request_target run carries the base
// repository's secrets even for a fork, which is exactly why forks are
// refused there too unless the workflow opts in. On a schedule, sear runs
// the runnable (a nightly benchmark) or, with `sweep: expired`, sweeps.
var supported = map[string]bool{
	"pull_request": true, "pull_request_target": true, "workflow_dispatch": true, "push": true, "schedule": true,
}

// pullRequestEvent is the part of a pull_request webhook payload sear reads.
type pullRequestEvent struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			SHA string `json:"sha"`
		} `json:"base"`
	} `json:"pull_request"`
}

// ReadEvent reads the event the runner names (GITHUB_EVENT_NAME) and,
// for a pull request, its payload (GITHUB_EVENT_PATH).
func ReadEvent(r Runner) (Event, error) {
	e := Event{Name: r.EventName, HeadSHA: r.SHA}
	repo := r.Repository
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" {
		return e, fmt.Errorf("GITHUB_REPOSITORY is %q, not OWNER/REPO: is this a GitHub Actions runner?", repo)
	}
	e.Owner, e.Repo = owner, name
	if !supported[e.Name] {
		return e, fmt.Errorf("sear does not run on the %q event: trigger the workflow on pull_request, pull_request_target, workflow_dispatch or push (or schedule, for a nightly run or, with `sweep: expired`, a sweep)", e.Name)
	}
	if e.Name != "pull_request" && e.Name != "pull_request_target" {
		return e, nil
	}
	p := r.EventPath
	data, err := os.ReadFile(p)
	if err != nil {
		return e, fmt.Errorf("read the %s event payload (GITHUB_EVENT_PATH): %w", e.Name, err)
	}
	var ev pullRequestEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return e, fmt.Errorf("read the %s event payload %s: %w", e.Name, p, err)
	}
	pr := ev.PullRequest
	if pr == nil || pr.Head.SHA == "" {
		return e, errors.New("the " + e.Name + " event payload has no pull_request.head.sha")
	}
	e.PullRequest = pr.Number
	if e.PullRequest == 0 {
		e.PullRequest = ev.Number
	}
	e.HeadSHA, e.BaseSHA = pr.Head.SHA, pr.Base.SHA
	if pr.Head.Repo != nil {
		e.HeadRepo = pr.Head.Repo.FullName
	}
	// A head repository that no longer exists is treated as a fork: sear
	// cannot show it is not one.
	e.Fork = !strings.EqualFold(e.HeadRepo, repo)
	return e, nil
}
