package world

import (
	"context"
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
