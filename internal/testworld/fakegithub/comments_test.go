package fakegithub

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

const marker = "<!-- sear:report -->"

func createComment(t *testing.T, c *gh.Client, issue int, body string) *gh.IssueComment {
	t.Helper()
	cm, resp, err := c.Issues.CreateComment(context.Background(), owner, name, issue, &gh.IssueComment{Body: gh.String(body)})
	if err != nil {
		t.Fatalf("create comment: %v", err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("status = %d, want 201", resp.StatusCode)
	}
	return cm
}

// findSticky walks the pages the way sear finds its sticky comment: by the
// hidden marker and its author, following resp.NextPage.
func findSticky(t *testing.T, c *gh.Client, issue int) (found *gh.IssueComment, onPage, pages int) {
	t.Helper()
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for page := 1; ; page++ {
		list, resp, err := c.Issues.ListComments(context.Background(), owner, name, issue, opts)
		if err != nil {
			t.Fatalf("list page %d: %v", page, err)
		}
		for _, cm := range list {
			if strings.HasPrefix(cm.GetBody(), marker) && cm.GetUser().GetLogin() == botLogin {
				found, onPage = cm, page
			}
		}
		if resp.NextPage == 0 {
			return found, onPage, page
		}
		opts.Page = resp.NextPage
	}
}

func TestStickyCommentFoundPastTwoPages(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	s.SeedComments(owner, name, pullRequestNo, 250, "reviewer")
	want := createComment(t, c, pullRequestNo, marker+"\nverdict: pass")

	got, onPage, pages := findSticky(t, c, pullRequestNo)
	if got == nil || got.GetID() != want.GetID() {
		t.Fatalf("sticky comment not found (got %v)", got)
	}
	if onPage != 3 || pages != 3 {
		t.Errorf("found on page %d of %d, want page 3 of 3", onPage, pages)
	}
	if u := got.GetUser(); u.GetType() != "Bot" || u.GetID() != 41898282 {
		t.Errorf("user = %s type %s id %d", u.GetLogin(), u.GetType(), u.GetID())
	}
	if !strings.HasSuffix(got.GetHTMLURL(), "/pull/7#issuecomment-"+strconv.FormatInt(got.GetID(), 10)) {
		t.Errorf("html_url = %s", got.GetHTMLURL())
	}
}

func TestCommentUpdatedInPlace(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	_, ts := world(t, Options{Now: clk.now})
	c, ctx := client(t, ts, writerToken), context.Background()
	cm := createComment(t, c, pullRequestNo, marker+"\nrunning")
	clk.advance(time.Minute)

	upd, _, err := c.Issues.EditComment(ctx, owner, name, cm.GetID(), &gh.IssueComment{Body: gh.String(marker + "\ndone")})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Issues.GetComment(ctx, owner, name, cm.GetID())
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetID() != cm.GetID() || got.GetBody() != marker+"\ndone" {
		t.Errorf("after edit: id %d body %q", got.GetID(), got.GetBody())
	}
	if !got.GetUpdatedAt().After(got.GetCreatedAt().Time) {
		t.Errorf("updated_at %v not after created_at %v", got.GetUpdatedAt(), got.GetCreatedAt())
	}
	resp, err := c.Issues.DeleteComment(ctx, owner, name, cm.GetID())
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete: %v", err)
	}
	_, _, err = c.Issues.GetComment(ctx, owner, name, cm.GetID())
	apiErr(t, err, 404)
}

func TestCommentBodyLimit(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c, ctx := client(t, ts, writerToken), context.Background()
	tests := []struct {
		name   string
		body   string
		accept bool
	}{
		{"65536 characters", strings.Repeat("a", 65536), true},
		{"65536 two-byte characters", strings.Repeat("é", 65536), true},
		{"65537 characters", strings.Repeat("a", 65537), false},
		{"empty", "", false},
	}
	first := createComment(t, c, pullRequestNo, "short")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, errCreate := c.Issues.CreateComment(ctx, owner, name, pullRequestNo, &gh.IssueComment{Body: gh.String(tt.body)})
			_, _, errEdit := c.Issues.EditComment(ctx, owner, name, first.GetID(), &gh.IssueComment{Body: gh.String(tt.body)})
			for _, err := range []error{errCreate, errEdit} {
				if tt.accept {
					if err != nil {
						t.Errorf("refused: %v", err)
					}
					continue
				}
				er := apiErr(t, err, 422)
				if er.Message != "Validation Failed" || len(er.Errors) != 1 || er.Errors[0].Resource != "IssueComment" {
					t.Errorf("error = %+v", er)
				}
				if tt.body != "" && er.Errors[0].Message != "Body is too long (maximum is 65536 characters)" {
					t.Errorf("message = %q", er.Errors[0].Message)
				}
			}
		})
	}
}

func TestCommentOnMissingIssue(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	_, _, err := c.Issues.CreateComment(context.Background(), owner, name, 99, &gh.IssueComment{Body: gh.String("x")})
	apiErr(t, err, 404)
	_, err = rawCall(t, c, "POST", "repos/sear-ci/demo/issues/7/comments", map[string]any{})
	if er := apiErr(t, err, 422); er.Message != "Invalid request.\n\n\"body\" wasn't supplied." {
		t.Errorf("message = %q", er.Message)
	}
}
