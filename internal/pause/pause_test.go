package pause

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestForWaits(t *testing.T) {
	start := time.Now()
	if err := For(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Errorf("returned after %v, before the wait", time.Since(start))
	}
	if err := For(context.Background(), 0); err != nil {
		t.Errorf("zero wait: %v", err)
	}
}

func TestForEndsWithTheContext(t *testing.T) {
	why := errors.New("SIGINT")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(10*time.Millisecond, func() { cancel(why) })
	start := time.Now()
	if err := For(ctx, time.Hour); !errors.Is(err, why) {
		t.Errorf("err = %v, want the cause %v", err, why)
	}
	if time.Since(start) > time.Minute {
		t.Error("waited out the pause after the context ended")
	}
	if err := For(ctx, 0); !errors.Is(err, why) {
		t.Errorf("zero wait on an ended context: %v", err)
	}
}
