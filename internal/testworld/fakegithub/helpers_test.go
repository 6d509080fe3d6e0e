package fakegithub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

const (
	owner    = "sear-ci"
	name     = "demo"
	repoID   = 424242
	headSHA  = "1111111111111111111111111111111111111111"
	baseSHA  = "2222222222222222222222222222222222222222"
	forkSHA  = "3333333333333333333333333333333333333333"
	botLogin = "github-actions[bot]"

	writerToken   = "ghs_writer_token"
	forkToken     = "ghs_fork_pr_token"
	checksRead    = "ghs_checks_read_token"
	otherRepoTok  = "ghs_other_repo_token"
	pullRequestNo = 7
	forkPRNo      = 8
)

// world is an emulated GitHub with one repository, a pull request from a
// branch (#7) and one from a fork (#8), and four GITHUB_TOKENs.
func world(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	s.AddRepo(owner, name, repoID)
	s.AddRepo(owner, "elsewhere", repoID+1)
	s.AddPullRequest(owner, name, pullRequestNo, headSHA, baseSHA, "feature/x", "main", false)
	s.AddPullRequest(owner, name, forkPRNo, forkSHA, baseSHA, "patch-1", "main", true)
	bot := Token{Login: botLogin, UserID: 41898282, Repo: owner + "/" + name}
	s.AddToken(writerToken, bot)
	fork := bot
	fork.ReadOnly = true
	s.AddToken(forkToken, fork)
	limited := bot
	limited.Permissions = map[string]string{"checks": "read", "issues": "write", "pull-requests": "write", "contents": "read"}
	s.AddToken(checksRead, limited)
	other := bot
	other.Repo = owner + "/elsewhere"
	s.AddToken(otherRepoTok, other)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// client is a real go-github client pointed at the emulator.
func client(t *testing.T, ts *httptest.Server, token string) *gh.Client {
	t.Helper()
	c := gh.NewClient(ts.Client())
	if token != "" {
		c = c.WithAuthToken(token)
	}
	u, err := url.Parse(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

// rawCall sends an arbitrary JSON body through go-github, for requests its
// typed options cannot express.
func rawCall(t *testing.T, c *gh.Client, method, path string, body any) (*gh.Response, error) {
	t.Helper()
	req, err := c.NewRequest(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(context.Background(), req, nil)
}

// apiErr asserts err is a *github.ErrorResponse with the status.
func apiErr(t *testing.T, err error, status int) *gh.ErrorResponse {
	t.Helper()
	var er *gh.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("error = %T %v, want *github.ErrorResponse", err, err)
	}
	if er.Response.StatusCode != status {
		t.Fatalf("status = %d, want %d (%s)", er.Response.StatusCode, status, er.Message)
	}
	return er
}

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// get does a plain HTTP GET, for asserting raw headers and bodies.
func get(t *testing.T, ts *httptest.Server, path, token string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}
