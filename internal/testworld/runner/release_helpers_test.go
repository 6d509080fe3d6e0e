package runner

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// release is what scripts/release made for a test: the image's reference by digest (what the
// release's action.yml names after docker://), the output directory, and the clone it released.
type release struct {
	Ref      string // 127.0.0.1:PORT/sear@sha256:...
	Out      string // action.yml, the binaries, SHA256SUMS, image, release-commit
	Clone    string // the repository the release was cut from
	Source   string // the commit released
	Registry *Registry
}

// cutRelease starts a registry for the test and runs scripts/release against it, with this
// machine's stand-in base image and module cache (--local-bases), on a clone of the repository at
// HEAD, so that the release commit it makes lands in the clone's object store, not the
// repository's. The script is the working tree's, so that an edit to it is what is tested.
func cutRelease(t testing.TB, version string) *release {
	t.Helper()
	// A cold build and four cross-compilations: minutes on a quiet machine, far more on a
	// loaded one.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	root := repoRoot(t)
	reg, err := StartRegistry(ctx, t.TempDir(), testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })

	clone := filepath.Join(t.TempDir(), "sear")
	git(t, root, "clone", "--quiet", "--shared", root, clone)
	script, err := os.ReadFile(filepath.Join(root, "scripts", "release"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clone, "scripts", "release"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &release{Out: filepath.Join(t.TempDir(), "dist"), Clone: clone, Registry: reg,
		Source: git(t, clone, "rev-parse", "HEAD")}
	cmd := exec.CommandContext(ctx, filepath.Join(clone, "scripts", "release"),
		"--registry", reg.Addr, "--version", version, "--out", r.Out, "--local-bases", "--commit")
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=sear release test", "GIT_AUTHOR_EMAIL=release@test.invalid",
		"GIT_COMMITTER_NAME=sear release test", "GIT_COMMITTER_EMAIL=release@test.invalid")
	// On the deadline, end docker build and go build too, not only bash, with a signal its EXIT
	// trap runs on (it stops the module server and removes its work directory).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, stderr.String())
	}
	t.Logf("scripts/release took %v", time.Since(start).Round(time.Second))
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	r.Ref = lines[len(lines)-1]
	t.Cleanup(func() {
		// The pulled image; the build cache keeps its layers for the next release.
		_, _ = dockerCLI(context.Background(), nil, "rmi", "--force", r.Ref)
	})
	return r
}

// forget removes every local name of the release's image, so that a job must pull it from the
// registry, as a runner that has never seen it does.
func (r *release) forget(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	repo, _, _ := strings.Cut(r.Ref, "@")
	out, err := dockerCLI(ctx, nil, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{r.Ref}
	for _, n := range strings.Fields(out) {
		if !strings.HasSuffix(n, ":<none>") {
			names = append(names, n)
		}
	}
	for _, n := range names {
		if _, err := dockerCLI(ctx, nil, "rmi", n); err != nil && !strings.Contains(strings.ToLower(docker.Stderr(err)), "no such image") {
			t.Fatalf("docker rmi %s: %v", n, err)
		}
	}
	if _, err := dockerCLI(ctx, nil, "image", "inspect", r.Ref); err == nil {
		t.Fatalf("%s is still in the engine after docker rmi; a job would not pull it", r.Ref)
	}
}

// releaseJob starts a world with the Docker backend and lays out a job whose action is the
// release's action.yml: its image is pulled from the registry, as the runner pulls a docker://
// action's image when it sets up the job.
func releaseJob(t *testing.T, r *release, opts world.Options) (*Job, *world.World) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	w, _, n := dockerWorld(t, opts)
	manifest := filepath.Join(r.Out, "action.yml")
	m, err := ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	image, err := ActionImage(ctx, m, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJob(ctx, JobOptions{Dir: t.TempDir(), World: w, Network: n, Image: image, Manifest: manifest, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	return j, w
}

// assertPullRequestRun runs the experiment's main and post steps of a pull_request job and checks
// what TestActionOnAPullRequest checks: outputs, state, summary, one successful check run, one
// comment, nothing left alive, a post step that finds nothing to sweep. TestActionOnAPullRequest
// and TestRelease both run it, on an image built and on one pulled.
func assertPullRequestRun(t *testing.T, j *Job, w *world.World) {
	t.Helper()
	r := run(t, j, Step{With: experiment(t, j, 0)})
	if r.ExitCode != 0 {
		t.Fatalf("main step exited %d\n%s\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	if r.Outputs["conclusion"] != "success" || !strings.Contains(r.Outputs["metrics"], `"accuracy":0.93`) || r.Outputs["cluster-id"] == "" {
		t.Errorf("outputs: %v", r.Outputs)
	}
	if r.State["run-id"] == "" || r.State["cluster-id"] != r.Outputs["cluster-id"] || r.State["cluster-kind"] != "AWSCluster" {
		t.Errorf("state for the post step: %v", r.State)
	}
	if !strings.Contains(r.Summary, "accuracy") || !strings.Contains(r.Summary, "0.93") {
		t.Errorf("step summary:\n%s", r.Summary)
	}
	gh := w.State().GitHub.Repos[0]
	if len(gh.CheckRuns) != 1 || gh.CheckRuns[0].Status != "completed" || gh.CheckRuns[0].Conclusion != "success" {
		t.Errorf("check runs: %+v", gh.CheckRuns)
	}
	if len(gh.Comments) != 1 || !strings.Contains(gh.Comments[0].Body, "accuracy") {
		t.Errorf("comments: %+v", gh.Comments)
	}
	if insts, groups := alive(w); len(insts)+len(groups) > 0 {
		t.Errorf("alive after the main step: %v %v", insts, groups)
	}
	p := run(t, j, Step{Stage: Post, With: experiment(t, j, 0), State: r.State})
	if p.ExitCode != 0 || !strings.Contains(p.Stdout, "swept cluster "+r.State["cluster-id"]+": 0 instance(s) and 0 security group(s)") {
		t.Errorf("post step exited %d:\n%s\n%s", p.ExitCode, p.Stdout, p.Stderr)
	}
}

// assertCancelled cancels a running job as the runner does (SIGINT, SIGTERM 7.5 s later, docker
// run killed at 10 s), runs the post step, and checks what TestActionCancelled checks: a
// TerminateInstances after the signal, a post step that succeeds, nothing left alive, a completed
// check run.
func assertCancelled(t *testing.T, j *Job, w *world.World) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	with := experiment(t, j, 600)
	c, err := j.Start(ctx, Step{With: with}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.WaitOutput(ctx, "training started"); err != nil {
		out, errs := c.Output()
		t.Fatalf("the job never started: %v\n%s\n%s", err, out, errs)
	}
	signalled := time.Now()
	if err := c.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := c.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	terminated := false
	for _, call := range w.State().Calls.EC2 {
		if call.Action == "TerminateInstances" && call.Time.After(signalled) {
			terminated = true
		}
	}
	if !terminated {
		t.Errorf("no TerminateInstances after the SIGINT:\n%s\n%s", r.Stdout, r.Stderr)
	}
	p := run(t, j, Step{Stage: Post, With: with, State: r.State})
	if p.ExitCode != 0 {
		t.Errorf("post step exited %d:\n%s\n%s", p.ExitCode, p.Stdout, p.Stderr)
	}
	if insts, groups := alive(w); len(insts)+len(groups) > 0 {
		t.Errorf("alive after the cancel and the post step: instances %v, security groups %v\nmain:\n%s\npost:\n%s", insts, groups, r.Stdout, p.Stdout)
	}
	if cr := w.State().GitHub.Repos[0].CheckRuns; len(cr) != 1 || cr[0].Status != "completed" {
		t.Errorf("the check run did not complete: %+v", cr)
	}
}

// git runs git in dir and returns its output, trimmed.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
