package fakegithub

import (
	"context"
	"encoding/json"
	"testing"

	gh "github.com/google/go-github/v60/github"
)

// seedRunAndComment makes one check run and one comment with the writer.
func seedRunAndComment(t *testing.T, c *gh.Client) (runID, commentID int64) {
	t.Helper()
	run := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})
	return run.GetID(), createComment(t, c, pullRequestNo, "hello").GetID()
}

type op struct {
	name string
	do   func(c *gh.Client) error
}

func writes(runID, commentID int64) []op {
	ctx := context.Background()
	return []op{
		{"create check run", func(c *gh.Client) error {
			_, _, err := c.Checks.CreateCheckRun(ctx, owner, name, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})
			return err
		}},
		{"update check run", func(c *gh.Client) error {
			_, _, err := c.Checks.UpdateCheckRun(ctx, owner, name, runID, gh.UpdateCheckRunOptions{Name: "sear", Conclusion: gh.String("success")})
			return err
		}},
		{"create comment", func(c *gh.Client) error {
			_, _, err := c.Issues.CreateComment(ctx, owner, name, forkPRNo, &gh.IssueComment{Body: gh.String("x")})
			return err
		}},
		{"edit comment", func(c *gh.Client) error {
			_, _, err := c.Issues.EditComment(ctx, owner, name, commentID, &gh.IssueComment{Body: gh.String("y")})
			return err
		}},
		{"delete comment", func(c *gh.Client) error {
			_, err := c.Issues.DeleteComment(ctx, owner, name, commentID)
			return err
		}},
	}
}

func reads(runID, commentID int64) []op {
	ctx := context.Background()
	return []op{
		{"get repository", func(c *gh.Client) error { _, _, err := c.Repositories.Get(ctx, owner, name); return err }},
		{"get pull request", func(c *gh.Client) error { _, _, err := c.PullRequests.Get(ctx, owner, name, forkPRNo); return err }},
		{"get check run", func(c *gh.Client) error { _, _, err := c.Checks.GetCheckRun(ctx, owner, name, runID); return err }},
		{"list check runs", func(c *gh.Client) error {
			_, _, err := c.Checks.ListCheckRunsForRef(ctx, owner, name, headSHA, nil)
			return err
		}},
		{"list comments", func(c *gh.Client) error {
			_, _, err := c.Issues.ListComments(ctx, owner, name, pullRequestNo, nil)
			return err
		}},
		{"get comment", func(c *gh.Client) error { _, _, err := c.Issues.GetComment(ctx, owner, name, commentID); return err }},
	}
}

func TestForkTokenIsReadOnly(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	runID, commentID := seedRunAndComment(t, client(t, ts, writerToken))
	fork := client(t, ts, forkToken)
	for _, w := range writes(runID, commentID) {
		t.Run(w.name, func(t *testing.T) {
			er := apiErr(t, w.do(fork), 403)
			if er.Message != "Resource not accessible by integration" || er.DocumentationURL == "" {
				t.Errorf("error = %q %q", er.Message, er.DocumentationURL)
			}
		})
	}
	for _, r := range reads(runID, commentID) {
		t.Run(r.name, func(t *testing.T) {
			if err := r.do(fork); err != nil {
				t.Errorf("read refused: %v", err)
			}
		})
	}
}

func TestChecksReadOnlyPermission(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	runID, commentID := seedRunAndComment(t, client(t, ts, writerToken))
	limited := client(t, ts, checksRead)
	for _, w := range writes(runID, commentID) {
		t.Run(w.name, func(t *testing.T) {
			err := w.do(limited)
			if w.name == "create check run" || w.name == "update check run" {
				er := apiErr(t, err, 403)
				if got := er.Response.Header.Get("X-Accepted-GitHub-Permissions"); got != "checks=write" {
					t.Errorf("accepted permissions = %q", got)
				}
				return
			}
			if err != nil {
				t.Errorf("comment write refused: %v", err)
			}
		})
	}
	if err := reads(runID, commentID)[2].do(limited); err != nil {
		t.Errorf("check-run read refused: %v", err)
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	tests := []struct {
		name, token, path string
		wantStatus        int
		wantBody          string
	}{
		{"unknown token", "ghs_nope", "/repos/sear-ci/demo", 401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`},
		// A private repository answers 404 to an unauthenticated call.
		{"no token", "", "/repos/sear-ci/demo", 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}`},
		{"token of another repository", otherRepoTok, "/repos/sear-ci/demo/pulls/7", 404, ""},
		{"own repository, any case", otherRepoTok, "/repos/SEAR-CI/Elsewhere", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, ts, tt.path, tt.token)
			if resp.StatusCode != tt.wantStatus || (tt.wantBody != "" && body != tt.wantBody) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if resp.Header.Get("X-RateLimit-Limit") == "" {
				t.Error("no rate-limit headers")
			}
		})
	}
}

func TestForkPullRequestShape(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c, ctx := client(t, ts, forkToken), context.Background()
	pr, _, err := c.PullRequests.Get(ctx, owner, name, forkPRNo)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.GetHead().GetRepo().GetFork() || pr.GetHead().GetRepo().GetFullName() != "contributor/demo" ||
		pr.GetBase().GetRepo().GetFullName() != "sear-ci/demo" || pr.GetBase().GetSHA() != baseSHA || pr.GetBase().GetRef() != "main" {
		raw, _ := json.Marshal(pr)
		t.Errorf("fork pull request = %s", raw)
	}
	own, _, err := c.PullRequests.Get(ctx, owner, name, pullRequestNo)
	if err != nil || own.GetHead().GetRepo().GetFork() || own.GetHead().GetSHA() != headSHA {
		t.Errorf("branch pull request: fork %v sha %s err %v", own.GetHead().GetRepo().GetFork(), own.GetHead().GetSHA(), err)
	}
}
