package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if probeDir != "" {
		os.RemoveAll(probeDir)
	}
	os.Exit(code)
}

// TestImageShape checks the image as GitHub's runner will find it: root (no USER), the binary
// as the exec-form entry point, action.yml's two entry points as links beside it, and a static
// binary, which the runtime image (FROM scratch: no C library) needs.
func TestImageShape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ref, err := Image(ctx, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	out, err := dockerCLI(ctx, nil, "image", "inspect", "--format", "{{json .Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}", ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"" ["/usr/local/bin/sear"] null`; out != want {
		t.Errorf("user, entrypoint, cmd = %s, want %s", out, want)
	}

	// The files, straight from a created (never started) container.
	name := "sear-runner-shape-" + randomHex(4)
	if _, err := dockerCLI(ctx, nil, "create", "--name", name, ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = dockerCLI(context.Background(), nil, "rm", name) })
	var archive bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "cp", name+":/usr/local/bin", "-")
	cmd.Stdout = &archive
	if err := cmd.Run(); err != nil {
		t.Fatal("docker cp:", err)
	}
	links := map[string]string{}
	var binary []byte
	for tr := tar.NewReader(&archive); ; {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeSymlink:
			links[filepath.Base(h.Name)] = h.Linkname
		case tar.TypeReg:
			if filepath.Base(h.Name) == "sear" {
				binary, _ = io.ReadAll(tr)
			}
		}
	}
	m, err := ReadManifest(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range []string{m.Entrypoint, m.PostEntrypoint} {
		if filepath.Dir(entry) != "/usr/local/bin" || links[filepath.Base(entry)] != "sear" {
			t.Errorf("action.yml's entry point %s: links in /usr/local/bin are %v, want %s -> sear", entry, links, filepath.Base(entry))
		}
	}
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		t.Fatalf("/usr/local/bin/sear (%d bytes): %v", len(binary), err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/usr/local/bin/sear asks for a dynamic loader; the runtime image has none (build with CGO_ENABLED=0)")
		}
	}
}

// TestRunnerEnvironment runs the probe in the action's image exactly as the runner runs the
// action, and checks what the process gets: root, the workspace as its directory, every input
// (with a hyphen in its name, and defaults evaluated), the runner's variables with paths
// translated to the container's, the event payload, and the world, over the job's network.
func TestRunnerEnvironment(t *testing.T) {
	t.Parallel()
	j, w := newJob(t, world.Options{})
	env := map[string]string{}
	for _, kv := range w.EnvAt(j.network.Gateway) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	s := probeStep(t, "env", "get", env["SEAR_TESTWORLD_URL"]+world.ControlPrefix+"/state", "get", env["SEAR_CHECKIP_URL"])
	s.With = map[string]string{"aws-role-arn": w.Seed().RoleARN, "runnable": "examples/script/runnable.yaml"}
	r := run(t, j, s)
	if r.ExitCode != 0 {
		t.Fatalf("probe exited %d:\n%s\n%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	lines := strings.SplitN(r.Stdout, "\n", 2)
	var got struct {
		UID, GID int
		Dir      string
		Env      []string
		Event    struct {
			Number      int
			PullRequest struct {
				Head struct{ SHA string }
			} `json:"pull_request"`
		}
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("probe's output: %v\n%s", err, r.Stdout)
	}
	if got.UID != 0 || got.GID != 0 || got.Dir != "/github/workspace" {
		t.Errorf("uid %d, gid %d, dir %s; want root in /github/workspace", got.UID, got.GID, got.Dir)
	}
	if got.Event.Number != 7 || got.Event.PullRequest.Head.SHA != w.Seed().HeadSHA {
		t.Errorf("event payload: %+v, want pull request 7 at %s", got.Event, w.Seed().HeadSHA)
	}
	in := map[string]string{}
	for _, kv := range got.Env {
		k, v, _ := strings.Cut(kv, "=")
		in[k] = v
	}
	for name, want := range map[string]string{
		"INPUT_AWS-ROLE-ARN":             w.Seed().RoleARN,
		"INPUT_RUNNABLE":                 "examples/script/runnable.yaml",
		"INPUT_CLUSTER":                  "",                   // required, not given: empty
		"INPUT_GITHUB-TOKEN":             w.Seed().GitHubToken, // ${{ github.token }}
		"INPUT_ROLE-DURATION-SECONDS":    "3600",
		"INPUT_ALLOW-FORK-PULL-REQUESTS": "false",
		"GITHUB_ACTIONS":                 "true",
		"CI":                             "true",
		"HOME":                           "/github/home",
		"GITHUB_WORKSPACE":               "/github/workspace",
		"GITHUB_EVENT_PATH":              "/github/workflow/event.json",
		"GITHUB_EVENT_NAME":              "pull_request",
		"GITHUB_REF":                     "refs/pull/7/merge",
		"GITHUB_SHA":                     w.Seed().SHA,
		"GITHUB_REPOSITORY":              w.Seed().Repository,
		"GITHUB_API_URL":                 env["GITHUB_API_URL"],
		"ACTIONS_ID_TOKEN_REQUEST_URL":   env["ACTIONS_ID_TOKEN_REQUEST_URL"],
		"AWS_ENDPOINT_URL_STS":           env["AWS_ENDPOINT_URL_STS"],
		"RUNNER_TEMP":                    j.Temp, // untranslated, as on the runner
	} {
		if v, ok := in[name]; !ok || v != want {
			t.Errorf("%s = %q (set: %v), want %q", name, v, ok, want)
		}
	}
	if v, ok := in["GITHUB_TOKEN"]; ok {
		t.Errorf("GITHUB_TOKEN = %q; the runner does not set it for an action", v)
	}
	for _, v := range []string{"GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"} {
		if !strings.HasPrefix(in[v], "/github/file_commands/") {
			t.Errorf("%s = %q, want a file under /github/file_commands", v, in[v])
		}
	}
	if !strings.Contains(env["SEAR_TESTWORLD_URL"], j.network.Gateway.String()) {
		t.Fatalf("the container's SEAR_TESTWORLD_URL %s does not name the gateway %s", env["SEAR_TESTWORLD_URL"], j.network.Gateway)
	}
	for _, want := range []string{"/_testworld/state 200", env["SEAR_CHECKIP_URL"] + " 200"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("the container did not reach the world (%q):\n%s%s", want, r.Stdout, r.Stderr)
		}
	}
}

// TestFileCommands: what a main step writes to its file commands is read back, and its state
// reaches the post step as STATE_<name>, with fresh file command files.
func TestFileCommands(t *testing.T) {
	t.Parallel()
	j, _ := newJob(t, world.Options{})
	main := run(t, j, probeStep(t, "files"))
	if main.ExitCode != 0 {
		t.Fatalf("probe exited %d: %s", main.ExitCode, main.Stderr)
	}
	if want := map[string]string{"plain": "one=two", "multi": "line 1\n\nline 3"}; !equal(main.Outputs, want) {
		t.Errorf("outputs %q, want %q", main.Outputs, want)
	}
	if want := map[string]string{"run-id": "run-1234"}; !equal(main.State, want) {
		t.Errorf("state %q, want %q", main.State, want)
	}
	if main.Summary != "## probe\n" {
		t.Errorf("summary %q", main.Summary)
	}

	post := probeStep(t, "env")
	post.Stage, post.State = Post, main.State
	r := run(t, j, post)
	if !strings.Contains(r.Stdout, `"STATE_run-id=run-1234"`) {
		t.Errorf("the post step's environment has no STATE_run-id=run-1234:\n%s", r.Stdout)
	}
	if len(r.Outputs) != 0 || len(r.State) != 0 || r.Summary != "" {
		t.Errorf("the post step's file commands are not fresh: %+v", r)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCancel runs the runner's whole cancel sequence on a process that survives SIGINT and
// SIGTERM: both reach it through docker run, 7.5 s apart; docker run is killed 2.5 s later; the
// container outlives it, as on the runner, until Close.
func TestCancel(t *testing.T) {
	t.Parallel()
	j, _ := newJob(t, world.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := j.Start(ctx, probeStep(t, "signals"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if err := c.WaitOutput(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	r, err := c.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != -1 || !strings.Contains(r.Stdout, "got interrupt\ngot terminated\n") {
		t.Errorf("exit %d, output %q; want docker run killed after the process got both signals", r.ExitCode, r.Stdout)
	}
	if took < SIGINTGrace+SIGTERMGrace || took > SIGINTGrace+SIGTERMGrace+5*time.Second {
		t.Errorf("the cancel sequence took %v, want %v", took, SIGINTGrace+SIGTERMGrace)
	}
	if out, err := dockerCLI(ctx, nil, "container", "inspect", "--format", "{{.State.Running}}", c.Name); err != nil || out != "true" {
		t.Errorf("after the sequence the container is running: %q %v; want true, as on the runner", out, err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dockerCLI(ctx, nil, "container", "inspect", c.Name); !isNotFound(err) {
		t.Errorf("after Close: %v, want no such container", err)
	}
}

// TestSignalAndKill: one signal reaches the process; Kill ends it at once (docker run's status
// 137, the process killed by SIGKILL).
func TestSignalAndKill(t *testing.T) {
	t.Parallel()
	j, _ := newJob(t, world.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := j.Start(ctx, probeStep(t, "signals"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if err := c.WaitOutput(ctx, "ready"); err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitOutput(ctx, "got terminated"); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := c.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 137 {
		t.Errorf("exit %d after docker kill, want 137", r.ExitCode)
	}
}

// TestSearActionEntrypoint runs action.yml's entry points. The main one, with a bad hyphenated
// input and no runnable or cluster: sear must name each problem, which shows that the inputs
// arrived (Debian's /bin/sh would have dropped INPUT_MAX-DURATION), and find the runner's
// variables it needs. Then the post one.
func TestSearActionEntrypoint(t *testing.T) {
	t.Parallel()
	j, _ := newJob(t, world.Options{})
	r := run(t, j, Step{With: map[string]string{"max-duration": "forever"}})
	out := r.Stdout + r.Stderr
	if r.ExitCode != 1 {
		t.Errorf("exit %d, want 1", r.ExitCode)
	}
	for _, want := range []string{"`runnable`", "`cluster`", "`max-duration`", `"forever"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not name %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "GITHUB_WORKSPACE is not set") || strings.Contains(out, "GITHUB_REPOSITORY") {
		t.Errorf("sear did not find the runner's variables:\n%s", out)
	}

	// The post step, with the state the main step saved (none: it launched nothing), is the
	// post-entrypoint's link: sear action post, which finds nothing to sweep.
	post := run(t, j, Step{Stage: Post, With: map[string]string{"max-duration": "forever"}, State: r.State})
	if post.ExitCode != 0 {
		t.Errorf("post step exited %d:\n%s%s", post.ExitCode, post.Stdout, post.Stderr)
	}
}

// TestSearPlanInImage runs the image's binary itself on an example: the static binary runs in
// the scratch runtime and reads the workspace.
func TestSearPlanInImage(t *testing.T) {
	t.Parallel()
	j, _ := newJob(t, world.Options{})
	if err := os.CopyFS(j.Workspace, os.DirFS(filepath.Join(repoRoot(t), "examples", "quickstart"))); err != nil {
		t.Fatal(err)
	}
	r := run(t, j, Step{Entrypoint: "/usr/local/bin/sear", Args: []string{"plan", "--runnable", "runnable.yaml", "--cluster", "cluster.yaml"}})
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "python3 -m train --epochs 40 --lr 0.05") {
		t.Errorf("sear plan exited %d:\n%s%s", r.ExitCode, r.Stdout, r.Stderr)
	}
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := RepositoryRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
