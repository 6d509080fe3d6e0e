package docker

import (
	"context"
	"fmt"
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
type packageServer struct{ *gatewayServer }

// servePackages listens on gateway, a free port, and serves dir as a flat apt repository.
func servePackages(ctx context.Context, dir string, gateway string) (*packageServer, error) {
	if _, err := os.Stat(filepath.Join(dir, "Packages")); err != nil {
		return nil, fmt.Errorf("package repository %s has no Packages index: %w", dir, err)
	}
	gs, err := serveOnGateway(ctx, gateway, "the package repository", http.FileServer(http.Dir(dir)), 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &packageServer{gs}, nil
}

func (ps *packageServer) close(ctx context.Context) error {
	if ps == nil {
		return nil
	}
	return ps.gatewayServer.close(ctx)
}

// etcFiles adds /etc/apt/sources.list naming the repository to files (nil for a new map), for
// the tar docker cp takes into /etc, and returns the directory it needs.
// The repository is unsigned: it is the world's own, on a network only the world's containers
// are on (docs/testworld.md, known deviations).
func (ps *packageServer) etcFiles(files map[string][]byte) ([]string, map[string][]byte) {
	if files == nil {
		files = map[string][]byte{}
	}
	files["apt/sources.list"] = fmt.Appendf(nil, "# the test world's package repository (internal/testworld/docker)\ndeb [trusted=yes] %s ./\n", ps.url)
	return []string{"apt/"}, files
}
