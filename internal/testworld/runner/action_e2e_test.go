package runner

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// The action end to end: the image built from the repository's Dockerfile, run the way the
// Actions runner runs a Docker action, against the test world, with instances that are real
// containers where a job has to run.

// dockerJob starts a world whose instances are containers, on the Docker backend's network
// (which the action's container joins, as the runner's job network), and lays out a job for it.
func dockerJob(t *testing.T, opts world.Options) (*Job, *world.World) {
	t.Helper()
	w, _, n := dockerWorld(t, opts)
	return jobFor(t, w, n), w
}

// dockerWorld starts a world with the Docker backend, listening on the backend network's
// gateway too. Everything is gone when the test ends.
func dockerWorld(t *testing.T, opts world.Options) (*world.World, *docker.Backend, Network) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	b, err := docker.New(ctx, docker.Options{Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := InspectNetwork(ctx, b.Network())
	if err != nil {
		_ = b.Close(context.Background())
		t.Fatal(err)
	}
	opts.Backend, opts.ListenAlso = b, []netip.Addr{n.Gateway}
	w := world.StartForTest(t, opts)
	return w, b, n
}

// experiment writes an experiment into the job's workspace: a job that prints, sleeps for
// sleep seconds, and writes metrics; a 1 + 1 !AWSCluster.
func experiment(t *testing.T, j *Job, sleep int) map[string]string {
	t.Helper()
	files := map[string]string{
		"exp/train.py": `import json, os, time
print("training started", flush=True)
time.sleep(` + strconv.Itoa(sleep) + `)
json.dump({"accuracy": 0.93, "loss": [0.9, 0.4, 0.2]}, open(os.path.join(os.environ["SEAR_OUTPUT_DIR"], "metrics.json"), "w"))
print("training done")
`,
		"exp/runnable.yaml": "!Script\nscript: train\n",
		"exp/cluster.yaml": `!AWSCluster
name: e2e
factories_num: 1
factories_type: t3.small
orchestrator_type: t3.small
ready_timeout: 3m
max_duration: 10m
`,
	}
	for name, body := range files {
		p := filepath.Join(j.Workspace, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{"working-directory": "exp", "runnable": "runnable.yaml", "cluster": "cluster.yaml", "aws-role-arn": world.RoleARN}
}

// alive lists the instances that are not terminated and the security groups of sear's runs.
func alive(w *world.World) (instances, groups []string) {
	st := w.State().EC2
	for _, i := range st.Instances {
		if i.State != "terminated" {
			instances = append(instances, i.ID+" ("+i.State+")")
		}
	}
	for _, g := range st.SecurityGroups {
		if g.Tags["sear:cluster-id"] != "" && !g.Deleted {
			groups = append(groups, g.ID)
		}
	}
	return instances, groups
}

func ec2Calls(w *world.World, action string) int {
	n := 0
	for _, c := range w.State().Calls.EC2 {
		if c.Action == action {
			n++
		}
	}
	return n
}

func TestActionOnAPullRequest(t *testing.T) {
	t.Parallel()
	j, w := dockerJob(t, world.Options{})
	assertPullRequestRun(t, j, w)
}

func TestActionOnWorkflowDispatch(t *testing.T) {
	t.Parallel()
	j, w := dockerJob(t, world.Options{Event: "workflow_dispatch"})
	r := run(t, j, Step{With: experiment(t, j, 0)})
	if r.ExitCode != 0 || r.Outputs["conclusion"] != "success" {
		t.Fatalf("main step exited %d, outputs %v\n%s\n%s", r.ExitCode, r.Outputs, r.Stdout, r.Stderr)
	}
	gh := w.State().GitHub.Repos[0]
	if len(gh.CheckRuns) != 1 || gh.CheckRuns[0].Conclusion != "success" || len(gh.Comments) != 0 {
		t.Errorf("workflow_dispatch: check runs %+v, comments %d; want one successful check run and no comment", gh.CheckRuns, len(gh.Comments))
	}
}

func TestActionRefusesAFork(t *testing.T) {
	t.Parallel()
	j, w := newJob(t, world.Options{Fork: true})
	r := run(t, j, Step{With: experiment(t, j, 0)})
	if r.ExitCode != 1 || r.Outputs["conclusion"] != "action_required" {
		t.Fatalf("exit %d, outputs %v\n%s\n%s", r.ExitCode, r.Outputs, r.Stdout, r.Stderr)
	}
	if n := ec2Calls(w, "RunInstances") + ec2Calls(w, "CreateSecurityGroup"); n != 0 || len(w.State().Calls.STS) != 0 {
		t.Errorf("a refused fork made %d EC2 create calls and %d STS calls", n, len(w.State().Calls.STS))
	}
	if !strings.Contains(r.Summary, "allow-fork-pull-requests") {
		t.Errorf("the step summary does not say why:\n%s", r.Summary)
	}
}

func TestActionConfigErrors(t *testing.T) {
	t.Parallel()
	j, w := newJob(t, world.Options{})
	with := experiment(t, j, 0)
	os.WriteFile(filepath.Join(j.Workspace, "exp/cluster.yaml"), []byte("!AWSCluster\nname: e2e\nfactories_num: two\n"), 0o644)
	r := run(t, j, Step{With: with})
	if r.ExitCode != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "::error ") || !strings.Contains(r.Stdout, "file=exp/cluster.yaml,line=3") {
		t.Errorf("no annotation on exp/cluster.yaml line 3:\n%s", r.Stdout)
	}
	if len(w.State().Calls.EC2)+len(w.State().Calls.STS) != 0 {
		t.Errorf("a bad configuration called AWS: %d EC2 and %d STS calls", len(w.State().Calls.EC2), len(w.State().Calls.STS))
	}
	cr := w.State().GitHub.Repos[0].CheckRuns
	if len(cr) != 1 || cr[0].Conclusion != "failure" || len(cr[0].Annotations) == 0 || cr[0].Annotations[0].Path != "exp/cluster.yaml" {
		t.Errorf("check runs: %+v", cr)
	}
}

// TestActionCancelled cancels the workflow while the job runs, as the runner does: SIGINT, SIGTERM
// 7.5 s later, docker run killed at 10 s; then the post step runs. Nothing may be left alive.
func TestActionCancelled(t *testing.T) {
	t.Parallel()
	j, w := dockerJob(t, world.Options{})
	assertCancelled(t, j, w)
}

// TestActionLocalClusterInTheImage: the image has no shell or Python for a !LocalCluster's
// nodes; the user is told so on the cluster file, and nothing runs.
func TestActionLocalClusterInTheImage(t *testing.T) {
	t.Parallel()
	j, w := newJob(t, world.Options{})
	with := experiment(t, j, 0)
	os.WriteFile(filepath.Join(j.Workspace, "exp/cluster.yaml"), []byte("!LocalCluster\nname: here\n"), 0o644)
	r := run(t, j, Step{With: with})
	if r.ExitCode != 1 || !strings.Contains(r.Stdout, "file=exp/cluster.yaml,line=1") || !strings.Contains(r.Stdout, "use an !AWSCluster here") {
		t.Fatalf("exit %d\n%s\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	if len(w.State().Calls.EC2)+len(w.State().Calls.STS) != 0 {
		t.Errorf("AWS was called")
	}
}
