// Package imds emulates the EC2 instance metadata service as IMDSv2 serves it, for the test
// world's container instances: the session token, the instance's id and the Spot interruption
// notice, nothing else. It follows the EC2 User Guide's "Use the Instance Metadata Service to
// access instance metadata" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html),
// "Retrieve instance metadata" with its HTTP error codes
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html) and
// "Spot Instance interruption notices"
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html).
//
// A Server answers for many instances; who is asking is the caller's to decide (the docker
// backend knows it by the request's source address, as EC2 knows it by the network interface),
// and a token is valid only on the instance that got it.
package imds

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Header names, as IMDSv2 spells them (HTTP headers are case-insensitive).
const (
	TTLHeader   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	TokenHeader = "X-Aws-Ec2-Metadata-Token"
)

// MaxTTL is the longest a session token may live: six hours ("the maximum TTL is six hours
// (21,600 seconds)").
const MaxTTL = 21600

// Instance is what the metadata service knows of one instance.
type Instance struct {
	ID string
	// TokensRequired is HttpTokens=required: a GET without a token is refused (401), as with
	// IMDSv1 turned off. sear launches every instance so.
	TokensRequired bool
	// Disabled is HttpEndpoint=disabled: every request is refused (403).
	Disabled bool
	// Spot says the instance is a Spot Instance: only those have spot/ in their metadata.
	Spot bool
	// Action is the Spot interruption notice, nil until EC2 gives one.
	Action *Action
}

// Action is spot/instance-action: what EC2 will do to the instance, and when (two minutes after
// the notice on AWS).
type Action struct {
	Action string    `json:"action"` // terminate, stop or hibernate
	Time   time.Time `json:"time"`
}

// MarshalJSON writes the time as AWS does, to the second in UTC: "2017-09-18T08:22:00Z".
func (a Action) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Action string `json:"action"`
		Time   string `json:"time"`
	}{a.Action, a.Time.UTC().Format("2006-01-02T15:04:05Z")})
}

// Source looks instances up by id; the EC2 emulator is one.
type Source interface {
	MetadataInstance(id string) (Instance, bool)
}

// Server is an IMDSv2 for the instances a Source knows. It is safe for concurrent use.
type Server struct {
	src Source
	now func() time.Time

	mu     sync.Mutex
	tokens map[string]token
}

type token struct {
	instanceID string
	expires    time.Time
}

// New returns a metadata service answering from src.
func New(src Source) *Server {
	return &Server{src: src, now: time.Now, tokens: map[string]token{}}
}

// ServeInstance answers one request of the instance instanceID.
func (s *Server) ServeInstance(rw http.ResponseWriter, r *http.Request, instanceID string) {
	inst, ok := s.src.MetadataInstance(instanceID)
	if !ok || inst.Disabled {
		fail(rw, http.StatusForbidden)
		return
	}
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
		s.putToken(rw, r, inst)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.get(rw, r, inst)
	default:
		// "Any other HTTP method": IMDS serves GET for metadata and PUT for the token only.
		rw.Header().Set("Allow", "GET, PUT")
		fail(rw, http.StatusMethodNotAllowed)
	}
}

// putToken issues a session token. The TTL header is required, 1 to 21,600 seconds, else 400
// ("Missing or Invalid Parameters – The PUT request is not valid"); a request that carries
// X-Forwarded-For is refused, since that is how a request relayed by a proxy on the instance
// looks, and IMDSv2 exists to keep such requests from getting a token.
func (s *Server) putToken(rw http.ResponseWriter, r *http.Request, inst Instance) {
	if r.Header.Get("X-Forwarded-For") != "" {
		fail(rw, http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(TTLHeader))
	if err != nil || ttl < 1 || ttl > MaxTTL {
		fail(rw, http.StatusBadRequest)
		return
	}
	b := make([]byte, 42)
	rand.Read(b) // never fails (crypto/rand documents it)
	tok := base64.StdEncoding.EncodeToString(b)
	s.mu.Lock()
	now := s.now()
	for k, t := range s.tokens { // keep the table as small as the live tokens
		if !now.Before(t.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[tok] = token{instanceID: inst.ID, expires: now.Add(time.Duration(ttl) * time.Second)}
	s.mu.Unlock()
	rw.Header().Set(TTLHeader, strconv.Itoa(ttl))
	text(rw, http.StatusOK, tok)
}

// get answers a metadata path. A token given must be valid on this instance, whether or not
// tokens are required ("401 – Unauthorized – The GET request uses an invalid token").
func (s *Server) get(rw http.ResponseWriter, r *http.Request, inst Instance) {
	if tok := r.Header.Get(TokenHeader); tok != "" || inst.TokensRequired {
		if !s.valid(tok, inst.ID) {
			fail(rw, http.StatusUnauthorized)
			return
		}
	}
	switch r.URL.Path {
	case "/latest/meta-data", "/latest/meta-data/":
		list := "instance-id"
		if inst.Spot && inst.Action != nil {
			list += "\nspot/"
		}
		text(rw, http.StatusOK, list)
	case "/latest/meta-data/instance-id":
		text(rw, http.StatusOK, inst.ID)
	case "/latest/meta-data/spot", "/latest/meta-data/spot/":
		if !inst.Spot || inst.Action == nil {
			fail(rw, http.StatusNotFound)
			return
		}
		text(rw, http.StatusOK, "instance-action")
	case "/latest/meta-data/spot/instance-action":
		// "If Amazon EC2 is not preparing to stop or terminate the instance, or if you
		// terminated the instance yourself, instance-action is not present ... and you receive
		// an HTTP 404 error".
		if !inst.Spot || inst.Action == nil {
			fail(rw, http.StatusNotFound)
			return
		}
		b, _ := json.Marshal(inst.Action) // a string and a time: cannot fail
		text(rw, http.StatusOK, string(b))
	default:
		fail(rw, http.StatusNotFound)
	}
}

func (s *Server) valid(tok, instanceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	return ok && t.instanceID == instanceID && s.now().Before(t.expires)
}

// text answers as IMDS does, text/plain with no trailing newline.
func text(rw http.ResponseWriter, status int, body string) {
	rw.Header().Set("Content-Type", "text/plain")
	rw.Header().Set("Server", "EC2ws")
	rw.WriteHeader(status)
	_, _ = rw.Write([]byte(body)) // the client went away; nothing to do
}

// fail answers an error with IMDS's HTML page for it.
func fail(rw http.ResponseWriter, status int) {
	msg := fmt.Sprintf("%d - %s", status, http.StatusText(status))
	rw.Header().Set("Content-Type", "text/html")
	rw.Header().Set("Server", "EC2ws")
	rw.WriteHeader(status)
	fmt.Fprintf(rw, `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>%s</title>
 </head>
 <body>
  <h1>%s</h1>
 </body>
</html>
`, msg, msg)
}
