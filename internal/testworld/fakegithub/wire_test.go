package fakegithub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"
)

func TestNotFound(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	run := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})
	tests := []struct{ name, method, path string }{
		{"unknown route", "GET", "repos/sear-ci/demo/nothing-here"},
		{"wrong method", "DELETE", fmt.Sprintf("repos/sear-ci/demo/check-runs/%d", run.GetID())},
		{"trailing slash", "GET", "repos/sear-ci/demo/"},
		{"unknown repository", "GET", "repos/sear-ci/nope"},
		{"unknown check run", "GET", "repos/sear-ci/demo/check-runs/1"},
		{"unknown pull request", "GET", "repos/sear-ci/demo/pulls/99"},
		{"unknown ref", "GET", "repos/sear-ci/demo/commits/nope/check-runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rawCall(t, c, tt.method, tt.path, nil)
			if er := apiErr(t, err, 404); er.Message != "Not Found" || er.DocumentationURL != docRoot {
				t.Errorf("error = %+v", er)
			}
		})
	}
}

func TestLinkHeaderFormat(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.SeedComments(owner, name, pullRequestNo, 250, "reviewer")
	base := fmt.Sprintf("%s/repositories/%d/issues/7/comments?per_page=100&page=", ts.URL, repoID)
	tests := []struct {
		page string
		want string
	}{
		{"1", fmt.Sprintf(`<%s2>; rel="next", <%s3>; rel="last"`, base, base)},
		{"2", fmt.Sprintf(`<%s1>; rel="prev", <%s3>; rel="next", <%s3>; rel="last", <%s1>; rel="first"`, base, base, base, base)},
		{"3", fmt.Sprintf(`<%s2>; rel="prev", <%s1>; rel="first"`, base, base)},
	}
	for _, tt := range tests {
		t.Run("page "+tt.page, func(t *testing.T) {
			resp, body := get(t, ts, "/repos/sear-ci/demo/issues/7/comments?per_page=100&page="+tt.page, writerToken)
			if got := resp.Header.Get("Link"); got != tt.want {
				t.Errorf("Link =\n%s\nwant\n%s", got, tt.want)
			}
			var items []map[string]any
			if err := json.Unmarshal([]byte(body), &items); err != nil || len(items) == 0 {
				t.Errorf("body: %v (%d items)", err, len(items))
			}
		})
	}
	// The Link URLs are served: GitHub's /repositories/{id}/… form.
	resp, _ := get(t, ts, strings.TrimPrefix(base, ts.URL)+"3", writerToken)
	if resp.StatusCode != 200 {
		t.Errorf("following the last link: %d", resp.StatusCode)
	}
	// One page, no Link header; default page size 30.
	resp, body := get(t, ts, "/repos/sear-ci/demo/issues/7/comments", writerToken)
	var items []any
	_ = json.Unmarshal([]byte(body), &items)
	if len(items) != 30 || resp.Header.Get("Link") == "" {
		t.Errorf("default page: %d items, link %q", len(items), resp.Header.Get("Link"))
	}
}

func TestPerPageCappedAt100(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.SeedComments(owner, name, pullRequestNo, 150, "reviewer")
	list, resp, err := client(t, ts, writerToken).Issues.ListComments(context.Background(), owner, name, pullRequestNo,
		&gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 500}})
	if err != nil || len(list) != 100 || resp.NextPage != 2 {
		t.Errorf("per_page=500: %d items, next %d, err %v", len(list), resp.NextPage, err)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	tests := []struct {
		name       string
		header     []string
		wantStatus int
		wantHeader map[string]string
	}{
		{"version echoed", []string{"X-GitHub-Api-Version", "2022-11-28"}, 200,
			map[string]string{"X-GitHub-Api-Version-Selected": "2022-11-28", "Content-Type": "application/json; charset=utf-8"}},
		{"no version, none selected", nil, 200, map[string]string{"X-GitHub-Api-Version-Selected": ""}},
		{"unknown version", []string{"X-GitHub-Api-Version", "v3"}, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, ts, "/repos/sear-ci/demo", writerToken, tt.header...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if resp.Header.Get("X-GitHub-Request-Id") == "" {
				t.Error("no x-github-request-id")
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestBodyShapeErrors(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	for body, want := range map[string]string{`{"name":`: "Problems parsing JSON", `["x"]`: "Body should be a JSON object"} {
		req, _ := http.NewRequest("POST", ts.URL+"/repos/sear-ci/demo/check-runs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+writerToken)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got apiError
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != 400 || got.Message != want {
			t.Errorf("%s: %d %q, want 400 %q", body, resp.StatusCode, got.Message, want)
		}
	}
}

func TestDefaultBranch(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.SetDefaultBranch(owner, name, "master")
	r, _, err := client(t, ts, writerToken).Repositories.Get(context.Background(), owner, name)
	if err != nil || r.GetDefaultBranch() != "master" || r.GetID() != repoID || r.GetFullName() != "sear-ci/demo" {
		t.Errorf("repository: %v %v", r, err)
	}
}

func TestStateAndCalls(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	run := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA, Output: &gh.CheckRunOutput{
		Title: gh.String("t"), Summary: gh.String("s"), Annotations: annotations(2, 1)}})
	createComment(t, c, pullRequestNo, "héllo")
	_, _, _ = c.Checks.GetCheckRun(context.Background(), owner, name, 12345)

	raw, err := json.Marshal(s.State())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"full_name":"sear-ci/demo"`, fmt.Sprintf(`"id":%d`, run.GetID()), `"annotations_count":2`,
		`"status":"queued"`, `"body_length":5`, `"author":"github-actions[bot]"`, `"from_fork":true`, `"completed_at":null`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("state lacks %s:\n%s", want, raw)
		}
	}
	calls := s.Calls()
	if len(calls) != 3 || calls[0].Method != "POST" || calls[0].Status != 201 || calls[2].Status != 404 || calls[1].Login != botLogin {
		t.Errorf("calls = %+v", calls)
	}
	rawCalls, _ := json.Marshal(calls)
	if strings.Contains(string(rawCalls), writerToken) {
		t.Error("the call log holds the token")
	}
}
