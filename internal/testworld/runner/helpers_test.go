package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// newJob starts a world on a network of its own (the runner's job network's stand-in), listening
// on the network's gateway, and lays a job out for it. Everything is gone when the test ends.
func newJob(t testing.TB, opts world.Options) (*Job, *world.World) {
	t.Helper()
	ctx := context.Background()
	n, err := CreateNetwork(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last in, first out: the world lets go of the gateway before the network goes.
	t.Cleanup(func() {
		if err := n.Remove(context.Background()); err != nil {
			t.Error(err)
		}
	})
	opts.ListenAlso = append(opts.ListenAlso, n.Gateway)
	w := world.StartForTest(t, opts)
	return jobFor(t, w, n), w
}

// jobFor lays a job out for a world that listens on n's gateway.
func jobFor(t testing.TB, w *world.World, n Network) *Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	j, err := NewJob(ctx, JobOptions{Dir: t.TempDir(), World: w, Network: n, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// testLog writes the image build's progress to the test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", p)
	return len(p), nil
}

// probe builds the static test helper (testdata/probe) once per process into probeDir, which a
// step mounts at /probe.
var (
	probeOnce sync.Once
	probeDir  string
	probeErr  error
)

func probe() (string, error) {
	probeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sear-runner-probe-")
		if err != nil {
			probeErr = err
			return
		}
		probeDir = dir
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "probe"), "./testdata/probe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probeErr = &buildError{out: string(out), err: err}
		}
	})
	return probeDir, probeErr
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "build testdata/probe: " + e.err.Error() + ": " + e.out }

// probeStep is a step that runs the probe with args instead of the action's entry point.
func probeStep(t testing.TB, args ...string) Step {
	t.Helper()
	dir, err := probe()
	if err != nil {
		t.Fatal(err)
	}
	return Step{Entrypoint: "/probe/probe", Args: args, Mounts: []string{dir + ":/probe:ro"}}
}

// run runs a step to its end, failing the test if it cannot.
func run(t testing.TB, j *Job, s Step) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := j.Run(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
