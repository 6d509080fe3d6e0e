package fakegithub

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

func TestRateLimitHeadersDecrease(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	prev := -1
	for i := 0; i < 3; i++ {
		_, resp, err := c.Repositories.Get(context.Background(), owner, name)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Rate.Limit != 1000 || (prev >= 0 && resp.Rate.Remaining != prev-1) {
			t.Errorf("call %d: limit %d remaining %d (previous %d)", i, resp.Rate.Limit, resp.Rate.Remaining, prev)
		}
		if resp.Header.Get("X-RateLimit-Used") != strconv.Itoa(i+1) || resp.Header.Get("X-RateLimit-Resource") != "core" {
			t.Errorf("used %q resource %q", resp.Header.Get("X-RateLimit-Used"), resp.Header.Get("X-RateLimit-Resource"))
		}
		if resp.Rate.Reset.Time.Before(time.Now().Add(59 * time.Minute)) {
			t.Errorf("reset %v is not an hour ahead", resp.Rate.Reset)
		}
		prev = resp.Rate.Remaining
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("403 is a RateLimitError", func(t *testing.T) {
		_, ts := world(t, Options{RateLimit: 2})
		c := client(t, ts, writerToken)
		for i := 0; i < 2; i++ {
			if _, _, err := c.Repositories.Get(context.Background(), owner, name); err != nil {
				t.Fatal(err)
			}
		}
		// go-github now refuses locally (remaining 0); a fresh client asks.
		_, _, err := client(t, ts, writerToken).Repositories.Get(context.Background(), owner, name)
		var rl *gh.RateLimitError
		if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || rl.Response.StatusCode != 403 {
			t.Fatalf("err = %T %v, want *github.RateLimitError with remaining 0", err, err)
		}
	})
	t.Run("429 is an ErrorResponse in go-github v60", func(t *testing.T) {
		s, ts := world(t, Options{})
		s.SetFaults(Faults{PrimaryExhausted: true, PrimaryStatus: 429})
		_, _, err := client(t, ts, writerToken).Repositories.Get(context.Background(), owner, name)
		er := apiErr(t, err, 429)
		if er.Response.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("remaining = %q, want 0", er.Response.Header.Get("X-RateLimit-Remaining"))
		}
	})
}

func TestSecondaryRateLimit(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.SetFaults(Faults{SecondaryRateLimited: 1, RetryAfter: 30 * time.Second, Methods: []string{"POST"}})
	c := client(t, ts, writerToken)
	if _, _, err := c.Repositories.Get(context.Background(), owner, name); err != nil {
		t.Fatalf("GET is outside the fault's methods: %v", err)
	}
	_, _, err := c.Checks.CreateCheckRun(context.Background(), owner, name, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})
	var ab *gh.AbuseRateLimitError
	if !errors.As(err, &ab) || ab.GetRetryAfter() != 30*time.Second || ab.Response.StatusCode != 403 {
		t.Fatalf("err = %T %v, want *github.AbuseRateLimitError retry after 30s", err, err)
	}
	// The fault was for one call; a fresh client (go-github waits out
	// Retry-After locally) gets through.
	if _, _, err := client(t, ts, writerToken).Checks.CreateCheckRun(context.Background(), owner, name,
		gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA}); err != nil {
		t.Fatalf("after the fault: %v", err)
	}
}

func TestServerErrorsOnAShareOfCalls(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.SetFaults(Faults{ServerErrorShare: 0.5})
	c := client(t, ts, writerToken)
	var statuses []int
	for i := 0; i < 4; i++ {
		_, resp, err := c.Repositories.Get(context.Background(), owner, name)
		if err != nil {
			apiErr(t, err, 502)
		}
		statuses = append(statuses, resp.StatusCode)
	}
	if want := []int{200, 502, 200, 502}; !slices.Equal(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	s, ts := world(t, Options{})
	s.SetFaults(Faults{Latency: 50 * time.Millisecond})
	start := time.Now()
	if _, _, err := client(t, ts, writerToken).Repositories.Get(context.Background(), owner, name); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered after %v, want at least 50ms", d)
	}
}
