package run

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/imds"
)

// noticeSource is one Spot Instance whose notice a test posts.
type noticeSource struct {
	mu     sync.Mutex
	action *imds.Action
}

func (s *noticeSource) MetadataInstance(id string) (imds.Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return imds.Instance{ID: id, Spot: true, TokensRequired: true, Action: s.action}, true
}

// TestSpotWatcher runs the watcher program as a node runs it, against the test world's IMDSv2
// at AWS_EC2_METADATA_SERVICE_ENDPOINT: nothing happens until the notice; then the notice file
// is written, the job's process group gets the signal, and the marker tells sear when.
func TestSpotWatcher(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("the spot watcher is python3, which every node has:", err)
	}
	src := &noticeSource{}
	srv := imds.New(src)
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { srv.ServeInstance(rw, r, "i-0abc") }))
	defer hs.Close()

	job := t.TempDir()
	// The job: a process group of its own that records the signal, as the detached job is.
	jobCmd := exec.Command("sh", "-c", `trap 'cat "$0/spot-notice" > "$0/got"; exit 0' USR1; while :; do sleep 0.1; done`, job)
	jobCmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := jobCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-jobCmd.Process.Pid, syscall.SIGKILL); _ = jobCmd.Wait() }()
	os.WriteFile(filepath.Join(job, "pid"), []byte(fmt.Sprint(jobCmd.Process.Pid)), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := exec.CommandContext(ctx, "python3", "-c", spotWatcher, job, "SIGUSR1", "1", fmt.Sprint(time.Now().Add(time.Minute).Unix()))
	w.Env = append(os.Environ(), "AWS_EC2_METADATA_SERVICE_ENDPOINT="+hs.URL+"/")
	var out strings.Builder
	w.Stdout, w.Stderr = &out, &out
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Wait() }()

	time.Sleep(1500 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(job, spotMarkerFile)); err == nil {
		t.Fatal("a marker before any notice")
	}
	at := time.Now().Add(2 * time.Minute).Truncate(time.Second)
	noticed := time.Now()
	src.mu.Lock()
	src.action = &imds.Action{Action: "terminate", Time: at}
	src.mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the watcher: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no reaction 10 s after the notice\n%s", out.String())
	}
	var m struct {
		Action      string   `json:"action"`
		Time        string   `json:"time"`
		SignalledAt *float64 `json:"signalled_at"`
	}
	raw, err := os.ReadFile(filepath.Join(job, spotMarkerFile))
	if err != nil || json.Unmarshal(raw, &m) != nil || m.SignalledAt == nil {
		t.Fatalf("marker %s (%v)\n%s", raw, err, out.String())
	}
	if d := epoch(*m.SignalledAt).Sub(noticed); d > 2500*time.Millisecond {
		t.Errorf("signalled %v after the notice, want within a poll", d)
	}
	if m.Action != "terminate" || m.Time != at.UTC().Format("2006-01-02T15:04:05Z") {
		t.Errorf("marker %s", raw)
	}
	deadline := time.Now().Add(5 * time.Second)
	var got []byte
	for time.Now().Before(deadline) {
		if got, err = os.ReadFile(filepath.Join(job, "got")); err == nil && len(got) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := fmt.Sprintf("SEAR_SPOT_ACTION=terminate\nSEAR_SPOT_TIME=%s\nSEAR_SPOT_SECONDS_LEFT=", at.UTC().Format("2006-01-02T15:04:05Z"))
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("the job read %q from its notice file, want %q…", got, want)
	}
}
