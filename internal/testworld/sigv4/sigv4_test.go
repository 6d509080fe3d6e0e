package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	tempKey    = "ASIATEMPEXAMPLE"
	tempSecret = "temp-secret"
	tempToken  = "temp-session-token"
	oldKey     = "ASIAEXPIREDEXAMPLE"
)

// tempSource serves one long-term key, one valid temporary key and one
// expired temporary key, like the STS emulator's store would.
type tempSource struct{ now time.Time }

func (s tempSource) Lookup(id string) (string, string, time.Time, bool) {
	switch id {
	case testKey:
		return testSecret, "", time.Time{}, true
	case tempKey:
		return tempSecret, tempToken, s.now.Add(time.Hour), true
	case oldKey:
		return tempSecret, tempToken, s.now.Add(-time.Second), true
	}
	return "", "", time.Time{}, false
}

// verifier is an httptest server that runs Verify on what it receives, so
// the request is checked as it arrives on the wire (Host, Content-Length,
// escaping), not as the client built it.
type verifier struct {
	srv *httptest.Server
	now time.Time

	mu     sync.Mutex
	key    string
	result *Error
}

func newVerifier(t *testing.T) *verifier {
	v := &verifier{now: time.Now().UTC()}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key, err := Verify(r, body, tempSource{v.now}, "ec2", "us-east-1", v.now)
		v.mu.Lock()
		v.key, v.result = key, err
		v.mu.Unlock()
	}))
	t.Cleanup(v.srv.Close)
	return v
}

// send delivers a prepared request and returns what Verify said.
func (v *verifier) send(t *testing.T, req *http.Request) (string, *Error) {
	t.Helper()
	resp, err := v.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	resp.Body.Close()
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.key, v.result
}

// request builds a POST like the EC2 query protocol sends.
func (v *verifier) request(t *testing.T, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, v.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return req
}

// sign signs req with aws-sdk-go-v2's own signer.
func sign(t *testing.T, req *http.Request, body string, creds aws.Credentials, service, region string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
}

var (
	static  = aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	session = aws.Credentials{AccessKeyID: tempKey, SecretAccessKey: tempSecret, SessionToken: tempToken}
)

const body = "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b%2A"

func TestVerifyAcceptsSDKSignedRequests(t *testing.T) {
	v := newVerifier(t)
	cases := []struct {
		name  string
		path  string
		creds aws.Credentials
		skew  time.Duration
	}{
		{"static key", "/", static, 0},
		{"session credentials", "/", session, 0},
		{"escaped path and repeated query keys", "/a%20b/c~d/?b=2&a=x%20y&a=1&empty=&z=%2F", static, 0},
		{"clock four minutes behind", "/", static, -4 * time.Minute},
		{"clock four minutes ahead", "/", static, 4 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := v.request(t, c.path, body)
			sign(t, req, body, c.creds, "ec2", "us-east-1", v.now.Add(c.skew))
			key, err := v.send(t, req)
			if err != nil {
				t.Fatalf("Verify refused a valid request: %v", err)
			}
			if key != c.creds.AccessKeyID {
				t.Errorf("access key = %q, want %q", key, c.creds.AccessKeyID)
			}
		})
	}
}

func TestVerifyRefusesTamperedRequests(t *testing.T) {
	v := newVerifier(t)
	cases := []struct {
		name   string
		creds  aws.Credentials
		region string
		svc    string
		skew   time.Duration
		tamper func(*http.Request)
		body   string // sent instead of the signed body when set
		code   string
		status int
	}{
		{name: "body changed", creds: static, body: strings.Replace(body, "a+b", "a+c", 1), code: "SignatureDoesNotMatch", status: 403},
		{name: "signed header changed", creds: static, tamper: setHeader("Content-Type", "text/plain"), code: "SignatureDoesNotMatch", status: 403},
		{name: "query added", creds: static, tamper: func(r *http.Request) { r.URL.RawQuery = "x=1" }, code: "SignatureDoesNotMatch", status: 403},
		{name: "signature altered", creds: static, tamper: alterSignature, code: "SignatureDoesNotMatch", status: 403},
		{name: "wrong secret", creds: aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "nope"}, code: "SignatureDoesNotMatch", status: 403},
		{name: "payload hash header lies", creds: static, tamper: setHeader("X-Amz-Content-Sha256", strings.Repeat("0", 64)), code: "SignatureDoesNotMatch", status: 403},
		{name: "unknown key", creds: aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}, code: "AuthFailure", status: 401},
		{name: "wrong region in scope", creds: static, region: "eu-west-1", code: "AuthFailure", status: 401},
		{name: "wrong service in scope", creds: static, svc: "sts", code: "AuthFailure", status: 401},
		{name: "clock six minutes behind", creds: static, skew: -6 * time.Minute, code: "RequestExpired", status: 400},
		{name: "clock six minutes ahead", creds: static, skew: 6 * time.Minute, code: "RequestExpired", status: 400},
		{name: "session token missing", creds: session, tamper: delHeader("X-Amz-Security-Token"), code: "AuthFailure", status: 401},
		{name: "session token of another session", creds: aws.Credentials{AccessKeyID: tempKey, SecretAccessKey: tempSecret, SessionToken: "other"}, code: "AuthFailure", status: 401},
		{name: "token sent with a long-term key", creds: aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: tempToken}, code: "AuthFailure", status: 401},
		{name: "expired session credentials", creds: aws.Credentials{AccessKeyID: oldKey, SecretAccessKey: tempSecret, SessionToken: tempToken}, code: "RequestExpired", status: 400},
		{name: "no authorization header", creds: static, tamper: delHeader("Authorization"), code: "MissingAuthenticationToken", status: 403},
		{name: "other algorithm", creds: static, tamper: replaceInAuth("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), code: "IncompleteSignature", status: 400},
		{name: "credential without scope", creds: static, tamper: replaceInAuth("/us-east-1/ec2/aws4_request", ""), code: "IncompleteSignature", status: 400},
		{name: "host not signed", creds: static, tamper: replaceInAuth(";host;", ";"), code: "IncompleteSignature", status: 400},
		{name: "no date header", creds: static, tamper: delHeader("X-Amz-Date"), code: "IncompleteSignature", status: 400},
		{name: "scope date differs from request date", creds: static, tamper: shiftScopeDate, code: "SignatureDoesNotMatch", status: 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sent := body
			if c.body != "" {
				sent = c.body
			}
			req := v.request(t, "/", sent)
			sign(t, req, body, c.creds, or(c.svc, "ec2"), or(c.region, "us-east-1"), v.now.Add(c.skew))
			if c.tamper != nil {
				c.tamper(req)
			}
			_, err := v.send(t, req)
			if err == nil {
				t.Fatal("Verify accepted a tampered request")
			}
			if err.Code != c.code || err.Status != c.status {
				t.Errorf("got %d %s (%s), want %d %s", err.Status, err.Code, err.Message, c.status, c.code)
			}
		})
	}
}

// TestVerifyAWSDocumentationExample checks the worked example of the AWS
// General Reference ("Examples of the complete Signature Version 4 signing
// process": IAM ListUsers at 20150830T123600Z), an oracle independent of the
// SDK's signer.
func TestVerifyAWSDocumentationExample(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Amz-Date", "20150830T123600Z")
	canonical := canonicalRequest(req, []string{"content-type", "host", "x-amz-date"}, hashOf(""))
	if got := hashOf(canonical); got != "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59" {
		t.Fatalf("canonical request hash = %s\n%s", got, canonical)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	if _, err := Verify(req, nil, StaticSource{testKey: testSecret}, "iam", "us-east-1", now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestStaticSource(t *testing.T) {
	src := StaticSource{"AKIA1": "s1"}
	secret, token, exp, ok := src.Lookup("AKIA1")
	if !ok || secret != "s1" || token != "" || !exp.IsZero() {
		t.Errorf("Lookup(AKIA1) = %q %q %v %v", secret, token, exp, ok)
	}
	if _, _, _, ok := src.Lookup("AKIA2"); ok {
		t.Error("Lookup of an unknown key succeeded")
	}
}

func TestUriEncode(t *testing.T) {
	got := uriEncode("a b/~*é")
	if want := "a%20b%2F~%2A%C3%A9"; got != want {
		t.Errorf("uriEncode = %q, want %q", got, want)
	}
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func setHeader(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

func delHeader(k string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Del(k) }
}

func replaceInAuth(old, repl string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, repl, 1))
	}
}

func alterSignature(r *http.Request) {
	auth := r.Header.Get("Authorization")
	last := auth[len(auth)-1]
	flip := byte('0')
	if last == '0' {
		flip = '1'
	}
	r.Header.Set("Authorization", auth[:len(auth)-1]+string(flip))
}

// shiftScopeDate moves X-Amz-Date to the previous day, keeping the time of
// day, so the scope's date no longer matches.
func shiftScopeDate(r *http.Request) {
	t, _ := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	r.Header.Set("X-Amz-Date", t.Add(-24*time.Hour).Format(amzDateFormat))
}
