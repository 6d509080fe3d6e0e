package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// gatewayServer is an HTTP service the backend runs on its network's gateway, where only its
// own containers (and this host) reach it: the package repository and the instance metadata.
type gatewayServer struct {
	what string // what it serves, for errors: "the package repository"
	url  string // http://<gateway>:<port>/
	srv  *http.Server
}

// serveOnGateway listens on gateway, a free port, and serves h there.
func serveOnGateway(ctx context.Context, gateway, what string, h http.Handler, readHeader time.Duration) (*gatewayServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(gateway, "0"))
	if err != nil {
		return nil, fmt.Errorf("serve %s on the network's gateway: %w", what, err)
	}
	gs := &gatewayServer{what: what, url: "http://" + ln.Addr().String() + "/",
		srv: &http.Server{Handler: h, ReadHeaderTimeout: readHeader}}
	go func() { _ = gs.srv.Serve(ln) }() // ErrServerClosed once closed
	return gs, nil
}

func (gs *gatewayServer) close(ctx context.Context) error {
	if gs == nil {
		return nil
	}
	if err := gs.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop %s: %w", gs.what, err)
	}
	_ = gs.srv.Close()
	return nil
}

// etcTar is a tar of files for /etc, as docker cp takes it: the directories first (with a
// trailing slash), then each file with its content.
func etcTar(dirs []string, files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now}); err != nil {
			return nil, err
		}
	}
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: now}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
