// Package image builds and finds the Docker image that the test world's emulated EC2 instances
// boot from: Debian bookworm made with debootstrap (the Docker engine has no registry to pull
// from), with real OpenSSH and real cloud-init.
//
// An instance is a container of that image. The emulator gives it its user data the way
// cloud-init's NoCloud datasource reads it: create the container, copy a seed directory to
// [SeedDir] (files "user-data", exactly the bytes EC2 would pass, gzip'd or not, and
// "meta-data", with "instance-id" and "local-hostname"), then start it. Create it with
// --hostname set to the local-hostname: cloud-init writes /etc/hostname, but cannot set the
// kernel's hostname without CAP_SYS_ADMIN (it logs a warning and goes on).
//
// The container boots like an AMI: cloud-init's stages, then sshd, serving the host keys given in
// user data (the image has none). A shutdown inside the instance (shutdown -h, poweroff,
// cloud-init's power_state) or docker stop ends the container with [ExitPoweroff], [ExitReboot]
// or [ExitHalt] as its status.
package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Repository is the name of the image; its tag is a hash of what it is built from.
const Repository = "sear-testworld-instance"

// SeedDir is where the container's cloud-init looks for its NoCloud seed.
const SeedDir = "/var/lib/cloud/seed/nocloud"

// Exit statuses of an instance's container, telling how the instance went down.
const (
	ExitPoweroff = 0 // shutdown -h/-P, poweroff, power_state poweroff, docker stop
	ExitReboot   = 3 // shutdown -r, reboot; docker start boots it again, keeping its disk
	ExitHalt     = 4 // shutdown -H, halt
)

// lockPath serializes builds across test binaries, which go test runs in parallel.
const lockPath = "/tmp/sear-testworld-image.lock"

//go:embed build.sh all:rootfs
var inputs embed.FS

// Ref returns the reference of the image that the embedded build inputs make:
// Repository:<first 16 hex digits of a SHA-256 over build.sh and rootfs/>. It is the same hash as
// build.sh computes: sha256sum's lines for every input file, sorted by path, hashed again.
func Ref() string { return Repository + ":" + hashInputs(inputs, "") }

// hashInputs is the first 16 hex digits of a SHA-256 over head and
// sha256sum's lines for every file of fsys, sorted by path.
func hashInputs(fsys embed.FS, head string) string {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		panic(err) // embedded files are readable
	}
	sort.Strings(paths)
	list := bytes.NewBufferString(head)
	for _, p := range paths {
		data, err := fsys.ReadFile(p)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(list, "%x  %s\n", sha256.Sum256(data), p)
	}
	sum := sha256.Sum256(list.Bytes())
	return hex.EncodeToString(sum[:])[:16]
}

// Ensure returns the reference of the instance image, building it first (several minutes) if the
// local Docker engine does not have it. Concurrent calls, in this process or others, build it
// once: the others wait for the build. The build's output goes to logw (which may be nil).
func Ensure(ctx context.Context, logw io.Writer) (string, error) {
	if logw == nil {
		logw = io.Discard
	}
	ref := Ref()
	if ok, err := exists(ctx, ref); err != nil || ok {
		return ref, err
	}
	unlock, err := lock(ctx, lockPath, logw)
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have built it while this one waited for the lock.
	if ok, err := exists(ctx, ref); err != nil || ok {
		return ref, err
	}
	if err := build(ctx, ref, logw); err != nil {
		return "", fmt.Errorf("build test world image %s: %w", ref, err)
	}
	if ok, err := exists(ctx, ref); err != nil || !ok {
		return "", errors.Join(fmt.Errorf("build test world image %s: not in docker after the build", ref), err)
	}
	return ref, nil
}

// exists asks the Docker engine whether it has the image.
func exists(ctx context.Context, ref string) (bool, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", ref)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(strings.ToLower(stderr.String()), "no such image") {
			return false, nil
		}
		return false, fmt.Errorf("docker image inspect %s: %w: %s", ref, err, strings.TrimSpace(stderr.String()))
	}
	return true, nil
}

// lock takes an exclusive flock on path, polling so that ctx can end the wait.
func lock(ctx context.Context, path string, logw io.Writer) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open build lock: %w", err)
	}
	for waited := false; ; waited = true {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the file releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !waited {
			fmt.Fprintf(logw, "image: waiting for another build (%s)\n", path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for %s: %w", path, context.Cause(ctx))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// build writes the embedded inputs to a temporary directory and runs build.sh there.
func build(ctx context.Context, ref string, logw io.Writer) error {
	dir, err := os.MkdirTemp("", "sear-testworld-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, inputs); err != nil {
		return fmt.Errorf("write build inputs: %w", err)
	}
	last, err := runScript(ctx, logw, filepath.Join(dir, "build.sh"))
	if err != nil {
		return err
	}
	if last != ref {
		return fmt.Errorf("build.sh made %q, want %q (image.go and build.sh hash their inputs differently)", last, ref)
	}
	return nil
}

// runScript runs a build script with bash, its output going to logw, and
// returns the last word it printed on stdout: the image it made. On
// cancellation it ends the script's whole process group (debootstrap and
// docker import too, not only bash), whose EXIT trap then unmounts and
// removes its half-made root file system.
func runScript(ctx context.Context, logw io.Writer, script string, args ...string) (string, error) {
	// exec copies stdout and stderr on two goroutines when they differ;
	// the caller's writer need not be safe for that.
	logw = &lockedWriter{w: logw}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Stdout = io.MultiWriter(&stdout, logw)
	cmd.Stderr = logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	if err := cmd.Run(); err != nil {
		return "", err
	}
	words := strings.Fields(stdout.String())
	if len(words) == 0 {
		return "", nil
	}
	return words[len(words)-1], nil
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
