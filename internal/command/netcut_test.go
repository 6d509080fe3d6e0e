package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/syncbuf"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// netcutLines is how many numbered lines the job prints, one every 100 ms.
const netcutLines = 150

// The orchestrator drops off the network for a few seconds in the middle
// of the job (a partition: its processes go on, nothing reaches it), then
// comes back at the same address. The job's log, streamed live, still
// shows every line exactly once and in order, and the run succeeds.
func TestLogSurvivesANetworkCut(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	dir := t.TempDir()
	job := fmt.Sprintf("import time\nfor i in range(1, %d):\n    print('line %%03d' %% i, flush=True)\n    time.sleep(0.1)\n", netcutLines+1)
	os.WriteFile(filepath.Join(dir, "job.py"), []byte(job), 0o644)
	os.WriteFile(filepath.Join(dir, "runnable.yaml"), []byte("!Script\nscript: job\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(`!AWSCluster
name: netcut
factories_num: 0
factories_type: t3.small
orchestrator_type: t3.small
ready_timeout: 3m
max_duration: 5m
`), 0o644)
	const runID = "5151-1"
	env := worldEnv(w, map[string]string{"GITHUB_RUN_ID": "5151", "GITHUB_RUN_ATTEMPT": "1"})
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), Process{
			Args: []string{"run", "--runnable", dir + "/runnable.yaml", "--cluster", dir + "/cluster.yaml",
				"--workspace", dir, "--output-dir", t.TempDir(), "--aws-role-arn", world.RoleARN},
			Env: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr,
		})
	}()

	if !waitUntil(3*time.Minute, done, func() bool { return strings.Contains(stdout.String(), "line 020") }) {
		t.Fatalf("the job's log never reached line 20\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	id := orchestratorOf(w, runID)
	if id == "" {
		t.Fatalf("no running orchestrator tagged with run %s", runID)
	}
	ctx := context.Background()
	if err := w.Cut(ctx, id); err != nil {
		t.Fatal(err)
	}
	cutAt := lastLine(stdout.String())
	time.Sleep(5 * time.Second)
	if err := w.Restore(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("cut %s off the network at %q for 5s", id, cutAt)

	var code int
	select {
	case code = <-done:
	case <-time.After(4 * time.Minute):
		t.Fatalf("sear run did not finish\nstdout:\n%s", stdout.String())
	}
	out := stdout.String()
	if code != ExitOK || !strings.Contains(out, "sear: job succeeded") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	checkNumberedLines(t, out, netcutLines)
	if strings.Contains(out, "reconnecting") {
		t.Logf("the log stream reconnected: %s", regexp.MustCompile(`(?m)^sear: log stream.*$`).FindString(out))
	}
}

// checkNumberedLines fails unless out holds "line 001" to "line <n>",
// each once, in order.
func checkNumberedLines(t *testing.T, out string, n int) {
	t.Helper()
	var got []string
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, "line ") {
			got = append(got, line)
		}
	}
	for i, line := range got {
		if want := fmt.Sprintf("line %03d", i+1); line != want {
			t.Fatalf("log line %d is %q, want %q (a line lost or repeated); the job's lines:\n%s", i+1, line, want, strings.Join(got, "\n"))
		}
	}
	if len(got) != n {
		t.Fatalf("%d numbered lines in the log, want %d", len(got), n)
	}
}

// orchestratorOf is the running orchestrator instance of a run.
func orchestratorOf(w *world.World, runID string) string {
	for _, i := range w.State().EC2.Instances {
		if i.Tags["sear:run-id"] == runID && i.Tags["Role"] == "Orchestrator" && i.State == "running" {
			return i.ID
		}
	}
	return ""
}

// waitUntil polls cond until it holds, the run ends (done) or d passes.
func waitUntil(d time.Duration, done <-chan int, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		select {
		case <-done: // the run ended early; the caller reports its output
			return cond()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// lockedBuffer collects output that goroutines write while the test reads it.
type lockedBuffer = syncbuf.Buffer
