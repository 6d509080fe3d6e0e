package oidc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Mint signs an ID token for run with audience as its aud (the repository owner's URL when
// empty), as the token endpoint does, without the HTTP round trip.
func (i *Issuer) Mint(run RunClaims, audience string) (string, error) {
	i.mu.Lock()
	iss, lifetime := i.baseURL, i.lifetime
	i.minted++
	i.mu.Unlock()
	return i.sign(run.claims(iss, audience, i.now(), lifetime))
}

// sign makes a compact JWS with the header GitHub's tokens carry ("OpenID Connect", example
// token): typ JWT, alg RS256, kid.
func (i *Issuer) sign(claims map[string]any) (string, error) {
	header := map[string]string{"typ": "JWT", "alg": "RS256", "kid": i.kid}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign id token: %w", err)
	}
	return input + "." + b64(sig), nil
}

// jws is a compact JWS split into its parts, decoded but not yet trusted.
type jws struct {
	header    map[string]any
	claims    map[string]any
	input     string // header.payload, what the signature covers
	signature []byte
}

// parseJWS decodes a compact JWS. Every failure is ErrMalformed.
func parseJWS(token string) (jws, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jws{}, verifyErr(ErrMalformed, "want 3 dot-separated parts, got %d", len(parts))
	}
	var t jws
	if err := decodePart(parts[0], &t.header); err != nil {
		return jws{}, verifyErr(ErrMalformed, "header: %v", err)
	}
	if err := decodePart(parts[1], &t.claims); err != nil {
		return jws{}, verifyErr(ErrMalformed, "payload: %v", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jws{}, verifyErr(ErrMalformed, "signature: %v", err)
	}
	t.input, t.signature = parts[0]+"."+parts[1], sig
	return t, nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// checkSignature accepts only RS256 under this Issuer's kid: a token signed by any other key,
// or with another algorithm ("none" included), is refused.
func (i *Issuer) checkSignature(t jws) error {
	if alg, _ := t.header["alg"].(string); alg != "RS256" {
		return verifyErr(ErrSignature, "alg %q, want RS256", alg)
	}
	if kid, _ := t.header["kid"].(string); kid != i.kid {
		return verifyErr(ErrSignature, "kid %q is not in the JWKS", kid)
	}
	sum := sha256.Sum256([]byte(t.input))
	if err := rsa.VerifyPKCS1v15(&i.key.PublicKey, crypto.SHA256, sum[:], t.signature); err != nil {
		return verifyErr(ErrSignature, "%v", err)
	}
	return nil
}
