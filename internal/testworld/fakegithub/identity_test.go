package fakegithub

import (
	"context"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"
)

// TestCheckRunAppIsTheTokens: a check run's "app" is the creating token's
// app, GitHub Actions for a GITHUB_TOKEN, and the state says so too.
func TestCheckRunAppIsTheTokens(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.AddToken("ghs_other_app", Token{Login: "lint-bot[bot]", UserID: 9000001, Repo: owner + "/" + name,
		App: &App{ID: 777001, Slug: "lint-bot", Name: "Lint Bot", Owner: "acme-tools"}})

	ours := createRun(t, client(t, ts, writerToken), gh.CreateCheckRunOptions{Name: "sear", HeadSHA: baseSHA})
	theirs := createRun(t, client(t, ts, "ghs_other_app"), gh.CreateCheckRunOptions{Name: "sear", HeadSHA: baseSHA})

	if a := ours.GetApp(); a.GetID() != 15368 || a.GetSlug() != "github-actions" || a.GetOwner().GetLogin() != "github" ||
		a.GetOwner().GetType() != "Organization" || a.GetNodeID() != "MDM6QXBwMTUzNjg=" {
		t.Errorf("a GITHUB_TOKEN's run has app %+v, want GitHub Actions (15368)", a)
	}
	a := theirs.GetApp()
	if a.GetID() != 777001 || a.GetSlug() != "lint-bot" || a.GetName() != "Lint Bot" || a.GetOwner().GetLogin() != "acme-tools" ||
		!strings.HasSuffix(a.GetHTMLURL(), "/apps/lint-bot") {
		t.Errorf("another app's run has app %+v", a)
	}
	res, _, err := client(t, ts, writerToken).Checks.ListCheckRunsForRef(context.Background(), owner, name, baseSHA,
		&gh.ListCheckRunsOptions{Filter: gh.String("all")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, cr := range res.CheckRuns {
		ids = append(ids, cr.GetApp().GetID())
	}
	if len(ids) != 2 || ids[0] != 777001 || ids[1] != 15368 {
		t.Errorf("listed runs' app ids %v, want [777001 15368] (newest first)", ids)
	}
	st := s.State().Repos[0].CheckRuns
	if len(st) != 2 || st[0].AppID != 15368 || st[1].AppSlug != "lint-bot" || st[1].CreatedBy != "lint-bot[bot]" {
		t.Errorf("state check runs %+v", st)
	}
}

// TestPersonalTokenCannotWriteCheckRuns: the Checks API is only for GitHub
// Apps; a person's token may read check runs but not create or update one.
func TestPersonalTokenCannotWriteCheckRuns(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.AddToken("ghp_person", Token{Login: "octocat", UserID: 583231})
	person := client(t, ts, "ghp_person")
	run := createRun(t, client(t, ts, writerToken), gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})

	_, _, err := person.Checks.CreateCheckRun(context.Background(), owner, name, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})
	if er := apiErr(t, err, 403); er.Message != "You must authenticate via a GitHub App." {
		t.Errorf("create: message %q", er.Message)
	}
	_, _, err = person.Checks.UpdateCheckRun(context.Background(), owner, name, run.GetID(), gh.UpdateCheckRunOptions{Name: "sear"})
	apiErr(t, err, 403)
	if _, _, err := person.Checks.GetCheckRun(context.Background(), owner, name, run.GetID()); err != nil {
		t.Errorf("a person may read check runs: %v", err)
	}
}

// TestCommentUserType: a comment's user is "Bot" for an app's bot account
// and "User" for a person, as GitHub shows them.
func TestCommentUserType(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.AddToken("ghp_person", Token{Login: "octocat", UserID: 583231})
	body := "hello"
	for tok, want := range map[string][2]string{writerToken: {botLogin, "Bot"}, "ghp_person": {"octocat", "User"}} {
		c, _, err := client(t, ts, tok).Issues.CreateComment(context.Background(), owner, name, pullRequestNo, &gh.IssueComment{Body: &body})
		if err != nil {
			t.Fatal(err)
		}
		if u := c.GetUser(); u.GetLogin() != want[0] || u.GetType() != want[1] {
			t.Errorf("comment by %s/%s, want %s/%s", u.GetLogin(), u.GetType(), want[0], want[1])
		}
	}
}
