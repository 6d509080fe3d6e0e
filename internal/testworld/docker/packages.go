package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The package repository stands in for the distribution mirror that a cloud image's apt uses (an
// EC2 region's Ubuntu mirror): instances may not reach the Internet in a test, so what they
// install with apt-get comes from a directory the backend serves itself, on its network's
// gateway, where only its own containers reach it. Every instance gets an /etc/apt/sources.list
// naming it, copied in before the container starts, as cloud-init writes the region's mirror.

// packageServer serves Options.PackageRepository on the network's gateway.
type packageServer struct {
	url string // http://<gateway>:<port>/
	srv *http.Server
}

// servePackages listens on gateway, a free port, and serves dir as a flat apt repository.
func servePackages(ctx context.Context, dir string, gateway string) (*packageServer, error) {
	if _, err := os.Stat(filepath.Join(dir, "Packages")); err != nil {
		return nil, fmt.Errorf("package repository %s has no Packages index: %w", dir, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(gateway, "0"))
	if err != nil {
		return nil, fmt.Errorf("serve the package repository on the network's gateway: %w", err)
	}
	ps := &packageServer{
		url: "http://" + ln.Addr().String() + "/",
		srv: &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 30 * time.Second},
	}
	go func() { _ = ps.srv.Serve(ln) }() // ErrServerClosed once closed
	return ps, nil
}

func (ps *packageServer) close(ctx context.Context) error {
	if ps == nil {
		return nil
	}
	if err := ps.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop the package repository: %w", err)
	}
	_ = ps.srv.Close()
	return nil
}

// sourcesTar is /etc/apt/sources.list naming the repository, as docker cp takes it into /etc.
// The repository is unsigned: it is the world's own, on a network only the world's containers
// are on (docs/testworld.md, known deviations).
func (ps *packageServer) sourcesTar() ([]byte, error) {
	list := fmt.Appendf(nil, "# the test world's package repository (internal/testworld/docker)\ndeb [trusted=yes] %s ./\n", ps.url)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, h := range []*tar.Header{
		{Name: "apt/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now},
		{Name: "apt/sources.list", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(list)), ModTime: now},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if _, err := tw.Write(list); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
