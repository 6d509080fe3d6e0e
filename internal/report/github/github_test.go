package github

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/testworld/fakegithub"
)

// postBaseRun reports a run on the base branch (a push to main), which
// later pull-request runs compare with.
func postBaseRun(t *testing.T, w *world, accuracy float64) {
	t.Helper()
	rp := w.reporter(t, writer, Options{HeadSHA: baseSHA})
	r := sampleRun(baseSHA, accuracy, 2.4, 1.3, 0.41)
	if err := rp.Start(ctx(t), running(r)); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.Finish(ctx(t), r); err != nil {
		t.Fatal(err)
	}
}

// prRun is one run of the runnable on pull request #7, start to finish.
func prRun(t *testing.T, w *world, accuracy float64) report.Run {
	t.Helper()
	rp := w.reporter(t, writer, Options{HeadSHA: headSHA, PullRequest: prNumber, DetailsURL: "https://github.com/acme/nlp/actions/runs/1"})
	base, err := rp.BaseRun(ctx(t), runnable)
	if err != nil {
		t.Fatal(err)
	}
	r := sampleRun(headSHA, accuracy, 2.3, 1.2, 0.39)
	r.Base = base
	if err := rp.Start(ctx(t), running(r)); err != nil {
		t.Fatal(err)
	}
	if err := rp.Progress(ctx(t), running(r)); err != nil {
		t.Fatal(err)
	}
	out, err := rp.Finish(ctx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Warnings) > 0 {
		t.Fatalf("a run with a full token warned: %q", out.Warnings)
	}
	return out
}

// TestTwoRunsOnOnePullRequest: two runs leave one comment, updated in
// place, two completed check runs, and each shows its change against the
// base branch's run.
func TestTwoRunsOnOnePullRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	postBaseRun(t, w, 0.9011)
	first := prRun(t, w, 0.8800)
	second := prRun(t, w, 0.9127)

	st := w.repo(t)
	if len(st.Comments) != 1 {
		t.Fatalf("%d comments on the pull request, want exactly 1", len(st.Comments))
	}
	c := st.Comments[0]
	if c.Author != botLogin || !strings.HasPrefix(c.Body, report.Marker(runnable)+"\n") || c.Issue != prNumber {
		t.Fatalf("the comment is by %s on #%d and starts %.60q", c.Author, c.Issue, c.Body)
	}
	if first.Links.Comment == "" || first.Links.Comment != second.Links.Comment {
		t.Errorf("comment links %q then %q: the second run did not update the first's comment", first.Links.Comment, second.Links.Comment)
	}
	if !strings.Contains(c.Body, "| `accuracy` | 0.9127 | 0.9011 | +0.0116 (+1.3%) |") {
		t.Errorf("the updated comment lacks the delta against the base run:\n%s", c.Body)
	}
	if !strings.Contains(c.Body, "[check run](<"+second.Links.CheckRun+">)") {
		t.Errorf("the comment does not link its check run %s", second.Links.CheckRun)
	}

	var onHead, onBase int
	for _, cr := range st.CheckRuns {
		if cr.Name != runnable || cr.Status != "completed" || cr.Conclusion != "success" {
			t.Errorf("check run %d: %s %s/%s", cr.ID, cr.Name, cr.Status, cr.Conclusion)
		}
		switch cr.HeadSHA {
		case headSHA:
			onHead++
			if !strings.Contains(*cr.Summary, "0.9011") {
				t.Errorf("check run %d's summary lacks the base value", cr.ID)
			}
		case baseSHA:
			onBase++
		}
	}
	if onHead != 2 || onBase != 1 {
		t.Errorf("%d check runs on the head and %d on the base, want 2 and 1", onHead, onBase)
	}
	if first.Links.CheckRun == second.Links.CheckRun || !strings.HasPrefix(second.Links.CheckRun, w.ts.URL+"/acme/nlp/runs/") {
		t.Errorf("check run links %q and %q", first.Links.CheckRun, second.Links.CheckRun)
	}
}

// TestBaseRunIsTheLatestCompleted: of several runs on the base commit the
// newest completed one with metrics counts; one still running does not.
func TestBaseRunIsTheLatestCompleted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	postBaseRun(t, w, 0.70)
	postBaseRun(t, w, 0.80)
	pending := w.reporter(t, writer, Options{HeadSHA: baseSHA})
	if err := pending.Start(ctx(t), running(sampleRun(baseSHA, 0.99))); err != nil {
		t.Fatal(err)
	}
	rp := w.reporter(t, writer, Options{HeadSHA: headSHA, PullRequest: prNumber})
	base, err := rp.BaseRun(ctx(t), runnable)
	if err != nil || base == nil {
		t.Fatalf("BaseRun = %v, %v", base, err)
	}
	if v, _ := base.Metrics["accuracy"].Last(); v != 0.80 || base.Commit != baseSHA || !strings.Contains(base.URL, "/runs/") {
		t.Errorf("base run %+v, want the latest completed one (accuracy 0.8) on %s", base, baseSHA)
	}
	if other, err := rp.BaseRun(ctx(t), "another.yaml"); other != nil || err != nil {
		t.Errorf("a runnable never run on the base: %v, %v; want none", other, err)
	}
	if got := w.rec.matching("GET", "/pulls/7"); len(got) != 2 {
		t.Errorf("the pull request was read %d times, want once per lookup", len(got))
	}
}

// TestStickyFoundPastTheFirstPage: with 150 other comments before it, the
// sticky comment sits on the second page of 100; it is found and updated,
// and a person's comment that quotes the marker is left alone.
func TestStickyFoundPastTheFirstPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.SeedComments(owner, repoName, prNumber, 150, "reviewer")
	w.srv.AddToken("ghp_octocat", fakegithub.Token{Login: "octocat", UserID: 583231})
	quote := report.Marker(runnable) + "\nI copied sear's comment here."
	if _, _, err := w.client(t, "ghp_octocat").Issues.CreateComment(ctx(t), owner, repoName, prNumber, &gh.IssueComment{Body: &quote}); err != nil {
		t.Fatal(err)
	}
	prRun(t, w, 0.5)
	prRun(t, w, 0.6)

	var ours, quoted int
	for _, c := range w.repo(t).Comments {
		switch {
		case c.Author == botLogin:
			ours++
			if !strings.Contains(c.Body, "| `accuracy` | 0.6 |") {
				t.Errorf("sear's comment was not updated by the second run")
			}
		case c.Body == quote:
			quoted++
		}
	}
	if ours != 1 || quoted != 1 {
		t.Fatalf("%d comments by sear (want 1) and %d untouched quotes (want 1)", ours, quoted)
	}
	var pages []string
	for _, q := range w.rec.matching("GET", "/comments") {
		pages = append(pages, q.query)
	}
	if len(pages) != 4 || pages[1] != "page=2&per_page=100" || pages[3] != "page=2&per_page=100" {
		t.Errorf("comment listings %q: want both pages of 100 on each run", pages)
	}
}

// TestConfiguredLogin: with a personal access token sear's comments are a
// person's, found by the login instead of by being a bot's.
func TestConfiguredLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.AddToken("ghp_ci_user", fakegithub.Token{Login: "acme-ci", UserID: 777})
	for range 2 {
		rp := w.reporter(t, "ghp_ci_user", Options{HeadSHA: headSHA, PullRequest: prNumber, Login: "ACME-CI"})
		if _, err := rp.Finish(ctx(t), sampleRun(headSHA, 0.5)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(w.repo(t).Comments); n != 1 {
		t.Fatalf("%d comments after two runs, want 1", n)
	}
}

// TestDuplicateStickiesAreMerged: two sticky comments for one runnable
// (two runs that raced) become one.
func TestDuplicateStickiesAreMerged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client(t, writer)
	for i := range 2 {
		body := fmt.Sprintf("%s\nold result %d", report.Marker(runnable), i)
		if _, _, err := c.Issues.CreateComment(ctx(t), owner, repoName, prNumber, &gh.IssueComment{Body: &body}); err != nil {
			t.Fatal(err)
		}
	}
	out := prRun(t, w, 0.5)
	st := w.repo(t)
	if len(st.Comments) != 1 || !strings.Contains(st.Comments[0].Body, "| `accuracy` | 0.5 |") {
		t.Fatalf("%d comments left, want the oldest one, updated", len(st.Comments))
	}
	if !strings.HasSuffix(out.Links.Comment, fmt.Sprint(st.Comments[0].ID)) {
		t.Errorf("comment link %s is not the surviving comment %d", out.Links.Comment, st.Comments[0].ID)
	}
}

// TestForkTokenWarnsAndTheSummaryHasEverything: a fork's read-only token
// may write nothing; the run completes with warnings naming why, GitHub is
// left unchanged, and the step summary carries the whole report.
func TestForkTokenWarnsAndTheSummaryHasEverything(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	postBaseRun(t, w, 0.9)
	rp := w.reporter(t, forkToken, Options{HeadSHA: forkSHA, PullRequest: forkPR, Fork: true})
	base, err := rp.BaseRun(ctx(t), runnable)
	if err != nil || base == nil {
		t.Fatalf("reads are allowed to a fork's token, yet BaseRun = %v, %v", base, err)
	}
	r := sampleRun(forkSHA, 0.95, 2, 1)
	r.Base = base
	if err := rp.Start(ctx(t), running(r)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := rp.Progress(ctx(t), running(r)); err != nil {
		t.Fatalf("Progress: %v", err)
	}
	out, err := rp.Finish(ctx(t), r)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if len(out.Warnings) != 2 {
		t.Fatalf("warnings %q, want one for the check run and one for the comment", out.Warnings)
	}
	for _, wrn := range out.Warnings {
		if !strings.Contains(wrn, `403 "Resource not accessible by integration"`) || !strings.Contains(wrn, "comes from a fork") {
			t.Errorf("warning %q does not say what happened and why", wrn)
		}
	}
	st := w.repo(t)
	if len(st.Comments) != 0 || len(st.CheckRuns) != 1 {
		t.Errorf("a read-only token left %d comments and %d check runs (the base's is 1)", len(st.Comments), len(st.CheckRuns))
	}
	if n := len(w.rec.matching("POST", "")) + len(w.rec.matching("PATCH", "/check-runs/")); n != 2+2 {
		t.Errorf("%d writes, want the base run's 2 and one refused try each for the check run and the comment", n)
	}
	summary := report.StepSummary(out)
	for _, want := range []string{"succeeded in 9m 00s", "| `accuracy` | 0.95 | 0.9 | +0.05 (+5.6%) |", "#### Curves",
		"#### Cluster and cost", "#### Phases", "Log: all 3 lines", "comes from a fork"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the step summary lacks %q", want)
		}
	}
}

// TestMissingChecksPermission: a job without `checks: write` still gets
// its comment, which says what to add.
func TestMissingChecksPermission(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rp := w.reporter(t, checksRead, Options{HeadSHA: headSHA, PullRequest: prNumber})
	r := sampleRun(headSHA, 0.5)
	if err := rp.Start(ctx(t), running(r)); err != nil {
		t.Fatal(err)
	}
	out, err := rp.Finish(ctx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "Give the workflow job `checks: write` under `permissions:`") {
		t.Fatalf("warnings %q, want one naming `checks: write`", out.Warnings)
	}
	st := w.repo(t)
	if len(st.CheckRuns) != 0 || len(st.Comments) != 1 || !strings.Contains(st.Comments[0].Body, "checks: write") {
		t.Fatalf("%d check runs and %d comments; the comment should carry the warning", len(st.CheckRuns), len(st.Comments))
	}
	if out.Links.Comment == "" || out.Links.CheckRun != "" {
		t.Errorf("links %+v", out.Links)
	}
}

// TestNoPullRequestPermission: a token that may not even read the pull
// request warns for the base lookup, the check run and the comment, and
// fails nothing.
func TestNoPullRequestPermission(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rp := w.reporter(t, nothingRead, Options{HeadSHA: headSHA, PullRequest: prNumber})
	base, err := rp.BaseRun(ctx(t), runnable)
	if base != nil || err != nil {
		t.Fatalf("BaseRun = %v, %v; want none, with a warning", base, err)
	}
	out, err := rp.Finish(ctx(t), sampleRun(headSHA, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(out.Warnings, "\n")
	for _, want := range []string{"`checks: read` and `pull-requests: read`", "`checks: write`", "`pull-requests: write`"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
}

// TestAnnotationsInBatches: 60 configuration errors go out as 50 and 10,
// in two requests, and the check run completes with the second.
func TestAnnotationsInBatches(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := report.Run{Runnable: runnable, Verdict: report.BadConfig, Commit: headSHA, Started: t0, Duration: time.Second}
	for i := range 60 {
		r.ConfigErrors = append(r.ConfigErrors, report.ConfigError{File: "cluster.yaml", Line: i + 1, Column: 3,
			Message: fmt.Sprintf("problem %d", i+1), Source: "  factoriez: 2"})
	}
	rp := w.reporter(t, writer, Options{HeadSHA: headSHA})
	if err := rp.Start(ctx(t), running(r)); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.Finish(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, q := range append(w.rec.matching("POST", "/check-runs"), w.rec.matching("PATCH", "/check-runs/")...) {
		var body struct {
			Output struct {
				Annotations []json.RawMessage `json:"annotations"`
			} `json:"output"`
		}
		if err := json.Unmarshal([]byte(q.body), &body); err != nil {
			t.Fatal(err)
		}
		if n := len(body.Output.Annotations); n > 0 {
			sizes = append(sizes, n)
		}
	}
	if fmt.Sprint(sizes) != "[50 10]" {
		t.Fatalf("annotations went out in requests of %v, want [50 10]", sizes)
	}
	cr := w.repo(t).CheckRuns[0]
	if cr.Status != "completed" || cr.Conclusion != "failure" || cr.AnnotationsCount != 60 {
		t.Fatalf("check run %s/%s with %d annotations", cr.Status, cr.Conclusion, cr.AnnotationsCount)
	}
	a := cr.Annotations[59]
	if a.Path != "cluster.yaml" || a.StartLine != 60 || a.EndLine != 60 || *a.StartColumn != 3 || a.Message != "problem 60" || a.AnnotationLevel != "failure" {
		t.Errorf("annotation 60 is %+v", a)
	}
}

// TestFinishWithoutStart: if the check run could not be created at the
// start, it is created at the end, complete, with all its annotations.
func TestFinishWithoutStart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := report.Run{Runnable: runnable, Verdict: report.BadConfig, Commit: headSHA}
	for i := range 51 {
		r.ConfigErrors = append(r.ConfigErrors, report.ConfigError{File: "x.yaml", Line: i + 1, Message: "bad"})
	}
	rp := w.reporter(t, writer, Options{HeadSHA: headSHA})
	if _, err := rp.Finish(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	st := w.repo(t)
	if len(st.CheckRuns) != 1 || st.CheckRuns[0].Conclusion != "failure" || st.CheckRuns[0].AnnotationsCount != 51 {
		t.Fatalf("check runs %+v", st.CheckRuns)
	}
	if a := st.CheckRuns[0].Annotations[0]; a.StartColumn != nil {
		t.Errorf("an error without a column got one: %+v", a)
	}
}

// TestSecondaryRateLimitIsWaitedOut: GitHub's Retry-After is honoured, on
// a 403 and on a 429, and the call then goes through once.
func TestSecondaryRateLimitIsWaitedOut(t *testing.T) {
	t.Parallel()
	for _, status := range []int{403, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.srv.SetFaults(fakegithub.Faults{SecondaryRateLimited: 1, SecondaryStatus: status, RetryAfter: time.Second})
			rp := w.reporter(t, writer, Options{HeadSHA: headSHA})
			start := time.Now()
			if err := rp.Start(ctx(t), running(sampleRun(headSHA, 0.5))); err != nil {
				t.Fatal(err)
			}
			if waited := time.Since(start); waited < time.Second {
				t.Errorf("retried after %v, before GitHub's Retry-After of 1s", waited)
			}
			if n := len(w.repo(t).CheckRuns); n != 1 {
				t.Errorf("%d check runs, want 1", n)
			}
		})
	}
}

// TestRateLimitLongerThanSearWaits fails the call at once with a message
// that says how long GitHub asked to wait.
func TestRateLimitLongerThanSearWaits(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.SetFaults(fakegithub.Faults{SecondaryRateLimited: 10, RetryAfter: time.Hour})
	rp := w.reporter(t, writer, Options{HeadSHA: headSHA, MaxWait: 2 * time.Second})
	start := time.Now()
	err := rp.Start(ctx(t), running(sampleRun(headSHA, 0.5)))
	if err == nil || !strings.Contains(err.Error(), "GitHub's secondary rate limit for 1h0m0s, longer than sear waits (2s)") {
		t.Fatalf("Start: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v to give up", time.Since(start))
	}

	w.srv.SetFaults(fakegithub.Faults{PrimaryExhausted: true})
	rp = w.reporter(t, writer, Options{HeadSHA: headSHA, MaxWait: 2 * time.Second})
	if err := rp.Start(ctx(t), running(sampleRun(headSHA, 0.5))); err == nil || !strings.Contains(err.Error(), "rate limit for this token is used up") {
		t.Fatalf("Start with the primary limit used up: %v", err)
	}
}

// TestServerErrors: reads are retried through 5xx; a comment is never
// created twice, and a failed comment still leaves the check run complete.
func TestServerErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.SeedComments(owner, repoName, prNumber, 250, "reviewer")
	rp := w.reporter(t, writer, Options{HeadSHA: headSHA, PullRequest: prNumber})
	r := sampleRun(headSHA, 0.5)
	if err := rp.Start(ctx(t), running(r)); err != nil {
		t.Fatal(err)
	}
	w.srv.SetFaults(fakegithub.Faults{ServerErrorShare: 0.5, ServerErrorStatus: 503, Methods: []string{"GET"}})
	if _, err := rp.BaseRun(ctx(t), runnable); err != nil {
		t.Fatalf("BaseRun through 503s: %v", err)
	}
	w.srv.SetFaults(fakegithub.Faults{ServerErrorShare: 1, Methods: []string{"POST"}})
	out, err := rp.Finish(ctx(t), r)
	if err == nil || !strings.Contains(err.Error(), "comment on pull request #7") || !strings.Contains(err.Error(), "502") {
		t.Fatalf("Finish with comments failing: %v", err)
	}
	if !strings.Contains(strings.Join(out.Warnings, "\n"), "could not post the whole report") {
		t.Errorf("the failure is not in the run's warnings: %q", out.Warnings)
	}
	st := w.repo(t)
	if st.CheckRuns[0].Status != "completed" || len(st.Comments) != 250 {
		t.Errorf("check run %s, %d comments (want completed, none added)", st.CheckRuns[0].Status, len(st.Comments))
	}
	if n := len(w.rec.matching("POST", "/issues/7/comments")); n != 1 {
		t.Errorf("the comment was posted %d times through a 502, want 1", n)
	}
}

// TestValidationFailedIsExplained: a 422 says what GitHub refused.
func TestValidationFailedIsExplained(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rp := w.reporter(t, writer, Options{HeadSHA: "9999999999999999999999999999999999999999"})
	err := rp.Start(ctx(t), running(sampleRun(headSHA, 0.5)))
	if err == nil || !strings.Contains(err.Error(), `create the check run "experiments/bert.yaml": GitHub refused it with 422 No commit found for SHA`) {
		t.Fatalf("Start on an unknown commit: %v", err)
	}
	if strings.Contains(err.Error(), "bug in sear") {
		t.Errorf("an unknown commit is blamed on sear's truncation: %v", err)
	}
}

func TestAcceptedPermission(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ header, fallback, want string }{
		{"checks=write", "checks: write", "checks: write"},
		{"issues=write; pull_requests=write", "pull-requests: write", "pull-requests: write"},
		{"issues=write", "pull-requests: write", "issues: write"},
		{"issues=read; pull_requests=read", "pull-requests: write", "pull-requests: write"},
		{"garbage", "checks: write", "checks: write"},
	} {
		if got := acceptedPermission(tc.header, tc.fallback); got != tc.want {
			t.Errorf("acceptedPermission(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}
