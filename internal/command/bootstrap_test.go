package command

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/image"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// stockWorld is a test world whose default Ubuntu AMI, the one sear launches when the cluster
// file names none, boots the stock image: python3 and nothing else, as on stock Ubuntu. Its
// apt installs from the world's own package repository, and its pip has no index.
func stockWorld(t *testing.T) *world.World {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	st, err := image.EnsureStock(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := docker.New(ctx, docker.Options{
		Images:            map[string]string{fakeec2.UbuntuJammyImageID: st.Ref},
		PackageRepository: st.Repo,
	})
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Start(ctx, world.Options{Backend: b, BootDelay: 200 * time.Millisecond, TerminateDelay: 200 * time.Millisecond})
	if err != nil {
		b.Close(context.Background())
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Errorf("closing the stock world: %v", err)
		}
	})
	return w
}

// scriptExample copies examples/script into a workspace with its cluster file made small
// (1 + 2 nodes of small types, in the world's region) and setup appended.
func scriptExample(t *testing.T, name, setup string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"runnable.yaml", "train.py", "data/train.csv"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "script", f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "script", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	inSetup := false
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if inSetup && strings.HasPrefix(l, " ") {
			continue // the example's own setup:, replaced by the test's
		}
		inSetup = false
		switch k, _, _ := strings.Cut(l, ":"); k {
		case "setup":
			inSetup = true
			continue
		case "name":
			l = "name: " + name
		case "factories_num":
			l = "factories_num: 2"
		case "factories_type", "orchestrator_type":
			l = k + ": t3.small"
		case "region_name":
			continue
		case "max_duration":
			l = "max_duration: 10m"
		case "ready_timeout":
			l = "ready_timeout: 3m"
		}
		lines = append(lines, l)
	}
	os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(strings.Join(lines, "\n")+"\n"+setup), 0o644)
	for f, body := range files {
		os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644)
	}
	return dir
}

func runExample(t *testing.T, w *world.World, dir, runID string) (int, string, string) {
	t.Helper()
	run, attempt, _ := strings.Cut(runID, "-")
	env := worldEnv(w, map[string]string{"GITHUB_RUN_ID": run, "GITHUB_RUN_ATTEMPT": attempt, "GITHUB_ACTOR": "octocat"})
	code, stdout, stderr := sear(t, env, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml",
		"--workspace", dir, "--output-dir", t.TempDir(), "--aws-role-arn", world.RoleARN)
	if insts, groups := live(w, runID); len(insts)+len(groups) > 0 {
		t.Errorf("left alive after the run: instances %v, security groups %v", insts, groups)
	}
	return code, stdout, stderr
}

// examples/script (engine dask) on nodes with nothing pre-installed: with setup:, sear
// bootstraps every node from the distribution's packages (the world's repository) and runs
// the job green; with a requirements file that does not resolve, the bootstrap fails naming
// the node and the end of pip's log; without setup:, the run fails right after connect,
// before the upload, naming the missing distributed on every node and the fix.
func TestBootstrapOnStockImage(t *testing.T) {
	t.Parallel()
	w := stockWorld(t)
	// The three runs share the world (each has its run id) and run at
	// once: each bootstrap is minutes of apt and pip on the containers.

	t.Run("setup", func(t *testing.T) {
		t.Parallel()
		dir := scriptExample(t, "stock-setup", "setup:\n  engine_packages: system\n  requirements: requirements.txt\n",
			map[string]string{"requirements.txt": "# satisfied by the distribution's package, seen from the venv\ndistributed\n"})
		start := time.Now()
		code, stdout, stderr := runExample(t, w, dir, "5151-1")
		if code != ExitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		for _, want := range []string{"sear: bootstrap\n", "sear: bootstrap on stock-setup_factory_2 done in", ": apt-get ",
			"dask ready at tls://", "2 workers", "sear: job succeeded", "metric final_loss"} {
			if !strings.Contains(stdout+stderr, want) {
				t.Errorf("output lacks %q:\n%s", want, stdout)
			}
		}
		for _, l := range regexp.MustCompile(`(?m)^sear: (bootstrap on .*|phases: .*)$`).FindAllString(stdout, -1) {
			t.Log(l)
		}
		t.Logf("the whole run took %s", time.Since(start).Round(time.Second))
	})

	t.Run("unresolvable requirements", func(t *testing.T) {
		t.Parallel()
		dir := scriptExample(t, "stock-badreq", "setup:\n  engine_packages: system\n  requirements: requirements.txt\n",
			map[string]string{"requirements.txt": "sear-no-such-package==0.0.1\n"})
		code, stdout, stderr := runExample(t, w, dir, "5152-1")
		if code == ExitOK {
			t.Fatalf("exit 0\nstdout:\n%s", stdout)
		}
		out := stdout + stderr
		for _, want := range []string{"the bootstrap (setup:) failed in its requirements step",
			"stock-badreq_orchestrator: ", "No matching distribution found for sear-no-such-package==0.0.1"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "sear: engine\n") {
			t.Errorf("the engine step ran after a failed bootstrap:\n%s", out)
		}
	})

	t.Run("no setup", func(t *testing.T) {
		t.Parallel()
		dir := scriptExample(t, "stock-bare", "", nil)
		code, stdout, stderr := runExample(t, w, dir, "5153-1")
		if code == ExitOK {
			t.Fatalf("exit 0\nstdout:\n%s", stdout)
		}
		out := stdout + stderr
		for _, want := range []string{"3 of the cluster's nodes lack what the run needs",
			"the python3 module distributed (engine dask)", "add `setup: {}` to the cluster file", "use an image (orchestrator_ami, factory_ami)"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "sear: upload\n") {
			t.Errorf("the upload ran before the environment check failed:\n%s", out)
		}
	})
}
