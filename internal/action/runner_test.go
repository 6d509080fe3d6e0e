package action

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReadRunner: each variable lands in its field, once.
func TestReadRunner(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"GITHUB_WORKSPACE": "/github/workspace", "GITHUB_REPOSITORY": "acme/nlp",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com",
		"GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_ACTOR": "octocat", "GITHUB_TOKEN": "ghs_x",
		"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": "/e.json", "GITHUB_SHA": "abc",
		"GITHUB_OUTPUT": "/f/out", "GITHUB_STATE": "/f/state", "GITHUB_STEP_SUMMARY": "/f/summary",
		"STATE_run-id": "9001-2", "STATE_cluster-id": "sear-1", "STATE_cluster-kind": "AWSCluster", "STATE_region": "eu-west-1",
		"STATE_retry-cluster-id": "sear-2",
	}
	var read []string
	got := ReadRunner(func(k string) string { read = append(read, k); return vars[k] })
	want := Runner{
		Workspace: "/github/workspace", Repository: "acme/nlp", ServerURL: "https://github.com", APIURL: "https://api.github.com",
		RunID: "9001", RunAttempt: "2", Actor: "octocat", Token: "ghs_x",
		EventName: "push", EventPath: "/e.json", SHA: "abc",
		OutputFile: "/f/out", StateFile: "/f/state", SummaryFile: "/f/summary",
		State: State{RunID: "9001-2", ClusterID: "sear-1", ClusterKind: "AWSCluster", Region: "eu-west-1", RetryClusterID: "sear-2"},
	}
	if got != want {
		t.Errorf("ReadRunner:\n got %+v\nwant %+v", got, want)
	}
	if len(read) != len(vars) {
		t.Errorf("read %d variables, want each of the %d once: %v", len(read), len(vars), read)
	}
	if (ReadRunner(noEnv) != Runner{}) {
		t.Errorf("outside a runner: %+v, want every field empty", ReadRunner(noEnv))
	}
}

func TestWorkflowURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		r    Runner
		want string
	}{
		{"github.com", Runner{ServerURL: "https://github.com", Repository: "acme/nlp", RunID: "9001"}, "https://github.com/acme/nlp/actions/runs/9001"},
		{"a server URL with a slash", Runner{ServerURL: "https://ghe.example/", Repository: "acme/nlp", RunID: "1"}, "https://ghe.example/acme/nlp/actions/runs/1"},
		{"outside a runner", Runner{}, ""},
		{"no run id", Runner{ServerURL: "https://github.com", Repository: "acme/nlp"}, ""},
	} {
		if got := tc.r.WorkflowURL(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestStateReachesThePostStep: what the main step saves, the runner hands
// the post step as STATE_<name>, and ReadRunner reads it back.
func TestStateReachesThePostStep(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state")
	saved := State{RunID: "9001-1", ClusterID: "sear-5eed", ClusterKind: "AWSCluster", Region: "eu-west-1", RetryClusterID: "sear-7e7"}
	if err := (Runner{StateFile: path}).SaveState(saved); err != nil {
		t.Fatal(err)
	}
	post := map[string]string{}
	for k, v := range readOutputFile(t, path) {
		post["STATE_"+k] = v
	}
	if got := ReadRunner(func(k string) string { return post[k] }).State; !reflect.DeepEqual(got, saved) {
		t.Errorf("the post step reads %+v, want %+v", got, saved)
	}
	if err := (Runner{StateFile: filepath.Join(path, "missing", "state")}).SaveState(saved); err == nil {
		t.Error("saving into a missing directory: no error")
	}
}

func TestReadEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	payload := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	own := payload("own.json", `{"number": 7, "pull_request": {"head": {"sha": "head1", "repo": {"full_name": "Acme/NLP"}}, "base": {"sha": "base1"}}}`)
	fork := payload("fork.json", `{"pull_request": {"number": 8, "head": {"sha": "head2", "repo": {"full_name": "mallory/nlp"}}, "base": {"sha": "base2"}}}`)
	deleted := payload("deleted.json", `{"pull_request": {"number": 9, "head": {"sha": "head3", "repo": null}, "base": {"sha": "base3"}}}`)
	noHead := payload("nohead.json", `{"number": 10}`)
	pr := func(path string) Runner {
		return Runner{Repository: "acme/nlp", EventName: "pull_request", EventPath: path, SHA: "merge"}
	}
	for _, tc := range []struct {
		name    string
		r       Runner
		want    Event
		wantErr string
	}{
		{"a push is about GITHUB_SHA", Runner{Repository: "acme/nlp", EventName: "push", SHA: "abc"},
			Event{Name: "push", Owner: "acme", Repo: "nlp", HeadSHA: "abc"}, ""},
		{"a pull request is about its head, not the merge commit", pr(own),
			Event{Name: "pull_request", Owner: "acme", Repo: "nlp", HeadSHA: "head1", PullRequest: 7, BaseSHA: "base1", HeadRepo: "Acme/NLP"}, ""},
		{"a fork's pull request", pr(fork),
			Event{Name: "pull_request", Owner: "acme", Repo: "nlp", HeadSHA: "head2", PullRequest: 8, BaseSHA: "base2", Fork: true, HeadRepo: "mallory/nlp"}, ""},
		{"a deleted head repository counts as a fork", pr(deleted),
			Event{Name: "pull_request", Owner: "acme", Repo: "nlp", HeadSHA: "head3", PullRequest: 9, BaseSHA: "base3", Fork: true}, ""},
		{"a payload without the head", pr(noHead), Event{}, "has no pull_request.head.sha"},
		{"a missing payload", pr(filepath.Join(dir, "none.json")), Event{}, "read the pull_request event payload (GITHUB_EVENT_PATH)"},
		{"an unsupported event", Runner{Repository: "acme/nlp", EventName: "issues"}, Event{}, `sear does not run on the "issues" event`},
		{"outside a runner", Runner{}, Event{}, "GITHUB_REPOSITORY is \"\", not OWNER/REPO"},
	} {
		got, err := ReadEvent(tc.r)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v, want an error that says %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case got != tc.want:
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}
