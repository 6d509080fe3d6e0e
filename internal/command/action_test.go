package command

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/fakegithub"
	"github.com/sear-ci/sear/internal/testworld/runnerlog"
)

// The emulated GitHub the action tests report to: repository acme/nlp,
// pull request #7 from a branch and #8 from a fork, and the tokens a
// workflow can have.
const (
	ghOwner   = "acme"
	ghRepo    = "nlp"
	headSHA   = "1111111111111111111111111111111111111111"
	baseSHA   = "2222222222222222222222222222222222222222"
	forkSHA   = "3333333333333333333333333333333333333333"
	botLogin  = "github-actions[bot]"
	writeTok  = "ghs_actions_write"
	forkTok   = "ghs_fork_read_only"
	checksTok = "ghs_checks_read"
	// personTok is a personal access token given as github-token: its
	// comments are a user's, not the bot's.
	personTok = "ghp_personal_access"
)

type ghWorld struct {
	srv *fakegithub.Server
	url string
}

func newGHWorld(t *testing.T) *ghWorld {
	t.Helper()
	s := fakegithub.New(fakegithub.Options{})
	s.AddRepo(ghOwner, ghRepo, 4242)
	s.AddPullRequest(ghOwner, ghRepo, 7, headSHA, baseSHA, "feature/x", "main", false)
	s.AddPullRequest(ghOwner, ghRepo, 8, forkSHA, baseSHA, "patch-1", "main", true)
	bot := fakegithub.Token{Login: botLogin, UserID: 41898282, Repo: ghOwner + "/" + ghRepo}
	s.AddToken(writeTok, bot)
	fork := bot
	fork.ReadOnly = true
	s.AddToken(forkTok, fork)
	ro := bot
	ro.Permissions = map[string]string{"checks": "read", "pull-requests": "read", "contents": "read"}
	s.AddToken(checksTok, ro)
	s.AddToken(personTok, fakegithub.Token{Login: "octocat", UserID: 583231, Repo: ghOwner + "/" + ghRepo})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &ghWorld{srv: s, url: ts.URL}
}

func (w *ghWorld) repo(t *testing.T) fakegithub.RepoState {
	t.Helper()
	for _, r := range w.srv.State().Repos {
		if r.FullName == ghOwner+"/"+ghRepo {
			return r
		}
	}
	t.Fatal("the repository is gone from the emulator")
	return fakegithub.RepoState{}
}

// step is one run of the action's main step, set up the way the runner
// sets up a Docker action's environment.
type step struct {
	env     map[string]string
	files   string // where the file commands' files are
	stdout  string
	stderr  string
	code    int
	outputs map[string]string
}

// newStep is a step on event with the given inputs, in workspace ws.
func newStep(t *testing.T, w *ghWorld, ws, event string, payload any, inputs map[string]string) *step {
	t.Helper()
	files := t.TempDir()
	ev := filepath.Join(files, "event.json")
	data, _ := json.Marshal(payload)
	if err := os.WriteFile(ev, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true",
		"GITHUB_WORKSPACE": ws, "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": ev,
		"GITHUB_REPOSITORY": ghOwner + "/" + ghRepo, "GITHUB_SHA": headSHA,
		"GITHUB_API_URL": w.url, "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTOR": "octocat",
		"GITHUB_OUTPUT": filepath.Join(files, "output"), "GITHUB_STATE": filepath.Join(files, "state"),
		"GITHUB_STEP_SUMMARY": filepath.Join(files, "summary"),
		"INPUT_GITHUB-TOKEN":  writeTok, "INPUT_REPORT": "check,comment,summary",
	}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	return &step{env: env, files: files}
}

func (s *step) run(t *testing.T, args ...string) *step {
	t.Helper()
	var out, errb bytes.Buffer
	s.code = Run(context.Background(), Process{Args: append([]string{"action"}, args...), Env: func(k string) string { return s.env[k] }, Stdout: &out, Stderr: &errb})
	s.stdout, s.stderr = out.String(), errb.String()
	s.outputs = readFileCommands(t, filepath.Join(s.files, "output"))
	return s
}

func (s *step) file(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.files, name))
	return string(b)
}

// readFileCommands parses NAME<<DELIMITER blocks, as the runner does.
func readFileCommands(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			if lines[i] != "" {
				t.Fatalf("%s line %d is not NAME<<DELIMITER: %q", path, i+1, lines[i])
			}
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s: %s's delimiter never closes", path, name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func pullRequestEvent(number int, head, headRepo string) map[string]any {
	return map[string]any{"number": number, "pull_request": map[string]any{
		"number": number,
		"head":   map[string]any{"sha": head, "repo": map[string]any{"full_name": headRepo}},
		"base":   map[string]any{"sha": baseSHA, "repo": map[string]any{"full_name": ghOwner + "/" + ghRepo}},
	}}
}

// experiment is a workspace whose job reports accuracy from value.txt and
// a loss curve.
func experiment(t *testing.T, accuracy string) string {
	t.Helper()
	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, "ci"), 0o755)
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ci/train.py", `import json, os
acc = float(open("value.txt").read())
print("::set-output name=pwned::yes")
print("training, accuracy", acc)
json.dump({"accuracy": acc, "loss": [1.0, 0.5, 0.25]}, open(os.path.join(os.environ["SEAR_OUTPUT_DIR"], "metrics.json"), "w"))
`)
	write("ci/value.txt", accuracy)
	write("ci/runnable.yaml", "!Script\nscript: train\n")
	write("ci/cluster.yaml", "!LocalCluster\nname: action\nfactories_num: 1\n")
	return ws
}

var experimentInputs = map[string]string{"runnable": "runnable.yaml", "cluster": "cluster.yaml", "working-directory": "ci"}

func TestActionReportsOnThePullRequest(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	// More than a page of other people's comments: the sticky one must be
	// found past the first 100.
	w.srv.SeedComments(ghOwner, ghRepo, 7, 130, "reviewer")

	base := newStep(t, w, experiment(t, "0.80"), "push", map[string]any{"after": baseSHA}, experimentInputs)
	base.env["GITHUB_SHA"] = baseSHA
	if base.run(t); base.code != ExitOK {
		t.Fatalf("base run: exit %d\n%s\n%s", base.code, base.stdout, base.stderr)
	}

	first := newStep(t, w, experiment(t, "0.85"), "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs)
	if first.run(t); first.code != ExitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", first.code, first.stdout, first.stderr)
	}
	second := newStep(t, w, experiment(t, "0.90"), "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs)
	second.env["GITHUB_RUN_ID"] = "9002"
	if second.run(t); second.code != ExitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", second.code, second.stdout, second.stderr)
	}

	for _, s := range []*step{base, first, second} {
		if strings.Contains(s.stdout, "::warning::") {
			t.Errorf("a run with a token that may write warned:\n%s", s.stdout)
		}
	}
	r := w.repo(t)
	var sticky []fakegithub.CommentState
	for _, c := range r.Comments {
		if c.Author == botLogin {
			sticky = append(sticky, c)
		}
	}
	if len(sticky) != 1 {
		t.Fatalf("want exactly one sear comment on the pull request, got %d", len(sticky))
	}
	if !strings.Contains(sticky[0].Body, "0.9") || !strings.Contains(sticky[0].Body, "ci/runnable.yaml") {
		t.Errorf("the comment does not show the second run:\n%s", sticky[0].Body)
	}
	var onHead []fakegithub.CheckRunState
	for _, cr := range r.CheckRuns {
		if cr.HeadSHA == headSHA {
			onHead = append(onHead, cr)
		}
		if cr.Status != "completed" || cr.Conclusion != "success" || cr.Name != "ci/runnable.yaml" {
			t.Errorf("check run %d %q on %.7s is %s/%s, want a completed success named after the runnable", cr.ID, cr.Name, cr.HeadSHA, cr.Status, cr.Conclusion)
		}
	}
	if len(onHead) != 2 {
		t.Fatalf("want two check runs on the pull request's head, got %d", len(onHead))
	}
	// The second run compares with the base commit's run: 0.90 against 0.80.
	summary := second.file("summary")
	if !strings.Contains(summary, "0.8") || !strings.Contains(summary, "+0.1") {
		t.Errorf("the second run's step summary shows no change against the base run's 0.80:\n%s", summary)
	}
	if got := second.outputs["conclusion"]; got != "success" {
		t.Errorf("output conclusion = %q, want success", got)
	}
	var metrics map[string]any
	if err := json.Unmarshal([]byte(second.outputs["metrics"]), &metrics); err != nil || metrics["accuracy"] != 0.9 {
		t.Errorf("output metrics = %q (%v), want accuracy 0.9", second.outputs["metrics"], err)
	}
	for _, name := range []string{"check-run-url", "comment-url", "cluster-id", "duration-seconds"} {
		if second.outputs[name] == "" {
			t.Errorf("output %s is empty; outputs: %v", name, second.outputs)
		}
	}
	if state := readFileCommands(t, filepath.Join(second.files, "state")); state["run-id"] != "9002-1" {
		t.Errorf("state run-id = %q, want 9002-1 (the post step sweeps by it)", state["run-id"])
	}
	// The job printed a workflow command; the runner must not see it act.
	if !regexp.MustCompile(`(?s)::stop-commands::(sear-[0-9a-f]{32})\n.*::set-output name=pwned::yes.*\n::(sear-[0-9a-f]{32})::\n`).MatchString(second.stdout) {
		t.Errorf("the job's output was not fenced by stop-commands:\n%s", second.stdout)
	}
	if !strings.Contains(second.stdout, "::group::sear: launch") || !strings.Contains(second.stdout, "::endgroup::") {
		t.Errorf("the phases are not grouped in the log:\n%s", second.stdout)
	}
}

func TestActionRefusesForkPullRequests(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	s := newStep(t, w, experiment(t, "0.5"), "pull_request", pullRequestEvent(8, forkSHA, "stranger/nlp"), experimentInputs)
	s.env["INPUT_GITHUB-TOKEN"] = forkTok
	s.run(t)
	if s.code != ExitFailure {
		t.Fatalf("exit %d, want %d\n%s\n%s", s.code, ExitFailure, s.stdout, s.stderr)
	}
	if strings.Contains(s.stdout, "sear: launch") || strings.Contains(s.stdout, "sear: keys") {
		t.Errorf("a refused fork pull request launched something:\n%s", s.stdout)
	}
	if !strings.Contains(s.stdout, "::error::pull request #8 comes from the fork stranger/nlp") {
		t.Errorf("no error annotation naming the fork:\n%s", s.stdout)
	}
	if got := s.outputs["conclusion"]; got != "action_required" {
		t.Errorf("conclusion = %q, want action_required", got)
	}
	// The fork's token is read-only: the refusal is in the step summary,
	// with a warning, not a failure to report.
	if !strings.Contains(s.file("summary"), "allow-fork-pull-requests") || !strings.Contains(s.stdout, "::warning::") {
		t.Errorf("want the refusal in the step summary and a warning about the read-only token:\nsummary:\n%s\nstdout:\n%s", s.file("summary"), s.stdout)
	}
	if state := s.file("state"); state != "" {
		t.Errorf("a refused run saved state for the post step: %q", state)
	}

	// Opting in runs it.
	s = newStep(t, w, experiment(t, "0.5"), "pull_request", pullRequestEvent(8, forkSHA, "stranger/nlp"), experimentInputs)
	s.env["INPUT_GITHUB-TOKEN"] = forkTok
	s.env["INPUT_ALLOW-FORK-PULL-REQUESTS"] = "true"
	if s.run(t); s.code != ExitOK {
		t.Fatalf("allowed fork run: exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
}

func TestActionConfigErrorsBecomeAnnotations(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	// The offending line, which the log quotes, also carries a workflow
	// command in the runner's legacy form, which it finds anywhere in a
	// line: the pull request's text must not act on the workflow.
	os.WriteFile(filepath.Join(ws, "ci/cluster.yaml"), []byte("!LocalCluster\nname: bad\nfactory_num: 2 # ##[set-output name=pwned]yes\n"), 0o644)
	s := newStep(t, w, ws, "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs).run(t)
	if s.code != ExitFailure {
		t.Fatalf("exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
	if strings.Contains(s.stdout, "sear: launch") {
		t.Errorf("a bad configuration launched something:\n%s", s.stdout)
	}
	if !strings.Contains(s.stdout, "    3 | factory_num: 2") {
		t.Errorf("the log does not show the offending line:\n%s", s.stdout)
	}
	for _, c := range runnerlog.Interpret(s.stdout).Commands {
		if c.Name == "set-output" {
			t.Errorf("the runner acted on the cluster file's %+v", c)
		}
	}
	if !strings.Contains(s.stdout, "::error col=1,file=ci/cluster.yaml,line=3,title=sear%3A invalid configuration::unknown field \"factory_num\"") {
		t.Errorf("no annotation on ci/cluster.yaml line 3:\n%s", s.stdout)
	}
	r := w.repo(t)
	if len(r.CheckRuns) != 1 {
		t.Fatalf("want one check run, got %d", len(r.CheckRuns))
	}
	cr := r.CheckRuns[0]
	if cr.Status != "completed" || cr.Conclusion != "failure" || len(cr.Annotations) != 1 {
		t.Fatalf("check run is %s/%s with %d annotation(s), want completed/failure with 1", cr.Status, cr.Conclusion, len(cr.Annotations))
	}
	if a := cr.Annotations[0]; a.Path != "ci/cluster.yaml" || a.StartLine != 3 || !strings.Contains(a.Message, "factories_num") {
		t.Errorf("annotation = %+v, want ci/cluster.yaml line 3 suggesting factories_num", a)
	}
}

func TestActionWithAReadOnlyTokenStillReports(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	s := newStep(t, w, experiment(t, "0.7"), "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs)
	s.env["INPUT_GITHUB-TOKEN"] = checksTok
	if s.run(t); s.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
	for _, want := range []string{"::warning::", "checks: write", "pull-requests: write"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("the log lacks %q:\n%s", want, s.stdout)
		}
	}
	summary := s.file("summary")
	for _, want := range []string{"succeeded", "accuracy", "0.7", "checks: write"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the step summary lacks %q:\n%s", want, summary)
		}
	}
	if r := w.repo(t); len(r.CheckRuns)+len(r.Comments) != 0 {
		t.Errorf("a read-only token posted %d check run(s) and %d comment(s)", len(r.CheckRuns), len(r.Comments))
	}
}

func TestActionReportsEveryInputProblemAtOnce(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	s := newStep(t, w, t.TempDir(), "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), map[string]string{
		"role-duration-seconds": "60", "report": "check,email", "working-directory": "../elsewhere",
		"secrets": `{"A": "one"`, "aws-role-arn": "sear-role",
	}).run(t)
	if s.code != ExitFailure {
		t.Fatalf("exit %d\n%s", s.code, s.stdout)
	}
	for _, want := range []string{"`runnable` is required", "`cluster` is required", "`role-duration-seconds` is \"60\"",
		"`report` has \"email\"", "`working-directory` is \"../elsewhere\"", "the `secrets` input", "`aws-role-arn` is \"sear-role\""} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("the log lacks %q:\n%s", want, s.stdout)
		}
	}
}

func TestActionMasksSecretsBeforeAnythingElse(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	os.WriteFile(filepath.Join(ws, "ci/train.py"), []byte(`import configparser, json, os
c = configparser.ConfigParser()
c.read(os.environ["SEAR_SECRETS"])
print("key is", c["SECRETS"]["api_key"])
json.dump({"x": 1}, open(os.path.join(os.environ["SEAR_OUTPUT_DIR"], "metrics.json"), "w"))
`), 0o644)
	in := map[string]string{"secrets": `{"API_KEY": "sk-live-4242-secret", "github_token": "ghs_x"}`}
	for k, v := range experimentInputs {
		in[k] = v
	}
	s := newStep(t, w, ws, "workflow_dispatch", map[string]any{}, in).run(t)
	if s.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
	// The masks come first: the value, its base64 forms, and the left-out
	// github_token's too.
	lines := strings.Split(s.stdout, "\n")
	masks := 0
	for masks < len(lines) && strings.HasPrefix(lines[masks], "::add-mask::") {
		masks++
	}
	head := strings.Join(lines[:masks], "\n")
	if !strings.Contains(head, "::add-mask::sk-live-4242-secret") || !strings.Contains(head, "::add-mask::ghs_x") {
		t.Errorf("the log does not start with the secrets' masks:\n%.400s", s.stdout)
	}
	if rest := strings.Join(lines[masks:], "\n"); strings.Contains(rest, "sk-live-4242-secret") ||
		!strings.Contains(s.stdout, "key is ***") {
		t.Errorf("the secret was printed, or the job's line is missing:\n%s", s.stdout)
	}
	if summary := s.file("summary"); strings.Contains(summary, "sk-live-4242-secret") {
		t.Errorf("the secret is in the step summary:\n%s", summary)
	}
	// An empty secrets-include sends them all: the log says which.
	if !strings.Contains(s.stdout, "all 1 secret goes to the nodes") || !strings.Contains(s.stdout, "API_KEY") {
		t.Errorf("the log does not say which secrets go to the nodes:\n%s", s.stdout)
	}
	// workflow_dispatch: a check run on GITHUB_SHA, no comment.
	if r := w.repo(t); len(r.CheckRuns) != 1 || len(r.Comments) != 0 {
		t.Errorf("workflow_dispatch: %d check run(s), %d comment(s); want 1 and 0", len(r.CheckRuns), len(r.Comments))
	}
}

func TestActionPostWithNothingLaunched(t *testing.T) {
	t.Parallel()
	for _, state := range []map[string]string{{}, {"STATE_run-id": "9001-1", "STATE_cluster-kind": "LocalCluster"}} {
		var out, errb bytes.Buffer
		code := Run(context.Background(), Process{Args: []string{"action", "post"}, Env: func(k string) string { return state[k] }, Stdout: &out, Stderr: &errb})
		if code != ExitOK || !strings.Contains(out.String(), "nothing to sweep") {
			t.Errorf("state %v: exit %d\n%s%s", state, code, out.String(), errb.String())
		}
	}
}

func TestActionCancelledCompletesTheCheckRun(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	os.WriteFile(filepath.Join(ws, "ci/train.py"), []byte("import time\nprint('started', flush=True)\ntime.sleep(120)\n"), 0o644)
	s := newStep(t, w, ws, "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	// The runner's SIGINT: cancel once the check run shows the job running.
	go func() {
		for ctx.Err() == nil {
			for _, cr := range w.repo(t).CheckRuns {
				if cr.Summary != nil && strings.Contains(*cr.Summary+deref(cr.Text), "job") && cr.Status == "in_progress" {
					cancel(errors.New("received interrupt"))
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	var out, errb bytes.Buffer
	code := Run(ctx, Process{Args: []string{"action"}, Env: func(k string) string { return s.env[k] }, Stdout: &out, Stderr: &errb})
	if code != ExitFailure {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	r := w.repo(t)
	if len(r.CheckRuns) != 1 || r.CheckRuns[0].Status != "completed" || r.CheckRuns[0].Conclusion != "cancelled" {
		t.Fatalf("check runs: %+v; want one completed as cancelled", r.CheckRuns)
	}
	if outs := readFileCommands(t, filepath.Join(s.files, "output")); outs["conclusion"] != "cancelled" {
		t.Errorf("conclusion output = %q, want cancelled", outs["conclusion"])
	}
	if !strings.Contains(out.String(), "sear: tearing down") {
		t.Errorf("no teardown after the cancel:\n%s", out.String())
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestActionCommandInputReplacesTheRunnable(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	in := map[string]string{"command": `echo "role=$SEAR_ROLE nodes=$SEAR_NUM_NODES" && echo '{"n": 3}' > "$SEAR_OUTPUT_DIR/metrics.json"`}
	for k, v := range experimentInputs {
		in[k] = v
	}
	s := newStep(t, w, experiment(t, "0.5"), "workflow_dispatch", map[string]any{}, in).run(t)
	if s.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
	if !strings.Contains(s.stdout, "role=orchestrator nodes=2") || strings.Contains(s.stdout, "training, accuracy") {
		t.Errorf("the command did not replace the runnable:\n%s", s.stdout)
	}
	if s.outputs["metrics"] != `{"n":3}` {
		t.Errorf("metrics output = %q", s.outputs["metrics"])
	}
}

func TestActionWithAPersonalTokenKeepsOneComment(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	for i, acc := range []string{"0.5", "0.6"} {
		s := newStep(t, w, experiment(t, acc), "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs)
		s.env["INPUT_GITHUB-TOKEN"] = personTok
		s.env["GITHUB_RUN_ID"] = fmt.Sprint(9100 + i)
		if s.run(t); s.code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, s.code, s.stdout, s.stderr)
		}
	}
	var ours []fakegithub.CommentState
	for _, c := range w.repo(t).Comments {
		if c.Author == "octocat" {
			ours = append(ours, c)
		}
	}
	if len(ours) != 1 || !strings.Contains(ours[0].Body, "0.6") {
		t.Fatalf("want one comment by the token's user, updated to the second run; got %d", len(ours))
	}
}

// TestActionFencesEveryPhasesOutput is the threat of workflow-command
// injection from what the nodes print: a setup command (the cluster
// file's, which a pull request controls) prints lines the runner would act
// on, an output set, a mask of a harmless word (which would hide it
// everywhere), a path added, and fails, so that sear quotes its output in
// the run's error. None may act: only sear's own commands do.
func TestActionFencesEveryPhasesOutput(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	os.WriteFile(filepath.Join(ws, "ci/cluster.yaml"), []byte(`!LocalCluster
name: fenced
factories_num: 1
setup_cmds:
  - 'echo "::set-output name=pwned::from-setup"; echo "::add-mask::accuracy"; echo "progress ##[add-path]/tmp/evil" >&2; exit 3'
`), 0o644)
	s := newStep(t, w, ws, "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs).run(t)
	if s.code != ExitFailure || !strings.Contains(s.stdout, "exited with status 3") {
		t.Fatalf("exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
	tr := runnerlog.Interpret(s.stdout + s.stderr)
	for _, c := range tr.Commands {
		switch c.Name {
		case "group", "endgroup", "warning", "error":
		default:
			t.Errorf("the runner acted on %+v, printed by a node", c)
		}
	}
	if len(tr.Masks) != 0 {
		t.Errorf("the runner registered masks %q, printed by a node", tr.Masks)
	}
	shown := strings.Join(tr.Shown, "\n")
	for _, want := range []string{"::set-output name=pwned::from-setup", "::add-mask::accuracy", "##[add-path]/tmp/evil"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the log does not show %q as text:\n%s", want, shown)
		}
	}
}

// TestActionRefusesConfigFilesLinkedOutOfTheWorkspace is the threat of a
// pull request that commits its cluster file as a symbolic link to one
// of the runner's files: sear would read it and quote its lines, a
// secret among them, in the log and the annotations.
func TestActionRefusesConfigFilesLinkedOutOfTheWorkspace(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	private := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(private, []byte("aws_secret_access_key: runner-private-value\n"), 0o600)
	os.Remove(filepath.Join(ws, "ci/cluster.yaml"))
	if err := os.Symlink(private, filepath.Join(ws, "ci/cluster.yaml")); err != nil {
		t.Fatal(err)
	}
	// A link that stays inside is the repository's own business.
	os.Rename(filepath.Join(ws, "ci/runnable.yaml"), filepath.Join(ws, "ci/real-runnable.yaml"))
	os.Symlink("real-runnable.yaml", filepath.Join(ws, "ci/runnable.yaml"))
	s := newStep(t, w, ws, "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs).run(t)
	if s.code != ExitFailure {
		t.Fatalf("exit %d\n%s", s.code, s.stdout)
	}
	if !strings.Contains(s.stdout, "ci/cluster.yaml is a symbolic link to a file outside the workspace") {
		t.Errorf("no error naming the link:\n%s", s.stdout)
	}
	if strings.Contains(s.stdout, "runnable.yaml is a symbolic link") {
		t.Errorf("a link inside the workspace was refused:\n%s", s.stdout)
	}
	r := w.repo(t)
	all := s.stdout + s.file("summary")
	for _, cr := range r.CheckRuns {
		all += deref(cr.Summary) + deref(cr.Text)
	}
	if strings.Contains(all, "runner-private-value") {
		t.Errorf("the linked file's contents reached the log or the report")
	}
}

// TestActionReportsMaskEveryFormOfASecret is the threat of a job that
// carries a secret into the reports, which GitHub does not mask: the
// metrics' names are the job's to choose, and the check run, the comment
// and the step summary show them. The job reads the secret from the INI
// and writes it, XML-escaped, base64-encoded at an odd offset and with an
// ANSI escape inside, as metric names.
func TestActionReportsMaskEveryFormOfASecret(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	os.WriteFile(filepath.Join(ws, "ci/train.py"), []byte(`import base64, configparser, html, json, os
c = configparser.ConfigParser(interpolation=None)
c.read(os.environ["SEAR_SECRETS"])
s = c["SECRETS"]["api_key"]
names = [html.escape(s), base64.b64encode(b"x" + s.encode()).decode(), s[:4] + "\x1b[1m" + s[4:]]
json.dump({n: 1.0 for n in names}, open(os.path.join(os.environ["SEAR_OUTPUT_DIR"], "metrics.json"), "w"))
`), 0o644)
	const secret = `sk<live>&"4242-secret`
	in := map[string]string{"secrets": `{"API_KEY": "sk<live>&\"4242-secret"}`}
	for k, v := range experimentInputs {
		in[k] = v
	}
	s := newStep(t, w, ws, "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), in).run(t)
	if s.code != ExitOK {
		t.Fatalf("exit %d\n%s", s.code, s.stdout)
	}
	r := w.repo(t)
	reports := map[string]string{"step summary": s.file("summary")}
	for _, cr := range r.CheckRuns {
		reports["check run"] += deref(cr.Summary) + deref(cr.Text)
	}
	for _, c := range r.Comments {
		reports["comment"] += c.Body
	}
	forms := []string{secret, "sk&lt;live&gt;&amp;&#34;4242-secret", "sk&lt;live&gt;&amp;&quot;4242-secret",
		strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("x"+secret)), "="), "live>&\"4242"}
	for where, text := range reports {
		if text == "" {
			t.Errorf("no %s", where)
		}
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("the %s shows the secret as %q:\n%s", where, f, text)
			}
		}
	}
}

// TestActionConfigErrorsRedactURLCredentials is the threat of a token
// written into an extension's location (https://user:token@host/...):
// an error on that line quotes it, and annotations and check runs are not
// masked by anyone.
func TestActionConfigErrorsRedactURLCredentials(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	os.WriteFile(filepath.Join(ws, "ci/runnable.yaml"), []byte("bad name: https://bob:ghp_tok123secret@example.com/o/r.git\n---\n!Script\nscript: train\n"), 0o644)
	s := newStep(t, w, ws, "pull_request", pullRequestEvent(7, headSHA, ghOwner+"/"+ghRepo), experimentInputs).run(t)
	if s.code != ExitFailure || !strings.Contains(s.stdout, "is not a Python module name") {
		t.Fatalf("exit %d, want the extension's name refused:\n%s", s.code, s.stdout)
	}
	all := s.stdout + s.file("summary")
	for _, cr := range w.repo(t).CheckRuns {
		all += deref(cr.Summary) + deref(cr.Text)
		for _, a := range cr.Annotations {
			all += a.Message + deref(a.RawDetails)
		}
	}
	if strings.Contains(all, "ghp_tok123secret") {
		t.Errorf("the token in the extension's URL reached the log, an annotation or the report:\n%s", all)
	}
}

// TestActionReportsOutputsCut: a job that writes more outputs than
// max-output-files allows gets the rest kept, and the reader is told what
// was cut, in a warning annotation and in the report.
func TestActionReportsOutputsCut(t *testing.T) {
	t.Parallel()
	w := newGHWorld(t)
	ws := experiment(t, "0.5")
	os.WriteFile(filepath.Join(ws, "ci/train.py"), []byte(`import json, os
out = os.environ["SEAR_OUTPUT_DIR"]
json.dump({"x": 1}, open(os.path.join(out, "metrics.json"), "w"))
for i in range(20):
    open(os.path.join(out, "f%02d.txt" % i), "w").write("x")
os.symlink("/etc/passwd", os.path.join(out, "link"))
`), 0o644)
	in := map[string]string{"max-output-files": "5"}
	for k, v := range experimentInputs {
		in[k] = v
	}
	s := newStep(t, w, ws, "workflow_dispatch", map[string]any{}, in).run(t)
	if s.code != ExitOK {
		t.Fatalf("exit %d\n%s", s.code, s.stdout)
	}
	var warned []string
	for _, c := range runnerlog.Interpret(s.stdout).Commands {
		if c.Name == "warning" {
			warned = append(warned, c.Data)
		}
	}
	if all := strings.Join(warned, "\n"); !strings.Contains(all, "outputs cut: kept 5 of") || !strings.Contains(all, "max-output-files") || !strings.Contains(all, "link") {
		t.Errorf("warnings %q do not say what was cut and skipped", warned)
	}
	if !strings.Contains(s.file("summary"), "outputs cut") {
		t.Errorf("the step summary does not say what was cut:\n%s", s.file("summary"))
	}
	entries, _ := os.ReadDir(filepath.Join(ws, "sear-output"))
	if len(entries) > 5 {
		t.Errorf("%d entries in the output directory, want at most 5", len(entries))
	}
}
