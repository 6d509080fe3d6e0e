package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ImageVariable names an image to use instead of building one: an image built elsewhere (with
// the real base images, say) runs through the same harness.
const ImageVariable = "SEAR_ACTION_IMAGE"

// imageOnce builds the action's image once per process: every test of a package runs the same
// binary, and scripts/action-image serializes builds across processes (a flock) and reuses the
// engine's cached layers, so other test binaries find the work done. A failed build is
// remembered too: the tests waiting for it would only fail the same way, minutes later each.
var imageOnce struct {
	sync.Mutex
	id  string
	err error
}

// Image returns the id of the action's image, built from the repository's Dockerfile by
// scripts/action-image the first time it is called in this process (minutes on a machine that
// has never built it; seconds when the engine has every layer), or named by SEAR_ACTION_IMAGE.
// The build's progress goes to logw, which may be nil. A build that failed fails every later
// call in the process, unless it was cut short by its caller's context.
func Image(ctx context.Context, logw io.Writer) (string, error) {
	if ref := os.Getenv(ImageVariable); ref != "" {
		return ref, nil
	}
	imageOnce.Lock()
	defer imageOnce.Unlock()
	if imageOnce.id != "" || imageOnce.err != nil {
		return imageOnce.id, imageOnce.err
	}
	root, err := RepositoryRoot()
	if err != nil {
		return "", err
	}
	id, err := buildImage(ctx, root, logw)
	if err != nil && ctx.Err() == nil {
		imageOnce.err = err
	}
	imageOnce.id = id
	return id, err
}

// buildImage runs scripts/action-image and returns the image id it prints last.
func buildImage(ctx context.Context, root string, logw io.Writer) (string, error) {
	if logw == nil {
		logw = io.Discard
	}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "action-image"))
	cmd.Dir = root
	cmd.Stdout = &stdout
	cmd.Stderr = logw
	// On cancellation, end debootstrap and docker build too, not only bash: the script's EXIT
	// trap then removes its half-made root file system.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the action's image with scripts/action-image (its output says why): %w", err)
	}
	var last string
	for sc := bufio.NewScanner(&stdout); sc.Scan(); {
		last = strings.TrimSpace(sc.Text())
	}
	if !strings.HasPrefix(last, "sha256:") {
		return "", fmt.Errorf("scripts/action-image printed %q last, want the image id (sha256:...)", last)
	}
	return last, nil
}

// RepositoryRoot is the directory of sear's go.mod, found upwards from the working directory
// (go test runs a package's tests in the package's directory).
func RepositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/sear-ci/sear\n")) {
			return dir, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find sear's repository: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find sear's repository: no go.mod of module github.com/sear-ci/sear above the working directory")
		}
		dir = parent
	}
}
