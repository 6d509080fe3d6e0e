// Package github emulates, at the wire level, the part of GitHub's REST API
// that sear's reporting uses: check runs, issue comments, pull requests and
// repositories. It answers with GitHub's JSON shapes, authentication,
// GITHUB_TOKEN permissions, pagination, rate-limit headers and error bodies,
// so that tests drive the real go-github client against it.
//
// Sources, cited where the code depends on them:
//   - "REST API endpoints for check runs" https://docs.github.com/rest/checks/runs
//   - "REST API endpoints for issue comments" https://docs.github.com/rest/issues/comments
//   - "Using pagination in the REST API" https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api
//   - "Rate limits for the REST API" https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
//   - "Troubleshooting the REST API" https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
//   - "GITHUB_TOKEN reference" (permissions, fork pull requests) https://docs.github.com/actions/reference/github_token-reference
package fakegithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxRequestBody bounds what one request may send; GitHub's own limit is far
// above anything sear posts (its texts are capped at 64 KiB each).
const maxRequestBody = 32 << 20

// Options configures a Server. Zero values take GitHub's defaults.
type Options struct {
	// Now is the emulator's clock; time.Now when nil.
	Now func() time.Time
	// PerPageDefault is the page size of a list call without per_page.
	// GitHub: 30 ("Using pagination in the REST API").
	PerPageDefault int
	// PerPageMax caps per_page. GitHub: 100.
	PerPageMax int
	// RateLimit is each token's primary rate limit per hour. GitHub gives a
	// GITHUB_TOKEN 1,000 requests per hour per repository ("Rate limits for
	// the REST API").
	RateLimit int
}

// Server is an emulated GitHub REST API. It implements http.Handler and is
// rooted like https://api.github.com: a go-github client's BaseURL is the
// server's URL followed by "/". It is safe for concurrent use.
type Server struct {
	mu      sync.Mutex
	opts    Options
	routes  []route
	repos   map[string]*repo // by lower-cased "owner/name": GitHub ignores case
	byID    map[int64]*repo
	tokens  map[string]Token
	users   map[string]int64 // login → user id, for seeded authors
	buckets map[string]*bucket
	faults  Faults
	faulted int // calls the current Faults have seen
	calls   []Call
	seq     sequences
}

// sequences hands out GitHub-like ids.
type sequences struct {
	request, checkRun, checkSuite, comment, user int64
}

// New returns an empty emulated GitHub.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PerPageDefault <= 0 {
		opts.PerPageDefault = 30
	}
	if opts.PerPageMax <= 0 {
		opts.PerPageMax = 100
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 1000
	}
	s := &Server{
		opts:    opts,
		repos:   map[string]*repo{},
		byID:    map[int64]*repo{},
		tokens:  map[string]Token{},
		users:   map[string]int64{},
		buckets: map[string]*bucket{},
		seq:     sequences{checkRun: 4_000_000_000, checkSuite: 2_000_000_000, comment: 1_000_000_000, user: 90_000_000},
	}
	s.routes = s.routeTable()
	return s
}

// ServeHTTP answers one API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.pause(r)
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	s.mu.Lock()
	c := s.begin(r, body)
	rep := s.serve(c)
	s.record(c, rep)
	out := c.render(rep)
	s.mu.Unlock()
	out.write(w)
}

// serve runs a call through GitHub's gates in the order their answers show:
// every answer carries the rate-limit headers, even a 401 (which counts
// against the anonymous limit of 60), so counting comes before refusing.
func (s *Server) serve(c *call) reply {
	authErr := s.identify(c)
	if rep, limited := s.countRate(c); limited {
		return rep
	}
	if authErr != nil {
		return *authErr
	}
	if rep, bad := checkVersion(c); bad {
		return rep
	}
	if rep, hit := s.injectFault(c); hit {
		return rep
	}
	return s.dispatch(c)
}

// call is one request in flight.
type call struct {
	req    *http.Request
	body   []byte
	now    time.Time
	base   string // scheme://host of this server: API root and HTML root
	id     string // x-github-request-id
	header http.Header
	token  string
	tok    *Token
	params map[string]string
	repo   *repo
	route  *route
}

func (s *Server) begin(r *http.Request, body []byte) *call {
	s.seq.request++
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	c := &call{
		req:    r,
		body:   body,
		now:    s.opts.Now().UTC(),
		base:   scheme + "://" + r.Host,
		id:     requestID(s.seq.request),
		header: http.Header{},
	}
	c.header.Set("X-GitHub-Request-Id", c.id)
	c.header.Set("X-GitHub-Media-Type", "github.v3; format=json")
	return c
}

// requestID looks like GitHub's x-github-request-id (hex groups).
func requestID(n int64) string {
	return fmt.Sprintf("E5A1:%04X:%07X:%07X:%08X", n%0xFFFF, n*7919%0xFFFFFFF, n*104729%0xFFFFFFF, n)
}

// reply is what a handler answers; body is marshalled to JSON.
type reply struct {
	status int
	body   any
	header http.Header
}

// output is a rendered reply, written after the lock is released.
type output struct {
	status int
	header http.Header
	body   []byte
}

func (c *call) render(rep reply) output {
	h := c.header.Clone()
	for k, v := range rep.header {
		h[k] = v
	}
	out := output{status: rep.status, header: h}
	if rep.body == nil {
		return out
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(rep.body)
	out.body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h.Set("Content-Type", "application/json; charset=utf-8")
	return out
}

func (o output) write(w http.ResponseWriter) {
	for k, v := range o.header {
		w.Header()[k] = v
	}
	w.WriteHeader(o.status)
	_, _ = w.Write(o.body)
}

// timestamp formats a time as GitHub does: ISO 8601, UTC, seconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// optTimestamp is timestamp, or JSON null for the zero time.
func optTimestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}
