package oidc

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
)

// Repo names a repository both ways GitHub identifies it: by names, which can be recycled, and by
// numeric IDs, which cannot ("Immutable subject claims").
type Repo struct {
	Owner   string
	Name    string
	OwnerID string
	ID      string
}

// PullRequest is a run triggered by pull_request for PR number from head into base: GitHub
// checks out refs/pull/N/merge and the token's sub ends in ":pull_request".
func (r Repo) PullRequest(number int, head, base string) RunClaims {
	c := r.run("pull_request", fmt.Sprintf("refs/pull/%d/merge", number))
	c.HeadRef, c.BaseRef = head, base
	return c
}

// Push is a run triggered by a push to branch; the token's sub ends in ":ref:refs/heads/BRANCH".
func (r Repo) Push(branch string) RunClaims {
	return r.run("push", "refs/heads/"+branch)
}

// Dispatch is a manual workflow_dispatch run on branch; its sub is the ref form, like a push.
func (r Repo) Dispatch(branch string) RunClaims {
	return r.run("workflow_dispatch", "refs/heads/"+branch)
}

func (r Repo) run(event, ref string) RunClaims {
	full := r.Owner + "/" + r.Name
	sum := sha1.Sum([]byte(full + ref))
	return RunClaims{
		Repository:        full,
		RepositoryOwner:   r.Owner,
		RepositoryID:      r.ID,
		RepositoryOwnerID: r.OwnerID,
		Ref:               ref,
		SHA:               hex.EncodeToString(sum[:]),
		EventName:         event,
		Workflow:          "sear",
		WorkflowPath:      ".github/workflows/sear.yml",
		RunID:             "4242",
		Actor:             "octocat",
	}
}
