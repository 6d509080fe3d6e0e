package fakegithub

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sear-ci/sear/internal/pause"
)

// Faults makes the emulator misbehave the way GitHub sometimes does. The
// zero value is a healthy GitHub.
type Faults struct {
	// ServerErrorShare is the share of calls, 0 to 1, answered with
	// ServerErrorStatus; they are spread evenly and deterministically (0.5
	// fails every second call).
	ServerErrorShare float64 `json:"server_error_share,omitempty"`
	// ServerErrorStatus is the 5xx status; 502 when zero.
	ServerErrorStatus int `json:"server_error_status,omitempty"`
	// SecondaryRateLimited answers the next n calls with a secondary rate
	// limit: "a 403 or 429 response and an error message that indicates that
	// you exceeded a secondary rate limit" ("Rate limits for the REST API").
	SecondaryRateLimited int `json:"secondary_rate_limited,omitempty"`
	// SecondaryStatus is 403 (default) or 429.
	SecondaryStatus int `json:"secondary_status,omitempty"`
	// RetryAfter is sent as the Retry-After header (whole seconds) with a
	// secondary rate limit: 60s when zero, no header when negative (GitHub
	// sends it only sometimes: "If the retry-after response header is
	// present…").
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// PrimaryExhausted answers every call as if the primary rate limit were
	// used up: x-ratelimit-remaining 0, status PrimaryStatus.
	PrimaryExhausted bool `json:"primary_exhausted,omitempty"`
	// PrimaryStatus is 403 (default) or 429.
	PrimaryStatus int `json:"primary_status,omitempty"`
	// Latency delays every answer.
	Latency time.Duration `json:"latency,omitempty"`
	// Methods limits ServerErrorShare and SecondaryRateLimited to calls with
	// these HTTP methods; all calls when empty.
	Methods []string `json:"methods,omitempty"`
}

// docSecondary is the documentation_url of a secondary rate limit; go-github
// recognises the error by its "secondary-rate-limits" suffix.
const docSecondary = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"

// SetFaults replaces the current faults and restarts their counting.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.faulted = f, 0
}

// pause sleeps for the configured latency, or until the client gives up.
func (s *Server) pause(r *http.Request) {
	s.mu.Lock()
	d := s.faults.Latency
	s.mu.Unlock()
	if d > 0 {
		pause.For(r.Context(), d) // a client that gave up ends the latency
	}
}

// injectFault answers the call with the configured secondary rate limit or
// server error, if this call is one of those that get it.
func (s *Server) injectFault(c *call) (reply, bool) {
	f := &s.faults
	if len(f.Methods) > 0 && !slices.Contains(f.Methods, c.req.Method) {
		return reply{}, false
	}
	s.faulted++
	if f.SecondaryRateLimited > 0 {
		f.SecondaryRateLimited--
		return secondaryLimited(c, *f), true
	}
	n := float64(s.faulted)
	if math.Floor(n*f.ServerErrorShare) > math.Floor((n-1)*f.ServerErrorShare) {
		status := f.ServerErrorStatus
		if status < 500 {
			status = http.StatusBadGateway
		}
		return errorReply(status, "Server Error", docRoot), true
	}
	return reply{}, false
}

// secondaryLimited is GitHub's secondary rate-limit answer, its message as
// GitHub sends it (apache/devlake#1322, with the request id GitHub now adds).
func secondaryLimited(c *call, f Faults) reply {
	status := f.SecondaryStatus
	if status != http.StatusTooManyRequests {
		status = http.StatusForbidden
	}
	msg := "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
		"If you reach out to GitHub Support for help, please include the request ID " + c.id + "."
	rep := errorReply(status, msg, docSecondary)
	wait := f.RetryAfter
	if wait == 0 {
		wait = time.Minute
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		rep.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
	}
	return rep
}
