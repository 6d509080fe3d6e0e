package oidc

import (
	"crypto/rand"
	"encoding/base64"
)

// grant is what a request token entitles its bearer to: ID tokens for one run's claims, until
// revoked (the job ended).
type grant struct {
	run     RunClaims
	revoked bool
}

// NewRequestToken makes the bearer token an emulated job gets as ACTIONS_ID_TOKEN_REQUEST_TOKEN.
// Every ID token requested with it carries run's claims, whatever audience is asked for.
func (i *Issuer) NewRequestToken(run RunClaims) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	i.mu.Lock()
	defer i.mu.Unlock()
	i.grants[tok] = &grant{run: run}
	return tok
}

// RevokeRequestToken ends a request token's validity, as the end of its job does: the endpoint
// refuses it from then on.
func (i *Issuer) RevokeRequestToken(tok string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if g, ok := i.grants[tok]; ok {
		g.revoked = true
	}
}

// runFor is the run a live request token stands for.
func (i *Issuer) runFor(tok string) (RunClaims, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	g, ok := i.grants[tok]
	if !ok || g.revoked {
		return RunClaims{}, false
	}
	return g.run, true
}
