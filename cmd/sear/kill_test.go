package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// killCell is one cell of the kill matrix: a sear run on an !AWSCluster in
// a test world of its own, held at a phase, and a signal.
type killCell struct {
	t     *testing.T
	w     *world.World
	tap   *tap
	sear  *child
	runID string
	nodes int // instances the cluster has
}

// killPhase is a row of the matrix: where the signal lands.
type killPhase struct {
	name   string
	docker bool // the phase comes after SSH, which only the Docker backend serves
	// cluster is the cluster file.
	cluster string
	// setup sets faults and the tap's holds before sear starts.
	setup func(c *killCell)
	// reach returns once the run is in the phase, as the world and sear's
	// progress show it.
	reach func(c *killCell)
	// release lets held calls go on after the signal.
	release func(c *killCell)
}

// memoryCluster has 1 + 4 nodes that never finish booting (the world's boot
// delay is an hour), so no phase after the launch is ever reached and sear
// never dials the emulator's made-up private addresses.
const memoryCluster = `!AWSCluster
name: kill
factories_num: 4
factories_type: t3.micro
orchestrator_type: t3.small
ready_timeout: 10m
max_duration: 10m
`

// dockerCluster has 1 + 1 real nodes.
const dockerCluster = `!AWSCluster
name: kill
factories_num: 1
factories_type: t3.small
orchestrator_type: t3.small
ready_timeout: 3m
max_duration: 10m
`

var killPhases = []killPhase{
	{
		name: "security group created", cluster: memoryCluster,
		// The group's rules are held in transit: the group exists, and no
		// instance has been asked for.
		setup: func(c *killCell) { c.tap.holdRequests("AuthorizeSecurityGroupIngress") },
		reach: func(c *killCell) {
			until(c.t, c.sear, "the security group", func() bool {
				_, groups := leftovers(c.w)
				return len(groups) == 1 && c.tap.heldNow("AuthorizeSecurityGroupIngress") == 1
			})
			if n := c.tap.arrived("RunInstances"); n != 0 {
				c.t.Fatalf("%d RunInstances before the signal; the phase was not held", n)
			}
		},
		release: func(c *killCell) { c.tap.releaseRequests("AuthorizeSecurityGroupIngress") },
	},
	{
		name: "during RunInstances", cluster: memoryCluster,
		// EC2 launches every node, and no answer has reached sear: the
		// instances exist and sear knows none of their ids.
		setup: func(c *killCell) { c.tap.holdAnswers("RunInstances") },
		reach: func(c *killCell) {
			until(c.t, c.sear, "every RunInstances answered by EC2 and held", func() bool {
				insts, _ := leftovers(c.w)
				return len(insts) == c.nodes && c.tap.heldNow("RunInstances") == c.nodes
			})
		},
		release: func(c *killCell) { c.tap.releaseAnswers("RunInstances") },
	},
	{
		name: "waiting for SSH", docker: true, cluster: dockerCluster,
		// The nodes run but are cut off their network before sear learns
		// their ids, so SSH to them hangs as to a node whose sshd never
		// comes up; sear is then in its connect step.
		setup: func(c *killCell) { c.tap.holdAnswers("RunInstances") },
		reach: func(c *killCell) {
			until(c.t, c.sear, "every node running", func() bool {
				return c.tap.heldNow("RunInstances") == c.nodes && running(c.w) == c.nodes
			})
			for _, i := range c.w.EC2().State().Instances {
				if err := c.w.Cut(context.Background(), i.ID); err != nil {
					c.t.Fatal(err)
				}
			}
			c.tap.releaseAnswers("RunInstances")
			until(c.t, c.sear, "sear connecting", func() bool { return strings.Contains(c.sear.stdout.String(), "sear: connect\n") })
		},
		release: func(*killCell) {},
	},
	{
		name: "job running", docker: true, cluster: dockerCluster,
		reach: func(c *killCell) {
			until(c.t, c.sear, "the job's first line", func() bool { return strings.Contains(c.sear.stdout.String(), "job-started") })
		},
		release: func(*killCell) {},
	},
	{
		name: "during teardown", cluster: memoryCluster,
		// The factories' type has no capacity: the launch fails, and the
		// teardown terminates the orchestrator. EC2 accepts that
		// TerminateInstances; its answer is held.
		setup: func(c *killCell) {
			if err := c.w.SetFaults(world.Faults{EC2: &world.EC2Faults{InsufficientCapacity: []string{"t3.micro"}}}); err != nil {
				c.t.Fatal(err)
			}
			c.tap.holdAnswers("TerminateInstances")
		},
		reach: func(c *killCell) {
			until(c.t, c.sear, "the teardown's TerminateInstances", func() bool { return c.tap.heldNow("TerminateInstances") > 0 })
		},
		release: func(c *killCell) { c.tap.releaseAnswers("TerminateInstances") },
	},
}

// running counts the instances running in w.
func running(w *world.World) int {
	n := 0
	for _, i := range w.EC2().State().Instances {
		if i.State == "running" {
			n++
		}
	}
	return n
}

// TestKillMatrix delivers SIGINT, SIGTERM or SIGKILL to the real sear
// binary at each phase of a run on an !AWSCluster. After SIGINT or SIGTERM
// sear exits 1 and nothing of the run is left in the world. After SIGKILL,
// what is left (if anything) is deleted by `sear sweep --run-id`, and then
// nothing is left. Each cell has a world of its own, so the check is for
// the whole world, not only for what carries the run's tags.
func TestKillMatrix(t *testing.T) {
	t.Parallel()
	binary(t) // once, before the cells start their clocks
	signals := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL}
	for pi, ph := range killPhases {
		for si, sig := range signals {
			t.Run(ph.name+"/"+sigName(sig), func(t *testing.T) {
				t.Parallel()
				runKillCell(t, ph, sig, fmt.Sprintf("%d-1", 7100+10*pi+si))
			})
		}
	}
}

func sigName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL"}[s]
}

func runKillCell(t *testing.T, ph killPhase, sig syscall.Signal, runID string) {
	opts := world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond}
	if ph.docker {
		opts = world.Options{BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond}
	}
	w := startWorld(t, ph.docker, opts)
	c := &killCell{t: t, w: w, tap: newTap(t, w.URLs().EC2), runID: runID, nodes: nodesOf(ph.cluster)}
	if ph.setup != nil {
		ph.setup(c)
	}
	dir := killWorkspace(t, ph.cluster)
	c.sear = startSear(t, runnerEnv(t, w, runID, c.tap.URL()), "run", "--runnable", dir+"/runnable.yaml",
		"--cluster", dir+"/cluster.yaml", "--workspace", dir, "--output-dir", t.TempDir(), "--aws-role-arn", world.RoleARN)
	ph.reach(c)
	sent := c.sear.signal(t, sig)
	ph.release(c)
	code := c.sear.wait(t)
	insts, groups := leftovers(w)
	outcome := fmt.Sprintf("exit %d after %v, left %d instance(s) and %d group(s)",
		code, c.sear.exitedAt.Sub(sent).Round(time.Millisecond), len(insts), len(groups))

	if sig != syscall.SIGKILL {
		if code != 1 {
			t.Errorf("exit status %d after %v, want 1\n%s", code, sig, c.sear.output())
		}
		if len(insts)+len(groups) > 0 {
			t.Errorf("left after %v: instances %v, security groups %v\n%s", sig, insts, groups, c.sear.output())
		}
		t.Logf("outcome of %s: %s", t.Name(), outcome)
		return
	}
	if code != -1 {
		t.Errorf("exit status %d after SIGKILL, want the signal's", code)
	}
	// Calls in flight when sear died still reach EC2; sweep after them.
	until(t, nil, "the calls in flight to end", c.tap.idle)
	insts, groups = leftovers(w)
	sweep := startSear(t, runnerEnv(t, w, runID, ""), "sweep", "--run-id", runID, "--aws-role-arn", world.RoleARN)
	if code := sweep.wait(t); code != 0 {
		t.Fatalf("sear sweep --run-id %s: exit %d\n%s", runID, code, sweep.output())
	}
	// An instance already shutting down may end before the sweep finds it;
	// a group stays until deleted.
	var swept, sweptGroups int
	line := sweepLine.FindStringSubmatch(sweep.stdout.String())
	if line != nil {
		fmt.Sscan(line[1], &swept)
		fmt.Sscan(line[2], &sweptGroups)
	}
	if line == nil || swept > len(insts) || sweptGroups != len(groups) {
		t.Errorf("sweep after %d instance(s) and %d group(s) were left:\n%s", len(insts), len(groups), sweep.output())
	}
	if i, g := leftovers(w); len(i)+len(g) > 0 {
		t.Errorf("left after the sweep: instances %v, security groups %v\n%s", i, g, sweep.output())
	}
	t.Logf("outcome of %s: killed, left %d instance(s) and %d group(s); the sweep deleted %d and %d", t.Name(), len(insts), len(groups), swept, sweptGroups)
}

// sweepLine is sear sweep's summary.
var sweepLine = regexp.MustCompile(`deleted (\d+) instance\(s\) and (\d+) security group\(s\)`)

// nodesOf reads factories_num from a cluster file: the nodes are the
// factories and the orchestrator.
func nodesOf(cluster string) int {
	for _, l := range strings.Split(cluster, "\n") {
		var n int
		if _, err := fmt.Sscanf(l, "factories_num: %d", &n); err == nil {
			return n + 1
		}
	}
	return 1
}

// killWorkspace writes the cluster file, a !Script runnable and its job,
// which says it started and then runs until it is stopped.
func killWorkspace(t testing.TB, cluster string) string {
	dir := t.TempDir()
	files := map[string]string{
		"cluster.yaml":  cluster,
		"runnable.yaml": "!Script\nscript: job\n",
		"job.py":        "import time\nprint('job-started', flush=True)\ntime.sleep(600)\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestSecondSignal: a first SIGINT starts the teardown, whose first act is
// TerminateInstances; a second SIGINT, while that call is still on its way
// to EC2, abandons the teardown's waits but not the call. EC2 gets it (and
// terminates every node), and sear exits without waiting for the nodes to
// be terminated, which in this world takes an hour.
func TestSecondSignal(t *testing.T) {
	t.Parallel()
	w := startWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: time.Hour})
	p := newTap(t, w.URLs().EC2)
	const runID = "7200-1"
	dir := killWorkspace(t, memoryCluster)
	sear := startSear(t, runnerEnv(t, w, runID, p.URL()), "run", "--runnable", dir+"/runnable.yaml",
		"--cluster", dir+"/cluster.yaml", "--workspace", dir, "--output-dir", t.TempDir(), "--aws-role-arn", world.RoleARN)
	// Every RunInstances answer is in: sear knows all 5 ids, and its fast
	// terminate names them all without a lookup.
	until(t, sear, "every node launched", func() bool { return strings.Contains(sear.stdout.String(), "sear: launched 5 instances") })

	p.holdRequests("TerminateInstances")
	sear.signal(t, syscall.SIGINT)
	until(t, sear, "the fast TerminateInstances on its way", func() bool { return p.heldNow("TerminateInstances") > 0 })
	second := sear.signal(t, syscall.SIGINT)
	// The abandon has happened once sear says so; only then is the held
	// call let through, so a call the abandon cancelled would be dropped.
	until(t, sear, "the second signal taken", func() bool {
		return strings.Contains(sear.stderr.String(), "no longer waiting for the teardown")
	})
	p.releaseRequests("TerminateInstances")
	released := time.Now()
	code := sear.wait(t)
	states := instanceStates(w)

	if code != 1 {
		t.Errorf("exit status %d, want 1\n%s", code, sear.output())
	}
	// The first TerminateInstances is the fast one: the teardown's own
	// comes after its searches by tag. It reached EC2, and sear saw it
	// succeed (had the abandon cancelled it, sear would report it failed).
	fates := p.heldFates("TerminateInstances")
	if len(fates) == 0 || fates[0] != "forwarded" {
		t.Errorf("held TerminateInstances calls: %v, want the first forwarded to EC2", fates)
	}
	if strings.Contains(sear.stderr.String(), "terminate on interrupt") {
		t.Errorf("the fast terminate failed\n%s", sear.output())
	}
	terms := 0
	for _, call := range w.EC2().Calls() {
		if call.Action == "TerminateInstances" && call.Status == 200 && !call.Time.Before(second) && call.Params["InstanceId.5"] != "" {
			terms++
		}
	}
	if terms == 0 {
		t.Fatalf("no TerminateInstances of the 5 nodes reached EC2 after the second signal\n%s", sear.output())
	}
	// Terminated by the call, not by the test's end: each node is on its
	// way (shutting-down), none still pending.
	if slices.Contains(states, "pending") || !slices.Contains(states, "shutting-down") {
		t.Errorf("instance states after sear exited: %v, want every one shutting-down", states)
	}
	// It did not wait for them: not one is terminated yet.
	if slices.Contains(states, "terminated") {
		t.Errorf("instance states %v: sear waited for a termination it should have abandoned", states)
	}
	if !strings.Contains(sear.stderr.String(), "sear sweep --run-id "+runID) {
		t.Errorf("stderr does not say how to delete what is left\n%s", sear.output())
	}
	t.Logf("outcome of %s: exit %d %v after the release; TerminateInstances held: %v; instances %v",
		t.Name(), code, sear.exitedAt.Sub(released).Round(time.Millisecond), fates, states)
}

// launched counts the instances EC2 has created.
func launched(w *world.World) int { return len(w.EC2().State().Instances) }

func instanceStates(w *world.World) []string {
	var out []string
	for _, i := range w.EC2().State().Instances {
		out = append(out, i.State)
	}
	return out
}

// TestPostStepAfterSIGKILL is layer 2 of teardown: the main step dies
// without a teardown (SIGKILL, or the runner losing it) while its nodes
// boot, and its credentials expire. The action's post step, given only the
// ids the main step saved in action state, assumes the role afresh
// with a new OIDC token and deletes everything of the run.
func TestPostStepAfterSIGKILL(t *testing.T) {
	t.Parallel()
	w := startWorld(t, false, world.Options{BootDelay: time.Hour, TerminateDelay: 100 * time.Millisecond})
	const runID = "7500-1"
	dir := killWorkspace(t, memoryCluster)
	env := runnerEnv(t, w, runID, "")
	main := startSear(t, env, "run", "--runnable", dir+"/runnable.yaml",
		"--cluster", dir+"/cluster.yaml", "--workspace", dir, "--output-dir", t.TempDir(), "--aws-role-arn", world.RoleARN)
	until(t, main, "every node launched", func() bool { return launched(w) == 5 })
	main.signal(t, syscall.SIGKILL)
	main.wait(t)
	w.ExpireCredentials()
	if insts, groups := leftovers(w); len(insts) != 5 || len(groups) != 1 {
		t.Fatalf("after SIGKILL: instances %v, groups %v; want the 5 nodes and the group", insts, groups)
	}

	// The cluster id the action's main step would have saved.
	clusterID := w.EC2().State().Instances[0].Tags["sear:cluster-id"]
	post := startSear(t, append(env, "STATE_run-id="+runID, "STATE_cluster-id="+clusterID, "STATE_cluster-kind=AWSCluster", "INPUT_AWS-ROLE-ARN="+world.RoleARN),
		"action", "post")
	if code := post.wait(t); code != 0 {
		t.Fatalf("post step: exit %d\n%s", code, post.output())
	}
	if !strings.Contains(post.stdout.String(), "5 instance(s) and 1 security group(s)") {
		t.Errorf("the post step does not tell what it swept\n%s", post.output())
	}
	if i, g := leftovers(w); len(i)+len(g) > 0 {
		t.Errorf("left after the post step: instances %v, groups %v\n%s", i, g, post.output())
	}
	fresh := 0
	for _, c := range w.State().Credentials {
		if !c.Expired {
			fresh++
		}
	}
	if fresh == 0 {
		t.Error("the post step swept with no fresh credentials: the expired ones should have been refused")
	}
}
