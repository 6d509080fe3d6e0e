package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/report"
)

// Finish completes the check run with the run's conclusion and its
// annotations, then writes the sticky comment on the pull request. It
// returns the run with the check run's and the comment's links and the
// reporter's warnings added, ready for the step summary and the action's
// outputs. Whatever fails, it tries the rest: the check run must not stay
// pending because the comment failed, nor the other way round. Errors are
// also added to the returned run's warnings, so the step summary says what
// did not reach GitHub.
func (rp *Reporter) Finish(ctx context.Context, r report.Run) (report.Run, error) {
	var errs []error
	if err := rp.complete(ctx, r); err != nil {
		errs = append(errs, err)
	}
	if rp.checkURL != "" {
		r.Links.CheckRun = rp.checkURL
	}
	if rp.opts.PullRequest != 0 && !rp.denied[commentsWrite] {
		// The comment tells the reviewer too what did not reach GitHub so
		// far, such as a check run refused for lack of a permission.
		url, err := rp.upsertComment(ctx, rp.withWarnings(r))
		if err != nil {
			errs = append(errs, err)
		}
		r.Links.Comment = url
	}
	r = rp.withWarnings(r)
	for _, err := range errs {
		r.Warnings = append(r.Warnings, "sear could not post the whole report to GitHub: "+err.Error())
	}
	return r, errors.Join(errs...)
}

// withWarnings is r with the reporter's warnings after its own.
func (rp *Reporter) withWarnings(r report.Run) report.Run {
	r.Warnings = append(append([]string(nil), r.Warnings...), rp.Warnings()...)
	return r
}

// BaseRun finds the run to compare with: the latest completed sear check
// run of the same name on the pull request's base commit, written by
// sear's own app, whose output carries its metrics in a hidden block. It
// returns nil without an error when there is none: the base branch may
// never have run sear, or ran before sear recorded metrics. Call it after
// Start, which learns sear's app; before, the app is taken to be GitHub
// Actions, the default github-token's.
func (rp *Reporter) BaseRun(ctx context.Context, runnable string) (*report.Baseline, error) {
	if rp.person() {
		// Only apps create check runs, so none on the base is sear's.
		return nil, nil
	}
	sha, err := rp.baseSHA(ctx)
	if err != nil || sha == "" {
		return nil, err
	}
	opts := &gh.ListCheckRunsOptions{
		CheckName: gh.String(runnable), Status: gh.String("completed"), Filter: gh.String("all"),
		ListOptions: gh.ListOptions{PerPage: perPage},
	}
	var best *gh.CheckRun
	var bestRec report.Recorded
	what := fmt.Sprintf("list the check runs of base commit %.7s", sha)
	for {
		var res *gh.ListCheckRunsResults
		var resp *gh.Response
		err := rp.call(ctx, what, true, func() (_ *gh.Response, err error) {
			res, resp, err = rp.client.Checks.ListCheckRunsForRef(ctx, rp.opts.Owner, rp.opts.Repo, sha, opts)
			return resp, err
		})
		if err != nil {
			return nil, rp.baseError(what, err)
		}
		for _, cr := range res.CheckRuns {
			// Another app's run of the same name, with metrics better or
			// worse, is not sear's baseline whatever its summary says.
			if !rp.ownCheckRun(cr) {
				continue
			}
			rec, perr := report.ParseBlock(cr.GetOutput().GetSummary())
			if perr == nil && newer(cr, best) {
				best, bestRec = cr, rec
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if best == nil {
		return nil, nil
	}
	if bestRec.Commit == "" {
		bestRec.Commit = sha
	}
	return bestRec.Baseline(best.GetHTMLURL()), nil
}

// newer orders completed check runs by completion, then by id, which
// GitHub hands out in creation order.
func newer(a, b *gh.CheckRun) bool {
	if b == nil {
		return true
	}
	ta, tb := a.GetCompletedAt().Time, b.GetCompletedAt().Time
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return a.GetID() > b.GetID()
}

// baseSHA is Options.BaseSHA, or the pull request's base commit.
func (rp *Reporter) baseSHA(ctx context.Context) (string, error) {
	if rp.opts.BaseSHA != "" || rp.opts.PullRequest == 0 {
		return rp.opts.BaseSHA, nil
	}
	what := fmt.Sprintf("read pull request #%d", rp.opts.PullRequest)
	var pr *gh.PullRequest
	err := rp.call(ctx, what, true, func() (resp *gh.Response, err error) {
		pr, resp, err = rp.client.PullRequests.Get(ctx, rp.opts.Owner, rp.opts.Repo, rp.opts.PullRequest)
		return resp, err
	})
	if err != nil {
		return "", rp.baseError(what, err)
	}
	return pr.GetBase().GetSHA(), nil
}

// baseError: without a base run the report simply shows no deltas, so a
// refusal to read is a warning, and an unknown commit is no base at all.
func (rp *Reporter) baseError(what string, err error) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusForbidden:
			rp.warn(fmt.Sprintf("sear could not %s to compare metrics with the base branch: GitHub answered 403 %q; "+
				"give the workflow job `checks: read` and `pull-requests: read` under `permissions:`.", what, er.Message))
			return nil
		case http.StatusNotFound, http.StatusUnprocessableEntity:
			return nil
		}
	}
	return err
}
