package oidc

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Paths the Issuer serves. The discovery document and JWKS sit where GitHub's do under
// https://token.actions.githubusercontent.com ("OpenID Connect reference" points relying parties
// at /.well-known/openid-configuration, whose jwks_uri is /.well-known/jwks).
const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/.well-known/jwks"
	tokenPath     = "/token"
)

// Handler serves the discovery document, the JWKS and the token endpoint.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+discoveryPath, i.serveDiscovery)
	mux.HandleFunc("GET "+jwksPath, i.serveJWKS)
	mux.HandleFunc("GET "+tokenPath, i.serveToken)
	return mux
}

// serveDiscovery answers with the members of GitHub's discovery document that relying parties
// use; claims_supported lists what this emulator puts in its tokens.
func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	iss := i.IssuerURL()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + jwksPath,
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
		"claims_supported": []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref",
			"sha", "repository", "repository_id", "repository_owner", "repository_owner_id",
			"run_id", "run_number", "run_attempt", "actor", "workflow", "workflow_ref",
			"head_ref", "base_ref", "event_name", "ref_type", "environment", "job_workflow_ref",
			"runner_environment"},
	})
}

// serveJWKS publishes the signing key as an RFC 7517 JWK set.
func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	k := i.PublicKey()
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": i.kid,
		"n": b64(k.N.Bytes()), "e": b64(bigEndian(k.E)),
	}}})
}

// serveToken is the endpoint behind ACTIONS_ID_TOKEN_REQUEST_URL: a GET with the request token
// as a bearer credential, an optional audience query parameter (the toolkit appends
// "&audience=..." to a URL that already has a query), and {"value": "<JWT>"} in return, the
// field the toolkit's OidcClient reads. GitHub does not document its refusals; this answers as
// RFC 6750 section 3 describes, 401 with a WWW-Authenticate challenge, and a JSON "message" that
// the toolkit puts in its error.
func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="actions"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "missing bearer token"})
		return
	}
	run, ok := i.runFor(tok)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="actions", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "invalid or expired request token"})
		return
	}
	jwt, err := i.Mint(run, r.URL.Query().Get("audience"))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"value": jwt})
}

// bearer extracts the credential of an Authorization header. The scheme is case-insensitive
// (RFC 9110 section 11.1); GitHub's own curl example sends "bearer".
func bearer(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return "", false
	}
	return cred, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
