package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/report"
)

// perPage is the largest page GitHub serves ("Using pagination in the REST
// API": per_page at most 100), to list a long conversation in few calls.
const perPage = 100

// upsertComment writes the runnable's sticky comment: the one comment on
// the pull request that starts with the runnable's marker and was written
// by sear's identity, updated in place; created when there is none. It
// returns the comment's URL.
func (rp *Reporter) upsertComment(ctx context.Context, r report.Run) (string, error) {
	// Redacted first: the marker findSticky looks for is the one the
	// comment's body starts with, made from the redacted runnable.
	r = r.Redacted()
	body := report.Comment(r)
	ours, err := rp.findSticky(ctx, r.Runnable)
	if err != nil {
		if rp.forbidden(commentsWrite, fmt.Sprintf("read the comments of pull request #%d", rp.opts.PullRequest), err) {
			return "", nil
		}
		return "", err
	}
	if len(ours) == 0 {
		return rp.createComment(ctx, body)
	}
	url, err := rp.editComment(ctx, ours[0], body)
	// More than one means two runs raced to create it, or an older sear
	// duplicated it; the extra ones are sear's own, and would otherwise
	// show stale results forever.
	for _, extra := range ours[1:] {
		err = errors.Join(err, rp.deleteComment(ctx, extra))
	}
	return url, err
}

// findSticky lists every comment on the pull request, all pages, and
// returns the ids of sear's comments for the runnable, oldest first (the
// order GitHub lists them in).
func (rp *Reporter) findSticky(ctx context.Context, runnable string) ([]int64, error) {
	marker := report.Marker(runnable)
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: perPage}}
	var ours []int64
	for {
		var page []*gh.IssueComment
		var resp *gh.Response
		err := rp.call(ctx, fmt.Sprintf("list the comments of pull request #%d", rp.opts.PullRequest), true, func() (_ *gh.Response, err error) {
			page, resp, err = rp.client.Issues.ListComments(ctx, rp.opts.Owner, rp.opts.Repo, rp.opts.PullRequest, opts)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if rp.isSticky(c, marker) {
				ours = append(ours, c.GetID())
			}
		}
		if resp.NextPage == 0 {
			return ours, nil
		}
		opts.Page = resp.NextPage
	}
}

// Identify learns whose comments are sear's when the token is a person's
// (a personal access token as github-token): GET /user names them. An
// app's token, such as a workflow's GITHUB_TOKEN, is refused there (an app
// is no user); its identity is learned from the check run Start creates
// instead, so any failure leaves Login as it is.
func (rp *Reporter) Identify(ctx context.Context) {
	if rp.opts.Login != "" {
		return
	}
	u, _, err := rp.client.Users.Get(ctx, "")
	if err == nil && u.GetType() == "User" && u.GetLogin() != "" {
		rp.opts.Login = u.GetLogin()
	}
}

// isSticky: the marker alone is not enough, since anyone can paste it into
// a comment; the author must be sear's own identity too, not merely some
// bot, or sear would overwrite (or delete as a duplicate) a person's words
// or another app's comment.
func (rp *Reporter) isSticky(c *gh.IssueComment, marker string) bool {
	body := c.GetBody()
	if body != marker && !strings.HasPrefix(body, marker+"\n") && !strings.HasPrefix(body, marker+"\r\n") {
		return false
	}
	return rp.ownComment(c)
}

func (rp *Reporter) createComment(ctx context.Context, body string) (string, error) {
	what := fmt.Sprintf("comment on pull request #%d", rp.opts.PullRequest)
	var c *gh.IssueComment
	// Not repeated on a server error: GitHub may have created it anyway,
	// and a second one is exactly what a sticky comment must not become.
	err := rp.call(ctx, what, false, func() (resp *gh.Response, err error) {
		c, resp, err = rp.client.Issues.CreateComment(ctx, rp.opts.Owner, rp.opts.Repo, rp.opts.PullRequest, &gh.IssueComment{Body: &body})
		return resp, err
	})
	return rp.commentURL(what, c, err)
}

func (rp *Reporter) editComment(ctx context.Context, id int64, body string) (string, error) {
	what := fmt.Sprintf("update sear's comment on pull request #%d", rp.opts.PullRequest)
	var c *gh.IssueComment
	err := rp.call(ctx, what, true, func() (resp *gh.Response, err error) {
		c, resp, err = rp.client.Issues.EditComment(ctx, rp.opts.Owner, rp.opts.Repo, id, &gh.IssueComment{Body: &body})
		return resp, err
	})
	return rp.commentURL(what, c, err)
}

// commentURL is the link to comment c that a create or an edit wrote, or
// its error; "" and no error when the token may not write comments, which
// forbidden has warned about.
func (rp *Reporter) commentURL(what string, c *gh.IssueComment, err error) (string, error) {
	if err != nil {
		if rp.forbidden(commentsWrite, what, err) {
			return "", nil
		}
		return "", err
	}
	return c.GetHTMLURL(), nil
}

// deleteComment removes a duplicate; one already gone is deleted.
func (rp *Reporter) deleteComment(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete a duplicate of sear's comment on pull request #%d", rp.opts.PullRequest)
	err := rp.call(ctx, what, true, func() (*gh.Response, error) {
		return rp.client.Issues.DeleteComment(ctx, rp.opts.Owner, rp.opts.Repo, id)
	})
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
		return nil
	}
	if err != nil && rp.forbidden(commentsWrite, what, err) {
		return nil
	}
	return err
}
