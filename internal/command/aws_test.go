package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/awsauth"
	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// dockerWorld is one test world whose instances are containers, shared by
// the tests of this file (the image and network are slow to make).
var (
	dockerWorldOnce sync.Once
	dockerWorldVal  *world.World
	dockerWorldErr  error
)

func testWorld(t *testing.T) *world.World {
	t.Helper()
	dockerWorldOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		var log bytes.Buffer
		b, err := docker.New(ctx, docker.Options{Log: &log})
		if err != nil {
			dockerWorldErr = err
			return
		}
		dockerWorldVal, dockerWorldErr = world.Start(ctx, world.Options{Backend: b, BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond})
		if dockerWorldErr != nil {
			b.Close(context.Background())
		}
	})
	if dockerWorldErr != nil {
		t.Fatal(dockerWorldErr)
	}
	return dockerWorldVal
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dockerWorldVal != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := dockerWorldVal.Close(ctx); err != nil {
			os.Stderr.WriteString("closing the test world: " + err.Error() + "\n")
			code = 1
		}
		cancel()
	}
	os.Exit(code)
}

// worldEnv is the environment a workflow step would see in the world.
func worldEnv(w *world.World, extra map[string]string) map[string]string {
	env := map[string]string{}
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["HOME"] = os.Getenv("HOME")
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// live lists the instances and security groups of a run that still exist.
func live(w *world.World, runID string) (instances, groups []string) {
	st := w.State().EC2
	for _, i := range st.Instances {
		if i.Tags["sear:run-id"] == runID && i.State != "terminated" {
			instances = append(instances, i.ID+" ("+i.State+")")
		}
	}
	for _, g := range st.SecurityGroups {
		if g.Tags["sear:run-id"] == runID && !g.Deleted {
			groups = append(groups, g.ID)
		}
	}
	return instances, groups
}

// A 1 + 4 node !AWSCluster comes up in the test world (EC2 emulated, the
// instances real containers booted with sear's user data), every node is
// reached over SSH with its pinned key and runs the setup command, the job
// runs on the orchestrator, and afterwards nothing of the run is alive.
func TestRunOnEC2(t *testing.T) {
	w := testWorld(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "job.py"), []byte(`import os, glob
print("nodes", os.environ["SEAR_NUM_NODES"], "factories", os.environ["SEAR_FACTORIES"])
os.makedirs(os.environ["SEAR_OUTPUT_DIR"], exist_ok=True)
open(os.path.join(os.environ["SEAR_OUTPUT_DIR"], "metrics.json"), "w").write('{"acc": 0.5}')
`), 0o644)
	os.WriteFile(filepath.Join(dir, "runnable.yaml"), []byte("!Script\nscript: job\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(`!AWSCluster
name: e2e
factories_num: 4
factories_type: t3.small
orchestrator_type: t3.small
setup_cmds:
  - echo "setup on $SEAR_ROLE $SEAR_RANK of $(hostname)" > "$HOME/setup-ran"
ready_timeout: 3m
max_duration: 5m
`), 0o644)
	const runID = "4242-1"
	env := worldEnv(w, map[string]string{"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTOR": "octocat"})
	out := t.TempDir()
	code, stdout, stderr := sear(t, env, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml",
		"--workspace", dir, "--output-dir", out, "--aws-role-arn", world.RoleARN)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"nodes 5 factories ", "sear: job succeeded", "metric acc"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	var launched int
	for _, i := range w.State().EC2.Instances {
		if i.Tags["sear:run-id"] == runID {
			launched++
		}
	}
	if launched != 5 {
		t.Errorf("%d instances tagged with run %s, want 5", launched, runID)
	}
	if insts, groups := live(w, runID); len(insts)+len(groups) > 0 {
		t.Errorf("left alive after the run: instances %v, security groups %v", insts, groups)
	}
}

// Layer 3 of teardown: a node whose runner vanished (nothing calls
// Teardown) shuts itself down at its expiry, as sear's user data arms it,
// and EC2 terminates it (InstanceInitiatedShutdownBehavior=terminate).
func TestDeadMansSwitchTerminatesTheNode(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	env := worldEnv(w, nil)
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	cfg, err := awsauth.Config(ctx, awsauth.Options{RoleARN: world.RoleARN, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.ParseCluster("cluster.yaml", []byte("!AWSCluster\nname: orphan\nfactories_num: 0\nfactories_type: t3.small\norchestrator_type: t3.small\n"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.New(keys.Options{Nodes: 1, Lifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := ec2.New(cfg, ec2.Options{CheckIPURL: env["SEAR_CHECKIP_URL"], Timing: ec2.Timing{Poll: 100 * time.Millisecond}})
	// Within the minute: shutdown -h +1 is the shortest the switch arms.
	expires := time.Now().Add(50 * time.Second)
	nodes, err := p.Launch(ctx, cloud.Spec{Cluster: c, Keys: k, RunID: "orphan-1", Repository: world.DefaultRepository, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Teardown(context.Background()) }) // only if the test failed before the switch
	id := nodes[0].ID
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var inst *fakeec2.InstanceState
		for _, i := range w.State().EC2.Instances {
			if i.ID == id {
				inst = &i
			}
		}
		if inst != nil && inst.State == "terminated" {
			if !strings.Contains(inst.StateReason, "InstanceInitiatedShutdown") {
				t.Errorf("terminated for %q, want the instance's own shutdown", inst.StateReason)
			}
			if time.Now().Before(expires.Add(-5 * time.Second)) {
				t.Errorf("terminated at %v, before its expiry %v", time.Now(), expires)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s still %v three minutes after launch; its deadline was %v", id, inst, expires)
		}
		time.Sleep(time.Second)
	}
}
