package fakegithub

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// anonymousLimit is GitHub's primary rate limit for unauthenticated
// requests: "60 requests per hour", counted per originating IP address.
const anonymousLimit = 60

// docRateLimit is the documentation_url of a primary rate-limit refusal, as
// GitHub sends it (rust-lang/rustlings#1208).
const docRateLimit = "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"

// bucket is one primary rate-limit window.
type bucket struct {
	limit, used int
	reset       time.Time
}

// bucketFor returns the caller's window, opening a fresh hour when the last
// one has passed.
func (s *Server) bucketFor(c *call) *bucket {
	key, limit := "token:"+c.token, s.opts.RateLimit
	if c.tok == nil {
		key, limit = "ip:"+clientIP(c.req), anonymousLimit
	}
	b := s.buckets[key]
	if b == nil || !c.now.Before(b.reset) {
		b = &bucket{limit: limit, reset: c.now.Add(time.Hour).Truncate(time.Second)}
		s.buckets[key] = b
	}
	return b
}

// countRate counts the call and sets the headers GitHub sends with every
// response ("Checking the status of your rate limit"): x-ratelimit-limit,
// -remaining, -used, -reset (UTC epoch seconds) and -resource. Past the
// limit GitHub answers "403 or 429 ... and the x-ratelimit-remaining header
// will be 0" ("Exceeding the rate limit"); Faults.PrimaryExhausted forces
// that answer.
func (s *Server) countRate(c *call) (reply, bool) {
	b := s.bucketFor(c)
	exhausted := s.faults.PrimaryExhausted || b.used >= b.limit
	if exhausted {
		b.used = b.limit
	} else {
		b.used++
	}
	h := c.header
	h.Set("X-RateLimit-Limit", strconv.Itoa(b.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.limit-b.used))
	h.Set("X-RateLimit-Used", strconv.Itoa(b.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(b.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	if !exhausted {
		return reply{}, false
	}
	return primaryLimited(c, s.faults.PrimaryStatus), true
}

// primaryLimited is the refusal, worded as GitHub words it for an
// installation token ("API rate limit exceeded for installation ID …",
// upptime/upptime#786) and for an IP address (rust-lang/rustlings#1208).
// go-github v60 turns a 403 with remaining 0 into *github.RateLimitError; it
// does not special-case 429, which it returns as *github.ErrorResponse.
func primaryLimited(c *call, status int) reply {
	if status != http.StatusTooManyRequests {
		status = http.StatusForbidden
	}
	msg := fmt.Sprintf("API rate limit exceeded for %s. (But here's the good news: Authenticated requests "+
		"get a higher rate limit. Check out the documentation for more details.)", clientIP(c.req))
	if c.tok != nil {
		msg = fmt.Sprintf("API rate limit exceeded for installation ID %d.", c.tok.UserID)
	}
	return errorReply(status, msg, docRateLimit)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
