// Package github posts a sear run's report to GitHub with go-github: a check
// run created in progress at the start and completed at the end, with the
// configuration errors as annotations; one sticky comment per runnable per
// pull request, updated in place; and the metrics of the base commit's run
// read back for comparison.
//
// Reporting never stops a run. A 403 (a fork pull request's read-only
// token, a workflow without `checks: write` or `pull-requests: write`)
// becomes a warning that names the permission to add; the step summary,
// which needs no permission, still carries the whole report.
package github

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Options say where and how to report.
type Options struct {
	// Owner and Repo name the repository ("acme", "nlp").
	Owner, Repo string
	// HeadSHA is the commit the check run is attached to: the pull
	// request's head (pull_request.head.sha in the event; GITHUB_SHA of a
	// pull_request event is the merge commit, and a check run there does
	// not show on the pull request), or the pushed commit.
	HeadSHA string
	// PullRequest is the pull request's number; 0 when the run is not for
	// one (a push, a manual dispatch): then no comment is posted.
	PullRequest int
	// BaseSHA is the pull request's base commit (pull_request.base.sha),
	// whose sear run the metrics are compared with; when empty it is read
	// from the pull request.
	BaseSHA string
	// Fork says the pull request comes from a fork, which changes what a
	// 403 means: GitHub gives such runs a read-only token.
	Fork bool
	// DetailsURL is the workflow run's page, linked from the check run.
	DetailsURL string
	// Login is the login of the token's identity when it is a person's (a
	// personal access token's user; Identify fills it in): sear's comments
	// are that user's, and no check run is sear's, since only apps may
	// create them. Empty means an app's token: sear's comments are its bot
	// account's and its check runs the app's, the app being learned from
	// the check run Start creates, and GitHub Actions (what a workflow's
	// GITHUB_TOKEN acts as, github-actions[bot]) until then. An app's bot
	// login ("my-app[bot]") may be given too, for an app's token with no
	// check run to learn from. See identity.go.
	Login string
	// NoCheck posts no check run: only the comment (the action's report
	// input without "check").
	NoCheck bool
	// MaxAttempts bounds the tries of one API call through rate limits and
	// server errors; 4 when zero.
	MaxAttempts int
	// MaxWait bounds one wait for a rate limit to lift; past it the call
	// fails at once rather than hold the run. 2 minutes when zero.
	MaxWait time.Duration
}

// Reporter posts one run's report. Its methods are safe to call from one
// goroutine at a time; Warnings may be read at any time.
type Reporter struct {
	client *gh.Client
	opts   Options

	checkID  int64
	checkURL string
	// self is the app sear's token acts as, learned from the check run it
	// created; nil until then.
	self *app
	// denied remembers the kinds of write GitHub refused with 403, so that
	// one missing permission makes one warning, not one per phase.
	denied map[string]bool

	mu       sync.Mutex
	warnings []string
}

// New returns a Reporter that posts with client, whose BaseURL and token
// decide where to and as whom.
func New(client *gh.Client, opts Options) *Reporter {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 2 * time.Minute
	}
	return &Reporter{client: client, opts: opts, denied: map[string]bool{}}
}

// CheckRunURL is the check run's page on GitHub, "" before it exists.
func (rp *Reporter) CheckRunURL() string { return rp.checkURL }

// Warnings are what could not be posted and why, for the log and the step
// summary.
func (rp *Reporter) Warnings() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]string(nil), rp.warnings...)
}

func (rp *Reporter) warn(s string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.warnings = append(rp.warnings, s)
}

// kinds of write, each needing its own permission.
const (
	checksWrite   = "checks"
	commentsWrite = "comments"
)

// permissionFor names what a workflow's `permissions:` key must grant for
// a kind of write.
var permissionFor = map[string]string{
	checksWrite:   "checks: write",
	commentsWrite: "pull-requests: write",
}

// forbidden turns a 403 into a warning and reports whether it did. GitHub
// says which permission the endpoint needs in X-Accepted-GitHub-Permissions
// ("checks=write", "issues=write; pull_requests=write"); sear names the one
// a workflow would add, falling back on what it knows each write needs.
func (rp *Reporter) forbidden(kind, doing string, err error) bool {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != 403 {
		return false
	}
	if rp.denied[kind] {
		return true
	}
	rp.denied[kind] = true
	perm := permissionFor[kind]
	if h := er.Response.Header.Get("X-Accepted-GitHub-Permissions"); h != "" {
		perm = acceptedPermission(h, perm)
	}
	msg := fmt.Sprintf("sear could not %s: GitHub answered 403 %q. ", doing, er.Message)
	switch {
	case strings.Contains(er.Message, "authenticate via a GitHub App"):
		// No permission helps: the token is a person's, and only apps may
		// write check runs.
		msg += "Only a GitHub App's token can create check runs, and github-token is a person's (a personal access token): " +
			"give the workflow's GITHUB_TOKEN or an app's installation token, or leave `check` out of the report input; " +
			"until then the results are in the step summary."
	case rp.opts.Fork:
		msg += "This pull request comes from a fork, and GitHub gives a fork's workflow run a read-only token " +
			"whatever its `permissions:` say; the results are in the step summary of the workflow run."
	default:
		msg += fmt.Sprintf("Give the workflow job `%s` under `permissions:`; until then the results are in the step summary.", perm)
	}
	rp.warn(msg)
	return true
}

// acceptedPermission is the permission a workflow file would add, from
// X-Accepted-GitHub-Permissions: the fallback when the header offers its
// scope, else the header's first scope, in the workflow's spelling
// ("pull_requests" is "pull-requests"). The level is always write, even
// when a read was refused: sear reads those scopes in order to write them.
func acceptedPermission(header, fallback string) string {
	want, _, _ := strings.Cut(fallback, ":")
	first := ""
	for _, alt := range strings.Split(header, ";") {
		scope, _, ok := strings.Cut(strings.TrimSpace(alt), "=")
		if !ok {
			continue
		}
		scope = strings.ReplaceAll(scope, "_", "-")
		if scope == want {
			return fallback
		}
		if first == "" {
			first = scope + ": write"
		}
	}
	if first == "" {
		return fallback
	}
	return first
}
