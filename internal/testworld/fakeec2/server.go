// Package ec2 emulates the parts of Amazon EC2 that sear uses, at the wire
// level: an http.Handler that speaks EC2's query protocol (form-encoded
// POST, Action and Version=2016-11-15, XML responses), authenticates every
// request with SigV4, and runs instances through EC2's state machine on a
// pluggable Backend. The real aws-sdk-go-v2 EC2 client and the AWS CLI are
// its clients; they are also its tests' oracles.
//
// Behaviour follows the Amazon EC2 API Reference
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/) and the EC2
// Developer Guide; each deviation is documented where it is made.
package fakeec2

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// Options configures a Server.
type Options struct {
	// Region is the region the endpoint serves; requests signed for another
	// region are refused. Default "us-east-1".
	Region string
	// Credentials authenticates every request; nil refuses them all.
	Credentials sigv4.CredentialSource
	// Backend is where instances really run; nil → an in-memory backend that
	// just "boots".
	Backend Backend
	// Now is the clock for signatures and timestamps; default time.Now.
	Now func() time.Time
	// BootDelay and TerminateDelay are the pending→running and
	// shutting-down→terminated latencies (real time).
	BootDelay, TerminateDelay time.Duration
	// AccountID owns every resource created; default "123456789012".
	AccountID string
	// SpotPrices are the Spot prices per hour of instance types, in every
	// zone, that DescribeSpotPriceHistory answers; a type left out has none.
	SpotPrices map[string]float64
}

// Server is the emulated EC2 endpoint. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	opts    Options
	backend Backend
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.Mutex
	closed bool
	faults Faults
	calls  []Call
	count  int // authenticated calls, for ThrottleEvery
	world
}

// maxBody bounds a request body; RunInstances with 16 KB of user data is
// about 22 KB of form.
const maxBody = 10 << 20

// New returns a Server seeded with a default VPC, one default subnet per
// Availability Zone, its default security group, and a few public images.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Credentials == nil {
		opts.Credentials = sigv4.StaticSource{} // refuses every request
	}
	s := &Server{opts: opts, backend: opts.Backend}
	if s.backend == nil {
		s.backend = memBackend{}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.world = newWorld()
	s.seedNetwork()
	s.seedImages()
	for _, itype := range slices.Sorted(maps.Keys(opts.SpotPrices)) {
		s.setSpotPriceLocked(itype, "", opts.SpotPrices[itype])
	}
	return s
}

// Close stops every pending state transition and waits for backend calls in
// flight. The handler keeps answering afterwards, but nothing moves.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	call := Call{Time: s.opts.Now().UTC(), RequestID: reqID}
	s.delay(r.Context())
	result, err := s.serve(r, &call)
	// The call is logged before the client can see the answer, so a test that
	// reads Calls() right after a call always finds it.
	if err != nil {
		call.Status, call.ErrorCode = err.status, err.code
		s.record(call)
		writeError(w, reqID, err)
		return
	}
	call.Status = http.StatusOK
	s.record(call)
	writeResult(w, call.Action, reqID, result)
}

// serve authenticates, routes and runs one call, filling in what the call
// log needs as it learns it.
func (s *Server) serve(r *http.Request, call *Call) (any, *apiError) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody))
	p, parseErr := parseParams(r.URL.RawQuery, body)
	if readErr != nil || parseErr != nil {
		// EC2 API Reference, "Common Error Types": MalformedQueryString is 404.
		return nil, newError(http.StatusNotFound, "MalformedQueryString", "The query string contains a syntax error.")
	}
	call.Action, call.Params = p.str("Action"), logParams(p)
	key, authErr := sigv4.Verify(r, body, s.opts.Credentials, "ec2", s.opts.Region, s.opts.Now())
	call.AccessKeyID = key
	if authErr != nil {
		return nil, &apiError{authErr.Status, authErr.Code, authErr.Message}
	}
	h, err := route(p)
	if err != nil {
		return nil, err
	}
	if s.throttled() {
		return nil, errThrottled()
	}
	return h(s, p)
}

// handler runs one action.
type handler func(s *Server, p params) (any, *apiError)

// handlers are the actions the emulator serves.
var handlers = map[string]handler{
	"RunInstances":                  (*Server).runInstances,
	"DescribeInstances":             (*Server).describeInstances,
	"TerminateInstances":            (*Server).terminateInstances,
	"CreateSecurityGroup":           (*Server).createSecurityGroup,
	"DeleteSecurityGroup":           (*Server).deleteSecurityGroup,
	"DescribeSecurityGroups":        (*Server).describeSecurityGroups,
	"AuthorizeSecurityGroupIngress": (*Server).authorizeIngress,
	"RevokeSecurityGroupIngress":    (*Server).revokeIngress,
	"CreateTags":                    (*Server).createTags,
	"DeleteTags":                    (*Server).deleteTags,
	"DescribeImages":                (*Server).describeImages,
	"DescribeSubnets":               (*Server).describeSubnets,
	"DescribeVpcs":                  (*Server).describeVpcs,
	"DescribeInstanceTypeOfferings": (*Server).describeInstanceTypeOfferings,
	"DescribeInstanceTypes":         (*Server).describeInstanceTypes,
	"DescribeSpotPriceHistory":      (*Server).describeSpotPriceHistory,
	"DescribeAvailabilityZones":     (*Server).describeAvailabilityZones,
}

// route checks Action and Version. EC2 answers an unknown action with
// InvalidAction and a missing one with MissingAction (common client error
// codes); a version it does not have is NoSuchVersion.
func route(p params) (handler, *apiError) {
	action := p.str("Action")
	if action == "" {
		return nil, clientError("MissingAction", "The request must contain the parameter Action")
	}
	h := handlers[action]
	if h == nil {
		return nil, clientError("InvalidAction", "The action %s is not valid for this web service.", action)
	}
	switch v := p.str("Version"); v {
	case APIVersion:
		return h, nil
	case "":
		return nil, errMissing("Version")
	default:
		return nil, clientError("NoSuchVersion", "The requested version (%s) of service AmazonEC2 does not exist", v)
	}
}

// now is the emulator's clock.
func (s *Server) now() time.Time { return s.opts.Now().UTC() }
