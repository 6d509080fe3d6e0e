package command

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/syncbuf"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// TestMatrixJobsDoNotSweepEachOther is the threat of one job's post step
// ending another job's cluster: every job of a workflow run (a matrix's,
// or the other jobs of a rerun) has the same GITHUB_RUN_ID and
// GITHUB_RUN_ATTEMPT, so a post step that sweeps by run id terminates its
// siblings' nodes mid-run. Here job B's cluster is booting when job A,
// of the same run, fails early and its post step runs: B's nodes must
// live on, and B's own teardown must still end them.
func TestMatrixJobsDoNotSweepEachOther(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond})
	const runID = "8900"
	cluster := func(timeout string) string {
		return "!AWSCluster\nname: matrix\nfactories_num: 2\nfactories_type: t3.micro\norchestrator_type: t3.small\nready_timeout: " + timeout + "\nmax_duration: 10m\n"
	}
	wsB := workspace(t, "", cluster("2m"))
	envB, _ := awsActionEnv(t, w, wsB, runID)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var outB syncbuf.Buffer
	doneB := make(chan int)
	go func() {
		doneB <- Run(ctx, Process{Args: []string{"action"}, Env: func(k string) string { return envB[k] }, Stdout: &outB, Stderr: &outB})
	}()
	waitFor(t, "job B's nodes", func() bool { return len(liveInstances(w, runID+"-1")) == 3 })
	nodesB := liveInstances(w, runID+"-1")

	wsA := workspace(t, "", cluster("2s"))
	envA, filesA := awsActionEnv(t, w, wsA, runID)
	if code, stdout, _ := sear(t, envA, "action"); code != ExitFailure || !strings.Contains(stdout, "ready_timeout") {
		t.Fatalf("job A: exit %d, want a failure at ready_timeout:\n%s", code, stdout)
	} else if !strings.Contains(stdout, "`sear sweep --cluster-id sear-") || strings.Contains(stdout, "sweep --run-id") {
		t.Errorf("job A's advice must sweep its own cluster, not the whole run (job B's too):\n%s", stdout)
	}
	post := map[string]string{}
	for k, v := range envA {
		post[k] = v
	}
	for k, v := range readFileCommands(t, filepath.Join(filesA, "state")) {
		post["STATE_"+k] = v
	}
	if code, stdout, stderr := sear(t, post, "action", "post"); code != ExitOK {
		t.Fatalf("job A's post step: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := liveInstances(w, runID+"-1"); len(got) != len(nodesB) {
		t.Errorf("job A's post step ended job B's nodes: live before %v, after %v", nodesB, got)
	}

	cancel(errors.New("received interrupt"))
	select {
	case <-doneB:
	case <-time.After(3 * time.Minute):
		t.Fatal("job B did not end after its cancel")
	}
	nothingLeft(t, w, runID+"-1", outB.String(), "")
}

// liveInstances are the instances of a run not yet terminated.
func liveInstances(w *world.World, runID string) []string {
	insts, _ := live(w, runID)
	return insts
}

// TestActionPostSweepsTheRetryCluster: with spot_retry, the main step picks the on-demand
// retry's cluster id before anything is launched and saves it beside the first, so that a post
// step after a main step that died during the retry sweeps that cluster too.
func TestActionPostSweepsTheRetryCluster(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond})
	const runID = "8901"
	ws := workspace(t, "", "!AWSCluster\nname: retry\nfactories_num: 0\nfactories_type: t3.micro\norchestrator_type: t3.small\n"+
		"spot: true\nspot_retry: on-demand\nready_timeout: 2s\nmax_duration: 10m\n")
	env, files := awsActionEnv(t, w, ws, runID)
	if code, stdout, _ := sear(t, env, "action"); code != ExitFailure {
		t.Fatalf("exit %d, want a failure at ready_timeout:\n%s", code, stdout)
	}
	state := readFileCommands(t, filepath.Join(files, "state"))
	first, retry := state["cluster-id"], state["retry-cluster-id"]
	if !strings.HasPrefix(first, "sear-") || !strings.HasPrefix(retry, "sear-") || first == retry {
		t.Fatalf("state %v: want two cluster ids", state)
	}
	post := map[string]string{}
	for k, v := range env {
		post[k] = v
	}
	for k, v := range state {
		post["STATE_"+k] = v
	}
	code, stdout, stderr := sear(t, post, "action", "post")
	if code != ExitOK || !strings.Contains(stdout, "swept cluster "+first+":") || !strings.Contains(stdout, "swept cluster "+retry+":") {
		t.Errorf("post step: exit %d, want both clusters swept\n%s%s", code, stdout, stderr)
	}
	nothingLeft(t, w, runID+"-1", stdout, stderr)
}
