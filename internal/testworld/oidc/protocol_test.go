package oidc

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
)

func TestTokenEndpointAsTheToolkitCallsIt(t *testing.T) {
	t.Parallel()
	iss, srv := serve(t, nil)
	reqToken := iss.NewRequestToken(octo.PullRequest(7, "feature", "main"))
	tests := []struct {
		name, url, wantAud string
	}{
		{"audience appended to the runner's query", iss.RequestURL() + "&audience=sts.amazonaws.com", "sts.amazonaws.com"},
		{"no audience asked", iss.RequestURL(), "https://github.com/octo"},
		{"audience alone in the query", srv.URL + "/token?audience=sts.amazonaws.com", "sts.amazonaws.com"},
		{"encoded audience", iss.RequestURL() + "&audience=api%3A%2F%2FAzureADTokenExchange", "api://AzureADTokenExchange"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := getToken(t, tc.url, "Bearer "+reqToken)
			if status != http.StatusOK || body["value"] == "" {
				t.Fatalf("got %d %v, want 200 with a value", status, body)
			}
			claims, err := iss.Verify(body["value"], tc.wantAud)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims["sub"] != "repo:octo/exp:pull_request" {
				t.Errorf("sub = %v", claims["sub"])
			}
		})
	}
}

func TestTokenEndpointRefusesBadBearers(t *testing.T) {
	t.Parallel()
	iss, _ := serve(t, nil)
	good := iss.NewRequestToken(octo.Push("main"))
	revoked := iss.NewRequestToken(octo.Push("main"))
	iss.RevokeRequestToken(revoked)
	tests := []struct {
		name, auth string
		want       int
	}{
		{"no Authorization header", "", http.StatusUnauthorized},
		{"basic scheme", "Basic " + good, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"unknown token", "Bearer not-a-request-token", http.StatusUnauthorized},
		{"revoked token", "Bearer " + revoked, http.StatusUnauthorized},
		{"lower-case scheme as GitHub's curl example", "bearer " + good, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := getToken(t, iss.RequestURL()+"&audience=sts.amazonaws.com", tc.auth)
			if status != tc.want {
				t.Fatalf("status = %d (%v), want %d", status, body, tc.want)
			}
			if status != http.StatusOK && body["message"] == "" {
				t.Errorf("refusal has no message for the toolkit to show: %v", body)
			}
		})
	}
}

func TestTokenEndpointIsGetOnly(t *testing.T) {
	t.Parallel()
	iss, _ := serve(t, nil)
	tok := iss.NewRequestToken(octo.Push("main"))
	req, _ := http.NewRequest(http.MethodPost, iss.RequestURL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %s, want 405", resp.Status)
	}
}

// TestJWKSVerifiesToken follows discovery as a relying party does and checks the signature with
// crypto/rsa on the published key alone, not through Issuer.Verify.
func TestJWKSVerifiesToken(t *testing.T) {
	t.Parallel()
	iss, srv := serve(t, nil)
	var disc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	getJSON(t, srv.URL+"/.well-known/openid-configuration", &disc)
	if disc.Issuer != srv.URL || !strings.HasPrefix(disc.JWKSURI, srv.URL) || disc.Algs[0] != "RS256" {
		t.Fatalf("discovery = %+v", disc)
	}
	key := fetchKey(t, disc.JWKSURI, iss.KeyID())
	_, body := getToken(t, iss.RequestURL()+"&audience=sts.amazonaws.com", "Bearer "+iss.NewRequestToken(octo.Push("main")))
	parts := strings.Split(body["value"], ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify with the JWKS key: %v", err)
	}
}

// fetchKey reads the RSA key with kid from a JWKS.
func fetchKey(t *testing.T, url, kid string) *rsa.PublicKey {
	t.Helper()
	var set struct {
		Keys []struct{ Kty, Alg, Use, Kid, N, E string } `json:"keys"`
	}
	getJSON(t, url, &set)
	for _, k := range set.Keys {
		if k.Kid != kid {
			continue
		}
		if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
			t.Fatalf("jwk = %+v", k)
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	t.Fatalf("kid %s not in JWKS %+v", kid, set)
	return nil
}
