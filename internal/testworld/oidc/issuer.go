// Package oidc emulates the GitHub Actions OpenID Connect provider at the wire level: the token
// endpoint a job calls with ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, the
// discovery document, and the JWKS that relying parties (the STS emulator, Python, OpenSSL)
// verify its RS256 tokens with.
//
// The protocol and the claims follow GitHub's docs, "OpenID Connect"
// (https://docs.github.com/en/actions/concepts/security/openid-connect, formerly "About security
// hardening with OpenID Connect") and "OpenID Connect reference"
// (https://docs.github.com/en/actions/reference/security/oidc), and the Actions toolkit's
// OidcClient (actions/toolkit, packages/core/src/oidc-utils.ts).
package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"
)

// GitHubIssuer is the issuer of real Actions tokens ("OpenID Connect reference", iss claim). An
// Issuer uses it until SetBaseURL names the emulator's own address.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// DefaultTokenLifetime is how long a token stays valid after it is issued. GitHub's example
// tokens in both docs pages above carry exp = iat + 300.
const DefaultTokenLifetime = 5 * time.Minute

// notBeforeLead is how far nbf precedes iat: nbf = iat - 600 in the same examples, which keeps
// a token usable by a relying party whose clock runs a little behind.
const notBeforeLead = 10 * time.Minute

// Issuer is the emulated Actions OIDC provider: one RSA-2048 signing key, the request tokens
// handed to emulated jobs, and the ID tokens minted for them. It is safe for concurrent use.
type Issuer struct {
	key *rsa.PrivateKey
	kid string
	now func() time.Time

	mu       sync.Mutex
	baseURL  string
	lifetime time.Duration
	grants   map[string]*grant
	minted   int
}

// NewIssuer makes an Issuer with a fresh signing key. now is its clock (time.Now when nil), so
// tests can age tokens without sleeping.
func NewIssuer(now func() time.Time) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate oidc signing key: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{
		key:      key,
		kid:      thumbprint(&key.PublicKey),
		now:      now,
		baseURL:  GitHubIssuer,
		lifetime: DefaultTokenLifetime,
		grants:   map[string]*grant{},
	}, nil
}

// SetBaseURL makes u (typically the httptest server's URL) the issuer: the iss claim, the
// discovery document's issuer and the base of its jwks_uri.
func (i *Issuer) SetBaseURL(u string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.baseURL = strings.TrimRight(u, "/")
}

// IssuerURL is the iss claim of the tokens this Issuer mints now.
func (i *Issuer) IssuerURL() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.baseURL
}

// RequestURL is the value for ACTIONS_ID_TOKEN_REQUEST_URL. Like the runner's, it already has a
// query (api-version), because the toolkit appends "&audience=..." to it blindly.
func (i *Issuer) RequestURL() string {
	return i.IssuerURL() + tokenPath + "?api-version=2.0"
}

// SetTokenLifetime changes the exp - iat of tokens minted from now on.
func (i *Issuer) SetTokenLifetime(d time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.lifetime = d
}

// KeyID is the kid of the signing key: its RFC 7638 JWK thumbprint.
func (i *Issuer) KeyID() string { return i.kid }

// PublicKey is the key that verifies this Issuer's tokens.
func (i *Issuer) PublicKey() *rsa.PublicKey { return &i.key.PublicKey }

// Minted counts the ID tokens this Issuer has signed, so tests can tell a fresh token from a
// cached one.
func (i *Issuer) Minted() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.minted
}

// thumbprint is the RFC 7638 thumbprint of an RSA key: SHA-256 over the required members in
// lexicographic order, base64url without padding.
func thumbprint(k *rsa.PublicKey) string {
	j := fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, b64(bigEndian(k.E)), b64(k.N.Bytes()))
	sum := sha256.Sum256([]byte(j))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// bigEndian is the minimal big-endian encoding of a public exponent, as JWK's "e" wants it.
func bigEndian(e int) []byte {
	var out []byte
	for ; e > 0; e >>= 8 {
		out = append([]byte{byte(e)}, out...)
	}
	return out
}
