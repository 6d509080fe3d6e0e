package github

import (
	"net/url"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/testworld/fakegithub"
)

const (
	// otherApp is another GitHub App installed on the repository, with
	// `checks: write` and `pull-requests: write` of its own.
	otherApp = "ghs_other_app"
	// searApp is a GitHub App's installation token given as github-token
	// instead of the GITHUB_TOKEN (actions/create-github-app-token).
	searApp = "ghs_sear_app"
	// person is someone else's personal access token.
	person = "ghp_mallory"
)

// plant adds the other app's, a custom sear app's and a person's tokens.
func plant(w *world) {
	repo := owner + "/" + repoName
	w.srv.AddToken(otherApp, fakegithub.Token{Login: "lint-bot[bot]", UserID: 9000001, Repo: repo,
		App: &fakegithub.App{ID: 777001, Slug: "lint-bot", Name: "Lint Bot"}})
	w.srv.AddToken(searApp, fakegithub.Token{Login: "acme-sear[bot]", UserID: 9000002, Repo: repo,
		App: &fakegithub.App{ID: 424201, Slug: "acme-sear", Name: "acme sear"}})
	w.srv.AddToken(person, fakegithub.Token{Login: "mallory", UserID: 31337, Repo: repo})
}

func comment(t *testing.T, w *world, token, body string) int64 {
	t.Helper()
	c, _, err := w.client(t, token).Issues.CreateComment(ctx(t), owner, repoName, prNumber, &gh.IssueComment{Body: &body})
	if err != nil {
		t.Fatal(err)
	}
	return c.GetID()
}

// TestPlantedStickyCommentsAreLeftAlone: comments that carry sear's
// marker but were written by another app's bot or by a person are neither
// edited nor deleted as duplicates; sear creates its own comment and keeps
// updating that one. With the check run off, sear has no app to learn and
// takes its identity to be GitHub Actions', the default token's.
func TestPlantedStickyCommentsAreLeftAlone(t *testing.T) {
	t.Parallel()
	for _, noCheck := range []bool{false, true} {
		t.Run(map[bool]string{false: "check", true: "comment only"}[noCheck], func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			plant(w)
			planted := map[int64]string{}
			for _, tok := range []string{otherApp, person} {
				body := report.Marker(runnable) + "\nplanted by " + tok
				planted[comment(t, w, tok, body)] = body
			}
			for _, acc := range []float64{0.5, 0.6} {
				rp := w.reporter(t, writer, Options{HeadSHA: headSHA, PullRequest: prNumber, NoCheck: noCheck})
				r := sampleRun(headSHA, acc)
				if !noCheck {
					if err := rp.Start(ctx(t), running(r)); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := rp.Finish(ctx(t), r); err != nil {
					t.Fatal(err)
				}
			}
			var ours []fakegithub.CommentState
			for _, c := range w.repo(t).Comments {
				if body, ok := planted[c.ID]; ok {
					if c.Body != body {
						t.Errorf("sear edited comment %d by %s: %.120q", c.ID, c.Author, c.Body)
					}
					delete(planted, c.ID)
					continue
				}
				ours = append(ours, c)
			}
			if len(planted) != 0 {
				t.Errorf("sear deleted the planted comments %v", planted)
			}
			if len(ours) != 1 || ours[0].Author != botLogin || !strings.Contains(ours[0].Body, "| `accuracy` | 0.6 |") {
				t.Fatalf("sear's own comments %+v, want one by %s, updated by the second run", ours, botLogin)
			}
		})
	}
}

// TestOwnIdentityLearnedFromTheCheckRun: with an app's token other than
// the GITHUB_TOKEN, sear's comments are that app's bot's and its check
// runs that app's, learned from the check run Start creates; the GitHub
// Actions bot's marker comment and GitHub Actions' base run are someone
// else's.
func TestOwnIdentityLearnedFromTheCheckRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	plant(w)
	postBaseRun(t, w, 0.99) // by GitHub Actions: not this sear's
	base := w.reporter(t, searApp, Options{HeadSHA: baseSHA})
	r := sampleRun(baseSHA, 0.70)
	if err := base.Start(ctx(t), running(r)); err != nil {
		t.Fatal(err)
	}
	if _, err := base.Finish(ctx(t), r); err != nil {
		t.Fatal(err)
	}
	actionsBody := report.Marker(runnable) + "\nwritten with the GITHUB_TOKEN"
	actionsComment := comment(t, w, writer, actionsBody)

	for _, acc := range []float64{0.5, 0.6} {
		rp := w.reporter(t, searApp, Options{HeadSHA: headSHA, PullRequest: prNumber})
		r := sampleRun(headSHA, acc)
		if err := rp.Start(ctx(t), running(r)); err != nil {
			t.Fatal(err)
		}
		b, err := rp.BaseRun(ctx(t), runnable)
		if err != nil || b == nil {
			t.Fatalf("BaseRun = %v, %v", b, err)
		}
		if v, _ := b.Metrics["accuracy"].Last(); v != 0.70 {
			t.Errorf("base accuracy %v, want 0.7 from acme-sear's own run, not GitHub Actions' 0.99", v)
		}
		r.Base = b
		if _, err := rp.Finish(ctx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	var ours int
	for _, c := range w.repo(t).Comments {
		switch {
		case c.ID == actionsComment:
			if c.Body != actionsBody {
				t.Errorf("sear edited GitHub Actions' comment: %.120q", c.Body)
			}
		case c.Author == "acme-sear[bot]":
			ours++
		}
	}
	if ours != 1 {
		t.Errorf("%d comments by acme-sear[bot], want 1", ours)
	}
}

// TestPlantedBaseCheckRunIsIgnored: another app's newer check run on the
// base commit, named like sear's and with better metrics in sear's block,
// is not the baseline; sear's own earlier run is, whether sear learned its
// app from its check run or takes it to be GitHub Actions'.
func TestPlantedBaseCheckRunIsIgnored(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	plant(w)
	postBaseRun(t, w, 0.80)
	fake := report.Check(sampleRun(baseSHA, 0.99))
	if _, _, err := w.client(t, otherApp).Checks.CreateCheckRun(ctx(t), owner, repoName, gh.CreateCheckRunOptions{
		Name: runnable, HeadSHA: baseSHA, Conclusion: gh.String("success"), Output: output(fake, nil),
	}); err != nil {
		t.Fatal(err)
	}
	for _, started := range []bool{true, false} {
		rp := w.reporter(t, writer, Options{HeadSHA: headSHA, PullRequest: prNumber})
		if started {
			if err := rp.Start(ctx(t), running(sampleRun(headSHA, 0.5))); err != nil {
				t.Fatal(err)
			}
		}
		b, err := rp.BaseRun(ctx(t), runnable)
		if err != nil || b == nil {
			t.Fatalf("started %v: BaseRun = %v, %v", started, b, err)
		}
		if v, _ := b.Metrics["accuracy"].Last(); v != 0.80 {
			t.Errorf("started %v: base accuracy %v, want sear's own 0.8, not the planted 0.99", started, v)
		}
	}
}

// TestPersonalTokenHasNoCheckRuns: GitHub lets only apps write check runs,
// so with a person's token sear says what to do instead of asking for a
// permission, and trusts no check run on the base commit.
func TestPersonalTokenHasNoCheckRuns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	plant(w)
	postBaseRun(t, w, 0.80)
	rp := w.reporter(t, person, Options{HeadSHA: headSHA, PullRequest: prNumber})
	rp.Identify(ctx(t))
	if err := rp.Start(ctx(t), running(sampleRun(headSHA, 0.5))); err != nil {
		t.Fatal(err)
	}
	lists := len(w.rec.matching("GET", "/check-runs"))
	if b, err := rp.BaseRun(ctx(t), runnable); b != nil || err != nil {
		t.Errorf("BaseRun = %+v, %v; want none with a person's token", b, err)
	}
	if n := len(w.rec.matching("GET", "/check-runs")); n != lists {
		t.Errorf("BaseRun listed check runs with a person's token")
	}
	out, err := rp.Finish(ctx(t), sampleRun(headSHA, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "Only a GitHub App's token can create check runs") ||
		strings.Contains(out.Warnings[0], "checks: write") {
		t.Errorf("warnings %q, want one saying a person's token cannot create check runs", out.Warnings)
	}
	st := w.repo(t)
	if len(st.Comments) != 1 || st.Comments[0].Author != "mallory" {
		t.Errorf("comments %+v, want the token's user's", st.Comments)
	}
}

// TestGitHubActionsFallback: before sear has learned its app, GitHub
// Actions is recognised by its slug, which is unique on an instance, and
// on github.com by its id too.
func TestGitHubActionsFallback(t *testing.T) {
	t.Parallel()
	run := func(id int64, slug string) *gh.CheckRun {
		return &gh.CheckRun{App: &gh.App{ID: gh.Int64(id), Slug: gh.String(slug)}}
	}
	for _, tc := range []struct {
		api  string
		run  *gh.CheckRun
		want bool
	}{
		{"https://api.github.com/", run(15368, "github-actions"), true},
		{"https://api.github.com/", run(99, "github-actions"), false},
		{"https://api.github.com/", run(15368, "lint-bot"), false},
		{"https://ghe.example.com/api/v3/", run(42, "github-actions"), true},
		{"https://ghe.example.com/api/v3/", run(42, "lint-bot"), false},
		{"https://ghe.example.com/api/v3/", &gh.CheckRun{}, false},
	} {
		c := gh.NewClient(nil)
		c.BaseURL, _ = url.Parse(tc.api)
		if got := New(c, Options{}).ownCheckRun(tc.run); got != tc.want {
			t.Errorf("%s: app %d %q trusted %v, want %v", tc.api, tc.run.GetApp().GetID(), tc.run.GetApp().GetSlug(), got, tc.want)
		}
	}
	c := gh.NewClient(nil)
	if New(c, Options{Login: "octocat"}).ownCheckRun(run(15368, "github-actions")) {
		t.Error("a person's token trusted GitHub Actions' check run")
	}
	// An app's bot login names the app to trust, not GitHub Actions.
	app := New(c, Options{Login: "acme-sear[bot]"})
	if !app.ownCheckRun(run(424201, "acme-sear")) || app.ownCheckRun(run(15368, "github-actions")) {
		t.Error("Login acme-sear[bot] does not make acme-sear's check runs sear's, and only those")
	}
}
