package world

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// StartForTest starts a world for one test and closes it, with its backend, when the test ends.
// If the world cannot start, a backend in opts that can be closed is closed, and the test fails.
func StartForTest(t testing.TB, opts Options) *World {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	w, err := Start(ctx, opts)
	if err != nil {
		if c, ok := opts.Backend.(interface{ Close(context.Context) error }); ok {
			c.Close(context.Background())
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := w.Close(ctx); err != nil { // the backend too: its instances and network
			t.Errorf("close the test world: %v", err)
		}
	})
	return w
}

// RefusedAddr is a loopback address (127.0.0.1:port) where connections are refused for the rest of
// the test: a socket bound to the port and never listening holds it. A port that was listened on
// and closed instead may be taken by another test's server in between, which then answers.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
