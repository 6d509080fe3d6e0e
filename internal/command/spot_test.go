package command

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/syncbuf"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// spotJob traps the cluster's spot_signal (SIGUSR1), prints when it came and what
// $SEAR_SPOT_NOTICE says, and exits 3, as a job that saved its checkpoint would; with
// "stay" in its argument it carries on instead, until the node goes.
const spotJob = `import os, signal, sys, time
def on(sig, frame):
    print("signalled at %.3f" % time.time(), flush=True)
    print("notice: " + open(os.environ["SEAR_SPOT_NOTICE"]).read().replace("\n", " "), flush=True)
    if "stay" not in sys.argv:
        sys.exit(3)
signal.signal(signal.SIGUSR1, on)
print("job started", flush=True)
while True:
    time.sleep(1)
`

// TestRunSpotInterruption: EC2 interrupts a spot node while the job runs, with a 3-second
// notice: the orchestrator itself (its watcher signals the job), or a factory (posted as the
// spot_interruption fault by rank; sear relays the notice to the job). The job gets
// spot_signal within 5 s of the notice, with the seconds left in $SEAR_SPOT_NOTICE; the run
// fails saying which node was interrupted; the report has the interruption; nothing is left.
func TestRunSpotInterruption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, runID, node string
		factories, rank   int
		stay              bool
	}{
		{"orchestrator, the job saves and exits", "8190", "spotty_orchestrator", 0, 0, false},
		{"factory, the job saves and exits", "8191", "spotty_factory_1", 1, 1, false},
		{"orchestrator, the job carries on until the node goes", "8192", "spotty_orchestrator", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spotInterruption(t, tc.runID, tc.node, tc.factories, tc.rank, tc.stay)
		})
	}
}

// runInterrupted runs `sear run` on the workspace dir in the world, and once the job prints
// "job started", has EC2 interrupt the spot node of rank with a notice of the given length. It
// returns sear's exit status, its output and the report file.
func runInterrupted(t *testing.T, w *world.World, dir, runID string, rank int, notice time.Duration) (code int, stdout, stderr, reportFile string) {
	t.Helper()
	reportFile = filepath.Join(t.TempDir(), "report.md")
	env := runEnv(w, runID)
	var out, errs syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		args := []string{"run", "--runnable", dir + "/runnable.yaml", "--cluster", dir + "/cluster.yaml", "--workspace", dir,
			"--output-dir", t.TempDir(), "--aws-role-arn", world.RoleARN, "--report-file", reportFile}
		done <- Run(context.Background(), Process{Args: args, Env: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errs})
	}()
	waitFor(t, "the job to start", func() bool { return strings.Contains(out.String(), "job started") })
	if err := w.SetFaults(world.Faults{EC2: &world.EC2Faults{SpotInterruption: []world.SpotInterruption{
		{Rank: &rank, Notice: world.Duration(notice)}}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case code = <-done:
	case <-time.After(8 * time.Minute):
		t.Fatalf("sear run still running 8 minutes after the interruption\nstdout:\n%s", out.String())
	}
	return code, out.String(), errs.String(), reportFile
}

func spotInterruption(t *testing.T, runID, node string, factories, rank int, stay bool) {
	w := faultWorld(t, true, world.Options{BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond})
	dir := workspace(t, spotJob, "!AWSCluster\nname: spotty\nfactories_num: "+strconv.Itoa(factories)+"\nfactories_type: t3.micro\norchestrator_type: t3.small\n"+
		"spot: true\nspot_signal: SIGUSR1\nready_timeout: 3m\nmax_duration: 5m\n")
	if stay {
		os.WriteFile(filepath.Join(dir, "runnable.yaml"), []byte("!Script\nscript: job\nargs: [stay]\n"), 0o644)
	}
	code, out, errs, reportFile := runInterrupted(t, w, dir, runID, rank, 3*time.Second)
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, out, errs)
	}

	var noticed time.Time
	for _, i := range w.State().EC2.Instances {
		if i.Tags["Name"] == node && i.SpotInterruption != nil {
			noticed = i.SpotInterruption.NoticedAt
		}
	}
	m := regexp.MustCompile(`signalled at ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil || noticed.IsZero() {
		t.Fatalf("the job was not signalled (notice at %v)\nstdout:\n%s\nstderr:\n%s", noticed, out, errs)
	}
	at, _ := strconv.ParseFloat(m[1], 64)
	delay := time.Duration((at - float64(noticed.UnixNano())/1e9) * float64(time.Second))
	t.Logf("notice to signal: %v", delay)
	if delay < 0 || delay > 5*time.Second {
		t.Errorf("the job got the signal %v after the notice, want at most 5s", delay)
	}
	if !regexp.MustCompile(`notice: SEAR_SPOT_ACTION=terminate SEAR_SPOT_TIME=\S+Z SEAR_SPOT_SECONDS_LEFT=[0-3] `).MatchString(out) {
		t.Errorf("the job's notice file is not as documented:\n%s", out)
	}
	for _, want := range []string{"spot interruption notice on " + node, "was interrupted by EC2"} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("the output lacks %q\nstdout:\n%s\nstderr:\n%s", want, out, errs)
		}
	}
	md, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{"#### Spot interruptions",
		"(?m)^\\| `" + node + "` \\| " + strconv.Itoa(rank) + " \\| [0-9-]+ [0-9:]+ \\| [0-9.]+s \\| terminate \\| `SIGUSR1` after [0-9.]+s \\|$",
		strings.ReplaceAll(node, "_", `\\_`) + ` \(rank ` + strconv.Itoa(rank) + `\) was interrupted by EC2`} {
		if !regexp.MustCompile(re).Match(md) {
			t.Errorf("the report has nothing matching %s:\n%s", re, md)
		}
	}
	if stay && (!strings.Contains(out+errs, node+", which EC2 interrupted, could not be reached to remove the secrets INI") ||
		strings.Contains(errs, "/dev/shm")) {
		// The node went with the job: its INI went with its RAM, which
		// is said, and is not one more error of the run.
		t.Errorf("the reclaimed node's secrets cleanup is not as documented\nstdout:\n%s\nstderr:\n%s", out, errs)
	}
	nothingLeft(t, w, runID+"-1", out, errs)
}

// retryJob resumes from its checkpoint when SEAR_CHECKPOINT_DIR has one; otherwise it waits,
// and on the spot signal saves the step it reached there and exits 3.
const retryJob = `import os, signal, sys, time
ck = os.path.join(os.environ["SEAR_CHECKPOINT_DIR"], "state", "step")
if os.path.exists(ck):
    print("resumed from step " + open(ck).read(), flush=True)
    sys.exit(0)
def on(sig, frame):
    os.makedirs(os.path.dirname(ck), exist_ok=True)
    open(ck, "w").write("41")
    print("saved step 41", flush=True)
    sys.exit(3)
signal.signal(signal.SIGUSR1, on)
print("job started", flush=True)
while True:
    time.sleep(1)
`

// TestRunSpotRetry: with spot_retry: on-demand, a job that a spot interruption ended runs once
// more, on an on-demand cluster of its own, from the checkpoint it saved in
// SEAR_CHECKPOINT_DIR on the signal: sear saves it from the orchestrator while EC2's notice
// lasts (the orchestrator's own, or, when a factory is interrupted, the orchestrator that
// outlives it) and restores it on the new orchestrator before the job starts. The run
// succeeds; the report has the interruption and says the job ran again from its checkpoint;
// one spot instance was interrupted and the retry's are on demand; nothing is left of either
// cluster.
func TestRunSpotRetry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, runID     string
		factories, rank int
	}{
		{"the orchestrator interrupted", "8193", 0, 0},
		{"a factory interrupted, the orchestrator saves", "8194", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spotRetry(t, tc.runID, tc.factories, tc.rank)
		})
	}
}

func spotRetry(t *testing.T, runID string, factories, rank int) {
	w := faultWorld(t, true, world.Options{BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond})
	dir := workspace(t, retryJob, "!AWSCluster\nname: retried\nfactories_num: "+strconv.Itoa(factories)+"\nfactories_type: t3.micro\norchestrator_type: t3.small\n"+
		"spot: true\nspot_retry: on-demand\nspot_signal: SIGUSR1\nready_timeout: 3m\nmax_duration: 5m\n")
	// A notice long enough for the save, as EC2's two minutes are.
	code, out, errs, reportFile := runInterrupted(t, w, dir, runID, rank, 20*time.Second)
	if code != ExitOK {
		t.Fatalf("exit %d, want %d: the retry should have succeeded\nstdout:\n%s\nstderr:\n%s", code, ExitOK, out, errs)
	}
	for _, want := range []string{"saved step 41", "saved the job's checkpoint from retried_orchestrator: 1 file\n",
		"spot_retry: running it once more on on-demand nodes",
		"restored the interrupted run's checkpoint (1 file) into SEAR_CHECKPOINT_DIR", "resumed from step 41"} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("the output lacks %q\nstdout:\n%s\nstderr:\n%s", want, out, errs)
		}
	}
	markets := map[string]int{}
	interrupted := 0
	for _, i := range w.State().EC2.Instances {
		markets[i.Market]++
		if i.SpotInterruption != nil {
			interrupted++
		}
	}
	if nodes := factories + 1; markets["spot"] != nodes || markets["on-demand"] != nodes || interrupted != 1 {
		t.Errorf("instances by market %v, %d interrupted; want %d spot, one of them interrupted, and the retry's %d on demand",
			markets, interrupted, nodes, nodes)
	}
	md, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#### Spot interruptions", "run again on on-demand nodes (spot\\_retry), from the checkpoint the interrupted job saved (1 file of SEAR\\_CHECKPOINT\\_DIR)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	nothingLeft(t, w, runID+"-1", out, errs)
}
