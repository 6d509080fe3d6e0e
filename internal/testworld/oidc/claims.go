package oidc

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// RunClaims describes the workflow run a request token belongs to: everything GitHub puts in
// the ID tokens that run asks for. Values are strings, as in GitHub's tokens (IDs included).
type RunClaims struct {
	Repository        string // OWNER/REPO
	RepositoryOwner   string
	RepositoryID      string
	RepositoryOwnerID string
	Ref               string // refs/heads/main, refs/pull/7/merge, refs/tags/v1
	SHA               string
	EventName         string // pull_request, push, workflow_dispatch, ...
	Workflow          string // the workflow's name
	WorkflowPath      string // .github/workflows/FILE.yml, for job_workflow_ref
	RunID             string
	Actor             string
	Environment       string // the job's environment, if it names one
	HeadRef           string // pull requests only
	BaseRef           string // pull requests only
	// ImmutableSub selects the subject format with owner and repository IDs, the default for
	// repositories created after July 15, 2026 and an opt-in for older ones.
	ImmutableSub bool
}

// Subject is the default sub claim of the run, assembled as "OpenID Connect reference",
// "Example subject claims" says: the environment when the job names one, else pull_request for
// a pull request event, else the ref. With ImmutableSub the repo part carries the IDs
// ("Immutable subject claims": repo:OWNER@OWNER-ID/REPO@REPO-ID:...). Any ":" in a value
// becomes "%3A" ("Filtering for metadata containing :").
func (r RunClaims) Subject() string {
	return "repo:" + r.subjectRepo() + ":" + r.subjectContext()
}

func (r RunClaims) subjectRepo() string {
	if !r.ImmutableSub {
		return r.Repository
	}
	name := strings.TrimPrefix(r.Repository, r.RepositoryOwner+"/")
	return fmt.Sprintf("%s@%s/%s@%s", r.RepositoryOwner, r.RepositoryOwnerID, name, r.RepositoryID)
}

func (r RunClaims) subjectContext() string {
	escape := strings.NewReplacer(":", "%3A").Replace
	switch {
	case r.Environment != "":
		return "environment:" + escape(r.Environment)
	case r.EventName == "pull_request":
		return "pull_request"
	default:
		return "ref:" + escape(r.Ref)
	}
}

// defaultAudience is the aud of a token requested without an audience: "the URL of the
// repository owner" ("OpenID Connect reference", aud claim).
func (r RunClaims) defaultAudience() string {
	return "https://github.com/" + r.RepositoryOwner
}

// refType is the ref_type claim ("The type of ref, for example: branch").
func (r RunClaims) refType() string {
	switch {
	case strings.HasPrefix(r.Ref, "refs/heads/"):
		return "branch"
	case strings.HasPrefix(r.Ref, "refs/tags/"):
		return "tag"
	}
	return ""
}

// claims is the token payload for this run, with the claim names GitHub uses ("OpenID Connect
// reference", custom claims) and the time window GitHub's example tokens show.
func (r RunClaims) claims(iss, aud string, now time.Time, lifetime time.Duration) map[string]any {
	if aud == "" {
		aud = r.defaultAudience()
	}
	workflowRef := r.Repository + "/" + r.WorkflowPath + "@" + r.Ref
	c := map[string]any{
		"iss": iss, "aud": aud, "sub": r.Subject(), "jti": newJTI(),
		"iat": now.Unix(), "nbf": now.Add(-notBeforeLead).Unix(), "exp": now.Add(lifetime).Unix(),
		"repository": r.Repository, "repository_owner": r.RepositoryOwner,
		"repository_id": r.RepositoryID, "repository_owner_id": r.RepositoryOwnerID,
		"ref": r.Ref, "sha": r.SHA, "event_name": r.EventName, "workflow": r.Workflow,
		"workflow_ref": workflowRef, "job_workflow_ref": workflowRef,
		"run_id": r.RunID, "run_number": "1", "run_attempt": "1", "actor": r.Actor,
		"head_ref": r.HeadRef, "base_ref": r.BaseRef, "runner_environment": "github-hosted",
	}
	if t := r.refType(); t != "" {
		c["ref_type"] = t
	}
	if r.Environment != "" {
		c["environment"] = r.Environment
	}
	return c
}

// newJTI is a random UUID (version 4), the form of GitHub's jti claim in its docs' example.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
