package github

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/testworld/fakegithub"
)

const (
	owner    = "acme"
	repoName = "nlp"
	repoID   = 515151
	headSHA  = "1111111111111111111111111111111111111111"
	head2SHA = "4444444444444444444444444444444444444444"
	baseSHA  = "2222222222222222222222222222222222222222"
	forkSHA  = "3333333333333333333333333333333333333333"
	prNumber = 7
	forkPR   = 8
	botLogin = "github-actions[bot]"

	writer      = "ghs_writer"
	forkToken   = "ghs_fork_read_only"
	checksRead  = "ghs_checks_read_only"
	nothingRead = "ghs_no_pull_requests"
	runnable    = "experiments/bert.yaml"
)

// world is the emulated GitHub with one repository, a pull request from a
// branch (#7) and one from a fork (#8), and the GITHUB_TOKENs a workflow
// can have: full, a fork's read-only one, one without `checks: write`, and
// one that may not even read pull requests.
type world struct {
	srv *fakegithub.Server
	ts  *httptest.Server
	rec *recorder
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := fakegithub.New(fakegithub.Options{})
	s.AddRepo(owner, repoName, repoID)
	s.AddPullRequest(owner, repoName, prNumber, headSHA, baseSHA, "feature/bert", "main", false)
	s.AddPullRequest(owner, repoName, forkPR, forkSHA, baseSHA, "patch-1", "main", true)
	s.AddCommit(owner, repoName, head2SHA)
	bot := fakegithub.Token{Login: botLogin, UserID: 41898282, Repo: owner + "/" + repoName}
	s.AddToken(writer, bot)
	fork := bot
	fork.ReadOnly = true
	s.AddToken(forkToken, fork)
	noChecks := bot
	noChecks.Permissions = map[string]string{"checks": "read", "pull-requests": "write", "contents": "read"}
	s.AddToken(checksRead, noChecks)
	nothing := bot
	nothing.Permissions = map[string]string{"contents": "read"}
	s.AddToken(nothingRead, nothing)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &world{srv: s, ts: ts, rec: &recorder{next: ts.Client().Transport}}
}

// client is a real go-github client on the emulator, through a transport
// that records request bodies.
func (w *world) client(t *testing.T, token string) *gh.Client {
	t.Helper()
	hc := &http.Client{Transport: w.rec}
	c := gh.NewClient(hc).WithAuthToken(token)
	u, err := url.Parse(w.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

func (w *world) reporter(t *testing.T, token string, opts Options) *Reporter {
	t.Helper()
	if opts.Owner == "" {
		opts.Owner, opts.Repo = owner, repoName
	}
	return New(w.client(t, token), opts)
}

func (w *world) repo(t *testing.T) fakegithub.RepoState {
	t.Helper()
	for _, r := range w.srv.State().Repos {
		if r.FullName == owner+"/"+repoName {
			return r
		}
	}
	t.Fatal("the emulator lost the repository")
	return fakegithub.RepoState{}
}

// recorder keeps each request's method, path and body.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, query, body string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.URL.RawQuery, string(body)})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) matching(method, pathPart string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, q := range r.reqs {
		if q.method == method && strings.Contains(q.path, pathPart) {
			out = append(out, q)
		}
	}
	return out
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// sampleRun is a finished run with metrics, phases, nodes and a log.
func sampleRun(sha string, accuracy float64, loss ...float64) report.Run {
	return report.Run{
		Runnable: runnable, Verdict: report.Success, Commit: sha, ClusterID: "sear-7f3a2c91",
		Started: t0, Duration: 9 * time.Minute,
		Phases: []report.Phase{{Name: "launch", Start: t0, Duration: time.Minute}, {Name: "job", Start: t0.Add(time.Minute), Duration: 8 * time.Minute}},
		Nodes:  []report.Node{{Role: "orchestrator", Type: "m5.large"}, {Role: "factory", Type: "g4dn.xlarge", Spot: true}},
		Metrics: report.Metrics{
			"accuracy": report.Value(accuracy), "train_loss": report.Series(loss...),
		},
		Log:      report.LogTail{Lines: []string{"epoch 1 loss=2.3", "epoch 2 loss=1.1", "done"}, Total: 3},
		Links:    report.Links{Log: "https://github.com/acme/nlp/actions/runs/1/job/2"},
		TornDown: []string{"2 instances"},
	}
}

// running is the run as it stands when it starts.
func running(r report.Run) report.Run {
	r.Verdict, r.Duration, r.Metrics, r.Log, r.TornDown = report.Running, 0, nil, report.LogTail{}, nil
	r.Phases = []report.Phase{{Name: "launch", Start: t0, Running: true}}
	return r
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
