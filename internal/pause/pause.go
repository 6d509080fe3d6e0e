// Package pause waits the way every retry loop and poller in sear must:
// for a while, or until the context ends, whichever is first, so that a
// signal or a deadline never waits out a backoff.
package pause

import (
	"context"
	"time"
)

// For waits d, or until ctx ends. It returns nil after the full wait, else
// the context's cause (context.Canceled, a deadline, or the error the
// canceller gave).
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
