package world

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/sear-ci/sear/internal/testworld/fakegithub"
	"github.com/sear-ci/sear/internal/testworld/oidc"
	"github.com/sear-ci/sear/internal/testworld/sts"
)

// RoleARN is the role every world has; it trusts the world's repository.
const RoleARN = "arn:aws:iam::123456789012:role/sear-test"

// Seeded identities. The bot is the identity GITHUB_TOKEN acts as on GitHub.
const (
	pullRequestNumber = 7
	headRef, baseRef  = "feature/sear-test", "main"
	botLogin          = "github-actions[bot]"
	botUserID         = 41898282 // github-actions[bot]'s user id on github.com
)

// Seed is what a world was seeded with: the repository, its pull request, the role that trusts it,
// and the job's tokens.
type Seed struct {
	Repository            string // owner/name
	OwnerID, RepositoryID int64
	Event                 string
	Fork                  bool
	RoleARN               string
	PullRequest           int
	HeadSHA, BaseSHA      string
	HeadRef, BaseRef      string
	// SHA is the commit the job runs on (the token's sha claim): refs/pull/N/merge's commit for a
	// pull request, the branch's head otherwise. Check runs may be created on it too.
	SHA string
	// Subject is the sub claim of the job's ID tokens.
	Subject string
	// GitHubToken is the job's emulated GITHUB_TOKEN.
	GitHubToken string
	// RequestToken is the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN; empty for a fork's pull request.
	RequestToken string
	// StaticCredentials is the long-lived key EC2 also accepts, if any.
	StaticCredentials *StaticCredentials
}

// plant seeds every emulator for one job of the world's repository.
func (w *World) plant() Seed {
	owner, name, _ := splitRepository(w.opts.Repository) // withDefaults checked it
	repo := oidc.Repo{Owner: owner, Name: name, OwnerID: fmt.Sprint(numericID(owner)), ID: fmt.Sprint(numericID(w.opts.Repository))}
	s := Seed{
		Repository: w.opts.Repository, OwnerID: numericID(owner), RepositoryID: numericID(w.opts.Repository),
		Event: w.opts.Event, Fork: w.opts.Fork, RoleARN: RoleARN, PullRequest: pullRequestNumber,
		HeadSHA: fakeSHA("head", w.opts.Repository), BaseSHA: fakeSHA("base", w.opts.Repository),
		HeadRef: headRef, BaseRef: baseRef, StaticCredentials: w.opts.StaticCredentials,
	}
	run := runClaims(repo, w.opts.Event, s)
	run.ImmutableSub = w.opts.ImmutableSub
	s.SHA, s.Subject = run.SHA, run.Subject()
	w.plantAWS(repo)
	s.GitHubToken = w.plantGitHub(owner, name, s)
	if !w.opts.Fork {
		// A run for a fork's pull request gets no id-token permission, so the runner does not
		// set ACTIONS_ID_TOKEN_REQUEST_* at all (codecov/codecov-action#1435: "Unable to get
		// ACTIONS_ID_TOKEN_REQUEST_URL env variable"; JuliaCloud/AWS.jl#634).
		s.RequestToken = w.issuer.NewRequestToken(run)
	}
	return s
}

// runClaims are the claims of the world's job for its event.
func runClaims(repo oidc.Repo, event string, s Seed) oidc.RunClaims {
	switch event {
	case "push":
		return repo.Push(baseRef)
	case "workflow_dispatch":
		return repo.Dispatch(baseRef)
	}
	return repo.PullRequest(s.PullRequest, s.HeadRef, s.BaseRef)
}

// plantAWS adds the role, written as GitHub's guide for AWS writes its trust policy: the
// audience sts.amazonaws.com and the repository in both sub formats, so a job whose token uses
// the immutable form (repo:OWNER@ID/NAME@ID:...) is trusted as much as one using names.
func (w *World) plantAWS(repo oidc.Repo) {
	w.sts.AddRole(sts.Role{ARN: RoleARN, Trust: sts.Trust{
		Audience: sts.DefaultClientID,
		SubPatterns: []string{
			"repo:" + repo.Owner + "/" + repo.Name + ":*",
			"repo:" + repo.Owner + "@" + repo.OwnerID + "/" + repo.Name + "@" + repo.ID + ":*",
		},
	}})
	if w.opts.CredentialLifetime > 0 {
		w.sts.SetCredentialLifetime(w.opts.CredentialLifetime)
	}
	if c := w.opts.StaticCredentials; c != nil {
		w.sts.AddStatic(c.AccessKeyID, c.SecretAccessKey)
	}
}

// plantGitHub adds the repository, its pull request, the job's commit and its GITHUB_TOKEN,
// scoped to the repository and read-only for a fork's pull request, as GitHub scopes it.
func (w *World) plantGitHub(owner, name string, s Seed) string {
	w.github.AddRepo(owner, name, s.RepositoryID)
	w.github.AddPullRequest(owner, name, s.PullRequest, s.HeadSHA, s.BaseSHA, s.HeadRef, s.BaseRef, s.Fork)
	w.github.AddCommit(owner, name, s.SHA)
	tok := "ghs_" + randomToken()
	w.github.AddToken(tok, fakegithub.Token{Login: botLogin, UserID: botUserID, Repo: s.Repository, ReadOnly: s.Fork})
	return tok
}

// splitRepository splits "owner/name".
func splitRepository(full string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q: expected owner/name, like %s", full, DefaultRepository)
	}
	return owner, name, nil
}

// numericID is a stable numeric id for a name, in the range of GitHub's current ids, so the same
// repository gets the same immutable sub claim in every world.
func numericID(name string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(name))) // hash writes never fail
	return 100_000_000 + int64(h.Sum32()%900_000_000)
}

// fakeSHA is a stable commit SHA for a role ("head", "base") in a repository.
func fakeSHA(role, repository string) string {
	sum := sha1.Sum([]byte(role + ":" + repository))
	return hex.EncodeToString(sum[:])
}

// randomToken is 36 random characters, the length of the part after ghs_ in a GITHUB_TOKEN.
func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))[:36]
}
