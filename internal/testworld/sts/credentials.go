package sts

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"time"
)

// NeverExpires is the expiry Lookup reports for static keys, so that any "now is after expires"
// check a verifier makes holds them valid.
var NeverExpires = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// credential is one access key this STS knows: issued by AssumeRoleWithWebIdentity (with a
// session token) or added as a long-lived key.
type credential struct {
	secret       string
	sessionToken string
	expires      time.Time
}

// AddStatic registers a long-lived access key (an IAM user's, for the AWS CLI and tests). It
// never expires and has no session token.
func (s *Server) AddStatic(accessKeyID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[accessKeyID] = &credential{secret: secret, expires: NeverExpires}
}

// Lookup finds the secret and session token of an access key for a SigV4 verifier. Expired
// credentials are still found, with their expiry, so the verifier can answer as AWS does for an
// expired token rather than for an unknown key.
func (s *Server) Lookup(accessKeyID string) (secret, sessionToken string, expires time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[accessKeyID]
	if !ok {
		return "", "", time.Time{}, false
	}
	return c.secret, c.sessionToken, c.expires, true
}

// ExpireAll makes every issued session credential expired now (one second ago, so that both
// "after" and "not before" comparisons see it expired); static keys are untouched.
func (s *Server) ExpireAll() {
	past := s.now().Add(-time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.creds {
		if c.sessionToken != "" && c.expires.After(past) {
			c.expires = past
		}
	}
}

// issue mints and stores a session credential that lives d. Temporary access key IDs start with
// ASIA (IAM User Guide, "Unique identifiers": ASIA is a temporary AWS STS access key).
func (s *Server) issue(d time.Duration) (id string, c credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lifetime != 0 {
		d = s.lifetime
	}
	id = "ASIA" + randomID(16)
	// AWS states expiry to the second; keep it so, so Lookup agrees with what the client parsed.
	c = credential{
		secret:       randomBase64(30), // 40 characters, like AWS secret access keys
		sessionToken: "IQoJb3JpZ2luX2Vj" + randomBase64(270),
		expires:      s.now().Add(d).Truncate(time.Second),
	}
	stored := c
	s.creds[id] = &stored
	return id, c
}

// randomID is n characters of A-Z and 2-7, the alphabet of AWS's unique identifiers.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base32.StdEncoding.EncodeToString(b)[:n]
}

func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(b)
}
