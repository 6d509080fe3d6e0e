package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// RegistryBinary is Debian's docker-registry package's server: the CNCF distribution registry
// (formerly docker/distribution), the registry GHCR and Docker Hub speak the protocol of.
const RegistryBinary = "/usr/bin/docker-registry"

// Registry is an image registry on a loopback port, for pushing a release's image to and pulling
// it from as a workflow pulls docker://ghcr.io/... Docker allows plain HTTP to registries on
// 127.0.0.0/8 without any daemon configuration, so no certificate is needed.
type Registry struct {
	// Addr is host:port, the registry part of an image reference (127.0.0.1:PORT/sear).
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRegistry starts a registry whose storage and configuration live in dir (a test's
// TempDir), on a free loopback port, and returns once it answers. Its log goes to logw, which may
// be nil. Close stops it.
func StartRegistry(ctx context.Context, dir string, logw io.Writer) (*Registry, error) {
	if _, err := os.Stat(RegistryBinary); err != nil {
		return nil, fmt.Errorf("no image registry to test a release against: install Debian's docker-registry package (apt-get install docker-registry; scripts/test does): %w", err)
	}
	if logw == nil {
		logw = io.Discard
	}
	var errs []error
	// A free port is only known free until someone takes it: another try takes another.
	for range 3 {
		r, err := startRegistry(ctx, dir, logw)
		if err == nil {
			return r, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func startRegistry(ctx context.Context, dir string, logw io.Writer) (*Registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	// The package's /etc/docker/registry/config.yml asks for htpasswd and listens on every
	// address; this one has no authentication and listens on loopback only. The HTTP secret
	// signs upload state between requests; one process needs none shared, but a fixed one keeps
	// the registry from warning about it.
	config := filepath.Join(dir, "config-"+port+".yml")
	body := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: %s
`, filepath.Join(dir, "storage"), addr, randomHex(16))
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		return nil, fmt.Errorf("write the registry's configuration: %w", err)
	}
	cmd := exec.Command(RegistryBinary, "serve", config)
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", RegistryBinary, err)
	}
	r := &Registry{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(r.done)
	}()
	if err := r.waitReady(ctx); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// waitReady waits until GET /v2/ answers 200, the distribution API's version check.
func (r *Registry) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Addr+"/v2/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-r.done:
			return fmt.Errorf("the registry on %s exited before it answered (its log says why; another process may hold the port)", r.Addr)
		case <-ctx.Done():
			return fmt.Errorf("the registry on %s did not answer GET /v2/: %w", r.Addr, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops the registry (SIGTERM, then SIGKILL after 5 s) and waits for it to exit.
func (r *Registry) Close() error {
	select {
	case <-r.done:
		return nil
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	return nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// ActionImage is the image a job runs the action's steps in, got as the runner gets it while it
// sets up the job: runs.image docker://REF is pulled (PullImage) and used as REF; Dockerfile is
// built (Image). Pass the result as JobOptions.Image.
func ActionImage(ctx context.Context, m *Manifest, logw io.Writer) (string, error) {
	if ref, ok := strings.CutPrefix(m.Image, "docker://"); ok {
		if err := PullImage(ctx, ref, logw); err != nil {
			return "", err
		}
		return ref, nil
	}
	if m.Image == "Dockerfile" {
		return Image(ctx, logw)
	}
	return "", fmt.Errorf("runs.image is %q; the harness runs docker://REF or the repository's Dockerfile", m.Image)
}

// Pull attempts, and the wait between them, as the runner's ContainerActionHandler preparation
// retries docker pull of an action's image.
const (
	pullAttempts = 3
	pullBackoff  = 2 * time.Second
)

// PullImage pulls ref (docker pull), as the runner pulls a docker:// action's image before the
// job's first step, retrying as it does. Progress goes to logw, which may be nil.
func PullImage(ctx context.Context, ref string, logw io.Writer) error {
	if logw == nil {
		logw = io.Discard
	}
	var err error
	for attempt := 1; attempt <= pullAttempts; attempt++ {
		cmd := exec.CommandContext(ctx, "docker", "pull", ref)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = logw, io.MultiWriter(logw, &stderr)
		if err = cmd.Run(); err == nil {
			return nil
		}
		err = fmt.Errorf("docker pull %s (attempt %d of %d): %w: %s", ref, attempt, pullAttempts, err, strings.TrimSpace(stderr.String()))
		if attempt == pullAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, context.Cause(ctx))
		case <-time.After(pullBackoff):
		}
	}
	return err
}
