// Package sts emulates AWS Security Token Service's AssumeRoleWithWebIdentity at the wire level
// (query protocol in, XML out), so that aws-sdk-go-v2's STS client, its web-identity credential
// provider and the AWS CLI run unchanged against it. It also keeps the credentials it issues,
// for the EC2 emulator's SigV4 verifier to look up.
//
// Behaviour follows the AssumeRoleWithWebIdentity API reference
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html) and
// STS's service model as shipped in botocore (data/sts/2011-06-15/service-2.json: error codes,
// HTTP statuses, parameter constraints); where AWS documents no message, the message is the one
// AWS is seen to send in the issues cited next to it.
package sts

import (
	"sync"
	"time"
)

// TokenVerifier checks web identity tokens for the one OIDC provider this STS trusts (the
// account's IAM OIDC identity provider). oidc.Issuer implements it.
type TokenVerifier interface {
	// IssuerURL is the provider's issuer; tokens from any other iss are refused.
	IssuerURL() string
	// Verify checks signature, iss, aud (skipped when audience is empty) and the time window,
	// and returns the claims. An expired token's error has an Expired() bool method that
	// reports true, and the claims come back with it.
	Verify(token, audience string) (map[string]any, error)
}

// Role is an IAM role that trusts the provider for sts:AssumeRoleWithWebIdentity.
type Role struct {
	ARN   string // arn:aws:iam::ACCOUNT:role/NAME
	Trust Trust
	// MaxSessionDuration caps DurationSeconds; zero means IAM's default of one hour.
	MaxSessionDuration time.Duration
}

// Trust is the condition block of the role's trust policy, as GitHub's guide for AWS writes it:
// StringEquals on the provider's aud and StringLike on its sub.
type Trust struct {
	Audience    string   // token.actions.githubusercontent.com:aud, e.g. sts.amazonaws.com
	SubPatterns []string // token.actions.githubusercontent.com:sub, StringLike with * and ?
}

// DefaultMaxSessionDuration is IAM's default maximum session duration for a role.
const DefaultMaxSessionDuration = time.Hour

// DefaultClientID is the client ID (audience) GitHub's guide registers on the IAM OIDC provider.
const DefaultClientID = "sts.amazonaws.com"

// Server is the STS emulator, an http.Handler. It is safe for concurrent use.
type Server struct {
	verifier TokenVerifier
	now      func() time.Time

	mu       sync.Mutex
	roles    map[string]Role
	creds    map[string]*credential
	calls    []Call
	lifetime time.Duration // overrides DurationSeconds when non-zero
}

// New makes an STS that trusts tokens verified by issuer. now is its clock (time.Now when nil).
func New(issuer TokenVerifier, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{
		verifier: issuer,
		now:      now,
		roles:    map[string]Role{},
		creds:    map[string]*credential{},
	}
}

// AddRole creates or replaces a role.
func (s *Server) AddRole(r Role) {
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = DefaultMaxSessionDuration
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[r.ARN] = r
}

// SetCredentialLifetime makes credentials issued from now on live d, whatever DurationSeconds
// asked for, so tests can watch them expire; zero restores DurationSeconds.
func (s *Server) SetCredentialLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// clientIDs is the IAM OIDC provider's client ID list: the default audience plus every audience
// a role trusts. A token whose aud is not on it is refused before any role is considered.
func (s *Server) clientIDs() map[string]bool {
	ids := map[string]bool{DefaultClientID: true}
	for _, r := range s.roles {
		if r.Trust.Audience != "" {
			ids[r.Trust.Audience] = true
		}
	}
	return ids
}

// role returns the role named by arn.
func (s *Server) role(arn string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[arn]
	return r, ok
}
