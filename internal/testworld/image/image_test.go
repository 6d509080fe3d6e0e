package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRefIsBuildScriptsRef(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("bash", "build.sh", "--print-ref").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), Ref(); got != want {
		t.Errorf("build.sh --print-ref = %s, Ref() = %s: the two hash the inputs differently", got, want)
	}
}

func TestEnsureReusesTheImage(t *testing.T) {
	t.Parallel()
	ref := testImage(t)
	var log bytes.Buffer
	start := time.Now()
	again, err := Ensure(context.Background(), &log)
	if err != nil {
		t.Fatal(err)
	}
	if again != ref || log.Len() != 0 || time.Since(start) > 10*time.Second {
		t.Errorf("second Ensure = %q after %v, log %q; want %q at once, nothing built", again, time.Since(start), log.String(), ref)
	}
}

// TestLockExcludesOtherProcesses: while one holds the build lock, another process (util-linux's
// flock, standing in for a second test binary) and another caller in this one cannot take it.
func TestLockExcludesOtherProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lock(context.Background(), path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("flock", "--nonblock", path, "true").Run(); err == nil {
		t.Error("another process took the lock while it was held")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	var log bytes.Buffer
	if _, err := lock(ctx, path, &log); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lock: %v, want to wait until the context ends", err)
	}
	if !strings.Contains(log.String(), "waiting for another build") {
		t.Errorf("second lock logged %q", log.String())
	}
	unlock()
	if err := exec.Command("flock", "--nonblock", path, "true").Run(); err != nil {
		t.Errorf("lock not released: %v", err)
	}
}
