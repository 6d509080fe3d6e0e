package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// The tests of this file run `sear run` on an !AWSCluster in a test world
// of their own, whose EC2 misbehaves as AWS's does, and check what the
// user is told and that nothing of the run outlives it. What the EC2
// provider does with each fault in isolation is proved in
// internal/cloud/ec2; these prove the whole command, with its production
// pacing (2 s polls, the SDK's backoff) and its credentials.

// faultWorld starts a world for one test; dockerized, its instances are
// containers that run sear's user data and SSH.
func faultWorld(t *testing.T, dockerized bool, opts world.Options) *world.World {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if dockerized {
		var log bytes.Buffer
		b, err := docker.New(ctx, docker.Options{Log: &log})
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		opts.Backend = b
	}
	return world.StartForTest(t, opts)
}

// runEnv is a workflow step's environment in w for run id+"-1".
func runEnv(w *world.World, id string) map[string]string {
	return worldEnv(w, map[string]string{"GITHUB_RUN_ID": id, "GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTOR": "octocat"})
}

// searRun runs `sear run` on the workspace dir with the world's role.
func searRun(t *testing.T, env map[string]string, dir string, extra ...string) (code int, stdout, stderr string) {
	t.Helper()
	args := append([]string{"run", "--runnable", dir + "/runnable.yaml", "--cluster", dir + "/cluster.yaml",
		"--workspace", dir, "--output-dir", t.TempDir(), "--aws-role-arn", world.RoleARN}, extra...)
	return sear(t, env, args...)
}

// nothingLeft fails if anything of the run is alive in w.
func nothingLeft(t *testing.T, w *world.World, runID, stdout, stderr string) {
	t.Helper()
	if insts, groups := live(w, runID); len(insts)+len(groups) > 0 {
		t.Errorf("left alive after the run: instances %v, security groups %v\nstdout:\n%s\nstderr:\n%s", insts, groups, stdout, stderr)
	}
}

// callsOf counts the EC2 calls of action answered with code ("" for
// success).
func callsOf(w *world.World, action, code string) int {
	n := 0
	for _, c := range w.EC2().Calls() {
		if c.Action == action && c.ErrorCode == code && c.Params["DryRun"] != "true" {
			n++
		}
	}
	return n
}

// waitFor polls the world until cond holds; the bound only turns a hang
// into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 3 minutes", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hangingCluster never finishes booting in a world whose boot delay is an
// hour: the launch fails at ready_timeout, before any SSH (the memory
// backend's addresses are not to be dialled).
const hangingCluster = `!AWSCluster
name: faults
factories_num: 4
factories_type: t3.micro
orchestrator_type: t3.small
ready_timeout: 4s
max_duration: 10m
`

// TestRunUnderThrottling: with every second EC2 call answered
// RequestLimitExceeded, a whole run on real nodes succeeds, and its
// teardown, every call of which meets the throttle once, leaves nothing.
func TestRunUnderThrottling(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, true, world.Options{BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond,
		Faults: &world.Faults{EC2: &world.EC2Faults{Throttle: 0.5}}})
	dir := workspace(t, "print('throttled but done')\n", "!AWSCluster\nname: throttled\nfactories_num: 1\nfactories_type: t3.small\norchestrator_type: t3.small\nready_timeout: 3m\nmax_duration: 5m\n")
	code, stdout, stderr := searRun(t, runEnv(w, "8101"), dir)
	if code != ExitOK || !strings.Contains(stdout, "throttled but done") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	nothingLeft(t, w, "8101-1", stdout, stderr)
	for _, action := range []string{"RunInstances", "TerminateInstances", "DeleteSecurityGroup"} {
		if callsOf(w, action, "RequestLimitExceeded") == 0 {
			t.Errorf("no %s was throttled: the fault did not reach it", action)
		}
	}
}

// TestRunSpotFallbackReported: without spot capacity for the factories'
// type, they run on demand, the log says so as it happens, and the report
// shows each role's market; the run succeeds and leaves nothing.
func TestRunSpotFallbackReported(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, true, world.Options{BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond,
		Faults: &world.Faults{EC2: &world.EC2Faults{InsufficientCapacity: []string{"t3.micro/spot"}}}})
	dir := workspace(t, "print('ran')\n", "!AWSCluster\nname: spotty\nfactories_num: 1\nfactories_type: t3.micro\norchestrator_type: t3.small\nspot: true\nready_timeout: 3m\nmax_duration: 5m\n")
	report := filepath.Join(t.TempDir(), "report.md")
	code, stdout, stderr := searRun(t, runEnv(w, "8102"), dir, "--report-file", report)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "no spot capacity for t3.micro") || !strings.Contains(stdout, "launching spotty_factory_1 on demand instead") {
		t.Errorf("the log does not tell of the fallback:\n%s", stdout)
	}
	for _, i := range w.State().EC2.Instances {
		if want := map[string]string{"t3.micro": "on-demand", "t3.small": "spot"}[i.InstanceType]; i.Market != want {
			t.Errorf("%s (%s) ran on %s, want %s", i.Tags["Name"], i.InstanceType, i.Market, want)
		}
	}
	md, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []*regexp.Regexp{regexp.MustCompile("(?m)^\\|.*`t3\\.micro`.*\\| on-demand \\|"), regexp.MustCompile("(?m)^\\|.*`t3\\.small`.*\\| spot \\|")} {
		if !row.Match(md) {
			t.Errorf("the report has no row matching %s:\n%s", row, md)
		}
	}
	nothingLeft(t, w, "8102-1", stdout, stderr)
}

// TestRunPartialLaunch: all or nothing. When the factories cannot launch
// (no capacity for their type), the orchestrator that did launch is
// terminated, and the error names the field to change.
func TestRunPartialLaunch(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond,
		Faults: &world.Faults{EC2: &world.EC2Faults{InsufficientCapacity: []string{"t3.micro"}}}})
	dir := workspace(t, "", hangingCluster)
	code, stdout, stderr := searRun(t, runEnv(w, "8103"), dir)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{`factories_type "t3.micro"`, "InsufficientInstanceCapacity", "sear sweep --run-id 8103-1"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// One attempt per zone (the capacity failover), each launching the
	// orchestrator alone.
	if n := callsOf(w, "RunInstances", ""); n != 3 {
		t.Errorf("%d instances launched, want the orchestrator alone in each of 3 zones", n)
	}
	nothingLeft(t, w, "8103-1", stdout, stderr)
}

// TestRunNodeNeverAnswersSSH: a node whose network is cut from the moment
// it boots runs, as EC2 sees it, but SSH to it never answers. The run ends
// at ready_timeout with an error naming the node and the timeout, and
// nothing is left.
func TestRunNodeNeverAnswersSSH(t *testing.T) {
	t.Parallel()
	// EC2 says running only after 5 s; the cut comes as soon as the
	// container has started, long before sshd could answer.
	w := faultWorld(t, true, world.Options{BootDelay: 5 * time.Second, TerminateDelay: 200 * time.Millisecond})
	dir := workspace(t, "print('never')\n", "!AWSCluster\nname: mute\nfactories_num: 0\nfactories_type: t3.small\norchestrator_type: t3.small\nready_timeout: 15s\nmax_duration: 5m\n")
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := searRun(t, runEnv(w, "8104"), dir)
		done <- result{code, stdout, stderr}
	}()
	waitFor(t, "the node's container cut off", func() bool {
		insts := w.State().EC2.Instances
		return len(insts) == 1 && w.Cut(context.Background(), insts[0].ID) == nil
	})
	r := <-done
	if r.code != ExitFailure {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"mute_orchestrator", "not ready within ready_timeout 15s", "sear sweep --run-id 8104-1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	nothingLeft(t, w, "8104-1", r.stdout, r.stderr)
}

// TestRunOutlivesItsCredentials: the role's credentials last 6 s (STS
// would say an hour; the world shortens it), far less than the run. sear
// assumes the role again with a fresh OIDC token before they expire, so
// the launch and the teardown, which comes after the first credentials
// have expired, never meet a refusal, and nothing is left.
func TestRunOutlivesItsCredentials(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond, CredentialLifetime: 6 * time.Second})
	dir := workspace(t, "", strings.Replace(hangingCluster, "ready_timeout: 4s", "ready_timeout: 8s", 1))
	code, stdout, stderr := searRun(t, runEnv(w, "8105"), dir)
	if code != ExitFailure || !strings.Contains(stderr, "ready_timeout is 8s") {
		t.Fatalf("exit %d, want the launch to fail at ready_timeout\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	st := w.State()
	expired := 0
	for _, c := range st.Credentials {
		if c.Expired {
			expired++
		}
	}
	if expired == 0 {
		t.Errorf("no credentials expired during the run: %+v", st.Credentials)
	}
	t.Logf("%d role sessions assumed, %d expired by the end; %d EC2 calls", len(st.Credentials), expired, len(st.Calls.EC2))
	for _, c := range st.Calls.EC2 {
		if c.ErrorCode == "RequestExpired" || c.ErrorCode == "AuthFailure" {
			t.Errorf("EC2 refused %s: %s", c.Action, c.ErrorCode)
		}
	}
	if strings.Contains(stderr, "left behind") {
		t.Errorf("teardown left something:\n%s", stderr)
	}
	nothingLeft(t, w, "8105-1", stdout, stderr)
}

// TestRunCredentialsRevokedMidRun: the run's credentials stop working
// while its nodes boot (EC2 answers RequestExpired; the SDK's cache still
// deems them good). The launch fails, the teardown cannot delete anything,
// and the run fails with every leftover listed as an aws command and the
// sweep to run; `sear sweep --run-id`, with fresh credentials, then
// deletes them all.
func TestRunCredentialsRevokedMidRun(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond})
	dir := workspace(t, "", strings.Replace(hangingCluster, "ready_timeout: 4s", "ready_timeout: 2m", 1))
	env := runEnv(w, "8106")
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := searRun(t, env, dir)
		done <- result{code, stdout, stderr}
	}()
	waitFor(t, "every node launched", func() bool { return callsOf(w, "RunInstances", "") == 5 })
	w.ExpireCredentials()
	r := <-done
	if r.code != ExitFailure {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	insts, groups := live(w, "8106-1")
	if len(insts) != 5 || len(groups) != 1 {
		t.Fatalf("left: instances %v, groups %v; want the 5 nodes and the group (the credentials were refused)", insts, groups)
	}
	for _, want := range []string{"RequestExpired", "aws ec2 terminate-instances --region us-east-1 --instance-ids i-",
		"aws ec2 delete-security-group --region us-east-1 --group-id " + groups[0], "sear sweep --run-id 8106-1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, id := range insts {
		if id := strings.Fields(id)[0]; !strings.Contains(r.stderr, " "+id) {
			t.Errorf("leftover %s not named in the error", id)
		}
	}
	code, stdout, stderr := sear(t, env, "sweep", "--run-id", "8106-1", "--aws-role-arn", world.RoleARN)
	if code != ExitOK || !strings.Contains(stdout, "deleted 5 instance(s) and 1 security group(s)") {
		t.Fatalf("sweep: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	nothingLeft(t, w, "8106-1", stdout, stderr)
}

// TestRunDependencyViolationRetried: EC2 keeps a terminated instance's
// network interface for a few seconds, and refuses to delete the security
// group meanwhile (DependencyViolation). The teardown retries until the
// group goes, and the run reports no leftover.
func TestRunDependencyViolationRetried(t *testing.T) {
	t.Parallel()
	w := faultWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond,
		Faults: &world.Faults{EC2: &world.EC2Faults{InsufficientCapacity: []string{"t3.micro"}, ENIReleaseDelay: world.Duration(3 * time.Second)}}})
	dir := workspace(t, "", hangingCluster)
	code, stdout, stderr := searRun(t, runEnv(w, "8107"), dir)
	if code != ExitFailure || !strings.Contains(stderr, "InsufficientInstanceCapacity") {
		t.Fatalf("exit %d, want the launch to fail\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	n := callsOf(w, "DeleteSecurityGroup", "DependencyViolation")
	if n == 0 {
		t.Error("DeleteSecurityGroup never met DependencyViolation: the fault did not apply")
	}
	t.Logf("DeleteSecurityGroup refused %d time(s) before it succeeded", n)
	if callsOf(w, "DeleteSecurityGroup", "") != 1 || strings.Contains(stderr, "left behind") {
		t.Errorf("the group was not deleted in the end:\n%s", stderr)
	}
	nothingLeft(t, w, "8107-1", stdout, stderr)
}
