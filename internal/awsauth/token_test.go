package awsauth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTokenURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0",
			"https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0&audience=sts.amazonaws.com"},
		{"https://example.test/token", "https://example.test/token?audience=sts.amazonaws.com"},
		{"https://example.test/token?", "https://example.test/token?audience=sts.amazonaws.com"},
		{"http://127.0.0.1:8080/token?a=1&b=x%2Fy", "http://127.0.0.1:8080/token?a=1&b=x%2Fy&audience=sts.amazonaws.com"},
	}
	for _, tc := range tests {
		got, err := tokenURL(tc.raw, Audience)
		if err != nil || got != tc.want {
			t.Errorf("tokenURL(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
		}
	}
	for _, bad := range []string{"not a url", "/relative/token?x=1", "ftp://example.test/token", "https://", "://x"} {
		if _, err := tokenURL(bad, Audience); err == nil || !strings.Contains(err.Error(), "ACTIONS_ID_TOKEN_REQUEST_URL") {
			t.Errorf("tokenURL(%q) = %v, want an error naming the variable", bad, err)
		}
	}
	if _, err := tokenURL("ftp://h/p?sig=secret", Audience); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error quotes the URL's query: %v", err)
	}
}

// A token endpoint serving canned answers, counting requests.
type cannedEndpoint struct {
	hits    atomic.Int32
	answers []func(w http.ResponseWriter, r *http.Request)
}

func (c *cannedEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(c.hits.Add(1)) - 1
	c.answers[min(n, len(c.answers)-1)](w, r)
}

func status(code int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// fakeJWT is a JWT-shaped token with the given payload; its signature is not checked here.
func fakeJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("signature"))
}

const bearer = "request-token-0123456789"

func newTestSource(t *testing.T, h http.Handler) (*tokenSource, *[]string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var masked []string
	o := Options{Getenv: func(k string) string {
		return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": bearer}[k]
	}, Mask: func(s string) { mu.Lock(); masked = append(masked, s); mu.Unlock() }}.withDefaults()
	src, err := newTokenSource(o)
	if err != nil {
		t.Fatal(err)
	}
	src.backoff = time.Millisecond
	return src, &masked
}

func TestTokenEndpointAnswers(t *testing.T) {
	t.Parallel()
	good := fakeJWT(`{"sub":"repo:octo/exp:pull_request","aud":"sts.amazonaws.com","iss":"https://token.actions.githubusercontent.com"}`)
	tests := []struct {
		name    string
		answers []func(http.ResponseWriter, *http.Request)
		hits    int
		want    string // part of the error; empty for success
	}{
		{"token", []func(http.ResponseWriter, *http.Request){status(200, `{"value":"`+good+`"}`)}, 1, ""},
		{"5xx then a token", []func(http.ResponseWriter, *http.Request){status(503, "busy"), status(200, `{"value":"`+good+`"}`)}, 2, ""},
		{"429 then a token", []func(http.ResponseWriter, *http.Request){status(429, "slow down"), status(200, `{"value":"`+good+`"}`)}, 2, ""},
		{"5xx until attempts run out", []func(http.ResponseWriter, *http.Request){status(500, "down")}, tokenAttempts, `answered 500 Internal Server Error: "down"`},
		{"404 is not retried", []func(http.ResponseWriter, *http.Request){status(404, "no such job")}, 1, `answered 404 Not Found: "no such job"`},
		{"401 names the fix", []func(http.ResponseWriter, *http.Request){status(401, `{"message":"bad token"}`)}, 1, "valid only while its job runs"},
		{"echoed bearer is redacted", []func(http.ResponseWriter, *http.Request){status(403, "refused "+bearer)}, 1, `"refused ***"`},
		{"long body is cut", []func(http.ResponseWriter, *http.Request){status(400, strings.Repeat("x", 1000))}, 1, strings.Repeat("x", excerptLen) + `..."`},
		{"control characters flattened", []func(http.ResponseWriter, *http.Request){status(400, "a\n\x1b[31mb\tc")}, 1, `"a [31mb c"`},
		{"empty error body", []func(http.ResponseWriter, *http.Request){status(502, "")}, tokenAttempts, "(empty body)"},
		{"not JSON", []func(http.ResponseWriter, *http.Request){status(200, "<html>")}, 1, `is not {"value": "<token>"}`},
		{"no value", []func(http.ResponseWriter, *http.Request){status(200, `{"message":"x"}`)}, 1, `is not {"value": "<token>"}`},
		{"value not a JWT", []func(http.ResponseWriter, *http.Request){status(200, `{"value":"abc.def"}`)}, 1, "not a JWT: 2 dot-separated parts"},
		{"too large", []func(http.ResponseWriter, *http.Request){status(200, `{"value":"`+strings.Repeat("a", maxTokenResponse)+`"}`)}, 1, "larger than 64 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ep := &cannedEndpoint{answers: tc.answers}
			src, masked := newTestSource(t, ep)
			tok, c, err := src.fetch(context.Background())
			if int(ep.hits.Load()) != tc.hits {
				t.Errorf("%d requests, want %d", ep.hits.Load(), tc.hits)
			}
			if tc.want == "" {
				if err != nil || tok != good || c.Sub != "repo:octo/exp:pull_request" || !contains(*masked, good) {
					t.Fatalf("token %q, claims %+v, err %v, masked %d", tok, c, err, len(*masked))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), bearer) {
				t.Errorf("error holds the request token: %v", err)
			}
		})
	}
}

// A value that came back is masked even when it is not a token, in case it is one after all.
func TestTokenMaskedBeforeItIsChecked(t *testing.T) {
	t.Parallel()
	src, masked := newTestSource(t, &cannedEndpoint{answers: []func(http.ResponseWriter, *http.Request){status(200, `{"value":"opaque-secret"}`)}})
	_, _, err := src.fetch(context.Background())
	if err == nil || !contains(*masked, "opaque-secret") || strings.Contains(err.Error(), "opaque-secret") {
		t.Fatalf("err %v, masked %q", err, *masked)
	}
}

// A hung endpoint does not outlive the caller's context, and is not retried after it ends.
func TestTokenRequestFollowsTheContext(t *testing.T) {
	t.Parallel()
	ep := &cannedEndpoint{answers: []func(http.ResponseWriter, *http.Request){func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }}}
	src, _ := newTestSource(t, ep)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := src.fetch(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second || ep.hits.Load() != 1 {
		t.Fatalf("after %v and %d requests: %v", time.Since(start), ep.hits.Load(), err)
	}
}

func TestDecodeClaims(t *testing.T) {
	t.Parallel()
	c, err := decodeClaims(fakeJWT(`{"sub":"repo:octo@1001/exp@2002:pull_request","aud":["sts.amazonaws.com","x"],"iss":"https://token.actions.githubusercontent.com/acme"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Aud != "sts.amazonaws.com, x" || c.provider() != "token.actions.githubusercontent.com/acme" || !c.immutableSub() {
		t.Errorf("claims %+v, provider %s", c, c.provider())
	}
	// Without the repository claims, the patterns come from the sub.
	if c.subByName() != "repo:octo/exp:*" || c.subByID() != "repo:octo@1001/exp@2002:*" {
		t.Errorf("patterns %s %s", c.subByName(), c.subByID())
	}
	var none claims
	if none.subByName() != "repo:OWNER/REPO:*" || none.subByID() != "repo:OWNER@OWNER_ID/REPO@REPO_ID:*" || none.provider() != "token.actions.githubusercontent.com" {
		t.Errorf("placeholders %s %s %s", none.subByName(), none.subByID(), none.provider())
	}
	for _, bad := range []string{"", "a.b", "a.!!!.c", fakeJWT("[1,2]"), fakeJWT(`{"aud":7}`)} {
		if _, err := decodeClaims(bad); err == nil {
			t.Errorf("decodeClaims(%q) accepted", bad)
		}
	}
}

func FuzzDecodeClaims(f *testing.F) {
	f.Add(fakeJWT(`{"sub":"repo:octo/exp:ref:refs/heads/main","aud":"sts.amazonaws.com"}`))
	f.Add(fakeJWT(`{"sub":"repo:a@1/b@2:pull_request","aud":["x"]}`))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := decodeClaims(tok)
		if err != nil {
			return
		}
		// Whatever the claims, the hints are well-formed patterns for this repository.
		for _, p := range []string{c.subByName(), c.subByID()} {
			if !strings.HasPrefix(p, "repo:") || !strings.HasSuffix(p, ":*") {
				t.Errorf("pattern %q from sub %q", p, c.Sub)
			}
		}
	})
}

func TestSessionName(t *testing.T) {
	t.Parallel()
	env := func(id string) func(string) string {
		return func(string) string { return id }
	}
	tests := []struct{ given, runID, want string }{
		{"", "4242", "sear-4242"},
		{"", "", "sear-local"},
		{"", "12 34/x", "sear-12-34-x"},
		{"", strings.Repeat("9", 80), "sear-" + strings.Repeat("9", 59)},
		{"mine=ok,.@-_", "4242", "mine=ok,.@-_"},
	}
	for _, tc := range tests {
		got, err := sessionName(tc.given, env(tc.runID))
		if err != nil || got != tc.want {
			t.Errorf("sessionName(%q, run %q) = %q, %v; want %q", tc.given, tc.runID, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a", strings.Repeat("a", 65), "has space", "ünicode"} {
		if _, err := sessionName(bad, env("1")); err == nil {
			t.Errorf("sessionName(%q) accepted", bad)
		}
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	r, err := parseRole("arn:aws-us-gov:iam::123456789012:role/path/to/deploy")
	if err != nil || r.name != "deploy" || r.account != "123456789012" {
		t.Fatalf("parseRole = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "deploy", "arn:aws:iam::12345:role/x", "arn:aws:sts::123456789012:assumed-role/x/y", "arn:aws:iam::123456789012:role/"} {
		if _, err := parseRole(bad); err == nil {
			t.Errorf("parseRole(%q) accepted", bad)
		}
	}
}
