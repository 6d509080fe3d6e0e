package command

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/runnerlog"
	"github.com/sear-ci/sear/internal/testworld/syncbuf"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// TestActionMasksRefreshedCredentialsInsideTheFence is the threat of a
// credential refresh while the job's output streams, where workflow
// commands are stopped: the runner prints an ::add-mask:: it ignores as
// plain text, so the new secret access key, session token and OIDC token
// (which assumes the role) would be in clear in the log. The run here is
// cancelled while its job runs, as a superseded push cancels it; sear
// terminates the nodes at once, and with credentials that live 6 s every
// call made then refreshes them. Read as the runner reads it, the log must
// show none of the values sear masked, and the runner must act on no
// command the job printed.
func TestActionMasksRefreshedCredentialsInsideTheFence(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, true, world.Options{BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond, CredentialLifetime: 6 * time.Second})
	ws := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("job.py", "import time\nprint('::set-output name=pwned::yes')\nprint('started', flush=True)\ntime.sleep(120)\n")
	write("runnable.yaml", "!Script\nscript: job\n")
	write("cluster.yaml", "!AWSCluster\nname: fence\nfactories_num: 0\nfactories_type: t3.small\norchestrator_type: t3.small\nready_timeout: 3m\nmax_duration: 5m\n")
	env, _ := awsActionEnv(t, w, ws, "8801")
	var out syncbuf.Buffer
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		for ctx.Err() == nil {
			if strings.Contains(out.String(), "started") {
				cancel(errors.New("received interrupt"))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	code := Run(ctx, Process{Args: []string{"action"}, Env: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out})
	log := out.String()
	if code != ExitFailure || !strings.Contains(log, "started") {
		t.Fatalf("exit %d, want a cancelled run that had started its job:\n%s", code, log)
	}
	var masked []string
	for _, line := range strings.Split(log[strings.Index(log, "started"):], "\n") {
		if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
			masked = append(masked, v)
		}
	}
	if len(masked) == 0 {
		t.Fatalf("no credentials were masked after the job started, so this test proves nothing:\n%s", log)
	}
	tr := runnerlog.Interpret(log)
	for _, line := range tr.Shown {
		for _, v := range masked {
			if strings.Contains(line, v) {
				t.Fatalf("the log shows a credential in clear: %q", line)
			}
		}
	}
	for _, c := range tr.Commands {
		if c.Name == "set-output" {
			t.Errorf("the runner acted on the job's %+v", c)
		}
	}
	t.Logf("%d values masked after the job started", len(masked))
	nothingLeft(t, w, "8801-1", log, "")
}

// awsActionEnv is the environment of the action's main step, run as
// workflow_dispatch on workspace ws in world w, for the workflow run
// runID (attempt 1), with the world's role and a report in the step
// summary only. files is where its file commands (state, output) go.
func awsActionEnv(t *testing.T, w *world.World, ws, runID string) (env map[string]string, files string) {
	t.Helper()
	files = t.TempDir()
	ev := filepath.Join(files, "event.json")
	if err := os.WriteFile(ev, []byte(`{"inputs": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return worldEnv(w, map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_EVENT_PATH": ev,
		"GITHUB_REPOSITORY": world.DefaultRepository, "GITHUB_SHA": headSHA, "GITHUB_RUN_ID": runID, "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_OUTPUT": filepath.Join(files, "output"), "GITHUB_STATE": filepath.Join(files, "state"),
		"GITHUB_STEP_SUMMARY": filepath.Join(files, "summary"),
		"INPUT_RUNNABLE":      "runnable.yaml", "INPUT_CLUSTER": "cluster.yaml", "INPUT_REPORT": "summary",
		"INPUT_AWS-ROLE-ARN": world.RoleARN,
	}), files
}
