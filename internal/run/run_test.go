package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/local"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/pipeline"
)

// terminating is a local provider that also has the fast terminate path,
// recording when it was called relative to the pipeline's cleanups.
type terminating struct {
	*local.Provider
	mu     sync.Mutex
	events []string
	block  chan struct{} // if set, Terminate waits for it (or its context)
}

func (p *terminating) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, s)
}

func (p *terminating) Terminate(ctx context.Context) error {
	p.note("terminate")
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.note("terminated")
	return nil
}

func (p *terminating) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.events, " ")
}

func parseInputs(t *testing.T, runnable, cluster string) (*config.Runnable, *config.Cluster) {
	t.Helper()
	r, err := config.ParseRunnable("runnable.yaml", []byte(runnable))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.ParseCluster("cluster.yaml", []byte(cluster))
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// jobWorkspace holds a job that says it started, then sleeps.
func jobWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	job := "import time\nprint('job started', flush=True)\ntime.sleep(60)\n"
	if err := os.WriteFile(filepath.Join(dir, "job.py"), []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// On a signal (ctx cancelled) the fast terminate goes out before any
// cleanup has run, and the secrets cleanup does not try to reach nodes
// that are being terminated.
func TestInterruptTerminatesBeforeCleanups(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: sig\nfactories_num: 1\n")
	p := &terminating{Provider: local.New()}
	ctx, cancel := context.WithCancelCause(context.Background())
	var log bytes.Buffer
	var logMu sync.Mutex
	res, err := Run(ctx, Options{
		Runnable: r, Cluster: c, SecretsINI: []byte("[S]\nk = v\n"), Workspace: jobWorkspace(t), OutputDir: t.TempDir(),
		Provider: p, Log: lockedWriter{&logMu, &log},
		Observe: func(e pipeline.Event) {
			if e.Phase == pipeline.PhaseCleanup && !e.Done {
				p.note("cleanup:" + e.Step)
			}
			if e.Step == "job" && !e.Done {
				go func() { time.Sleep(500 * time.Millisecond); cancel(errors.New("SIGINT")) }()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a cancelled run", err)
	}
	events := p.log()
	if !strings.HasPrefix(events, "terminate") {
		t.Errorf("events = %q, want the fast terminate before every cleanup", events)
	}
	for _, want := range []string{"terminated", "cleanup:upload", "cleanup:launch"} {
		if !strings.Contains(events, want) {
			t.Errorf("events = %q, lack %q", events, want)
		}
	}
	for _, ph := range res.Phases {
		if ph.Cleanup && ph.Err != nil {
			t.Errorf("cleanup %s failed: %v", ph.Name, ph.Err)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(log.String(), "interrupted (SIGINT): terminating") {
		t.Errorf("log does not say it terminates on the signal:\n%s", log.String())
	}
}

// A second signal (Abandon) ends the teardown's waits but never the
// terminate call a first signal started: Run returns only after it ends.
func TestAbandonKeepsTheTerminateCall(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: sig2\n")
	release := make(chan struct{})
	p := &terminating{Provider: local.New(), block: release}
	ctx, cancel := context.WithCancel(context.Background())
	abandon := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{
			Runnable: r, Cluster: c, Workspace: jobWorkspace(t), OutputDir: t.TempDir(), Provider: p, Abandon: abandon,
			Observe: func(e pipeline.Event) {
				if e.Step == "job" && !e.Done && e.Phase == pipeline.PhaseRun {
					go func() { time.Sleep(300 * time.Millisecond); cancel() }()
				}
			},
		})
		done <- err
	}()
	waitFor(t, func() bool { return strings.Contains(p.log(), "terminate") })
	close(abandon)
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while the terminate call was still out", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the terminate call ended")
	}
	if !strings.Contains(p.log(), "terminated") {
		t.Errorf("the terminate call was cut short: %q", p.log())
	}
}

// A run that ends normally never calls the fast terminate.
func TestNoInterruptNoFastTerminate(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: calm\n")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "job.py"), []byte("print('ok')\n"), 0o644)
	p := &terminating{Provider: local.New()}
	if _, err := Run(context.Background(), Options{Runnable: r, Cluster: c, Workspace: dir, OutputDir: t.TempDir(), Provider: p}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.log(), "terminate") {
		t.Errorf("fast terminate called on a calm run: %q", p.log())
	}
}

var _ cloud.Terminator = (*terminating)(nil)

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
