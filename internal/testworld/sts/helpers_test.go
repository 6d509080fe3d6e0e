package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/testworld/oidc"
)

const account = "123456789012"

// Roles every world has. Their trust policies are written as GitHub's AWS guide writes them.
var (
	legacyRole    = "arn:aws:iam::" + account + ":role/sear-legacy"
	immutableRole = "arn:aws:iam::" + account + ":role/sear-immutable"
	prOnlyRole    = "arn:aws:iam::" + account + ":role/sear-pr-only"
	otherAudRole  = "arn:aws:iam::" + account + ":role/other-audience"
	longRole      = "arn:aws:iam::" + account + ":role/sear-long"
)

var octo = oidc.Repo{Owner: "octo", Name: "exp", OwnerID: "1001", ID: "2002"}

// clock is a settable time source shared by the OIDC issuer and STS.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is an OIDC issuer and an STS that trusts it, both on loopback, and an SDK client.
type world struct {
	iss    *oidc.Issuer
	sts    *Server
	stsURL string
	client *awssts.Client
}

func newWorld(t *testing.T, now func() time.Time) *world {
	t.Helper()
	iss, err := oidc.NewIssuer(now)
	if err != nil {
		t.Fatal(err)
	}
	oidcSrv := httptest.NewServer(iss.Handler())
	t.Cleanup(oidcSrv.Close)
	iss.SetBaseURL(oidcSrv.URL)
	s := New(iss, now)
	addRoles(s)
	stsSrv := httptest.NewServer(s)
	t.Cleanup(stsSrv.Close)
	return &world{iss: iss, sts: s, stsURL: stsSrv.URL, client: sdkClient(stsSrv.URL)}
}

func addRoles(s *Server) {
	s.AddRole(Role{ARN: legacyRole, Trust: Trust{Audience: "sts.amazonaws.com", SubPatterns: []string{"repo:octo/exp:*"}}})
	s.AddRole(Role{ARN: immutableRole, Trust: Trust{Audience: "sts.amazonaws.com", SubPatterns: []string{"repo:octo@1001/exp@2002:*"}}})
	s.AddRole(Role{ARN: prOnlyRole, Trust: Trust{Audience: "sts.amazonaws.com", SubPatterns: []string{"repo:octo/exp:pull_request", "repo:octo@1001/exp@2002:pull_request"}}})
	s.AddRole(Role{ARN: otherAudRole, Trust: Trust{Audience: "other.example", SubPatterns: []string{"repo:octo/exp:*"}}})
	s.AddRole(Role{ARN: longRole, Trust: Trust{Audience: "sts.amazonaws.com", SubPatterns: []string{"repo:octo/exp:*"}}, MaxSessionDuration: 4 * time.Hour})
}

// sdkClient is aws-sdk-go-v2's STS client pointed at the emulator, unsigned (anonymous
// credentials), without retries so that an error is seen once.
func sdkClient(url string) *awssts.Client {
	return awssts.New(awssts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
	})
}

// tokenRetriever fetches a fresh ID token from the OIDC endpoint on every call, as the Actions
// toolkit does: GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=... with the request token as bearer.
// It implements stscreds.IdentityTokenRetriever.
type tokenRetriever struct {
	requestURL, requestToken, audience string
	fetched                            atomic.Int32
}

func (r *tokenRetriever) GetIdentityToken() ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, r.requestURL+"&audience="+r.audience, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.requestToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct{ Value, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Value == "" {
		return nil, fmt.Errorf("token endpoint: %s %s %v", resp.Status, body.Message, err)
	}
	r.fetched.Add(1)
	return []byte(body.Value), nil
}

func (w *world) retriever(run oidc.RunClaims, audience string) *tokenRetriever {
	return &tokenRetriever{requestURL: w.iss.RequestURL(), requestToken: w.iss.NewRequestToken(run), audience: audience}
}

// token is an ID token for run, fetched through the endpoint.
func (w *world) token(t *testing.T, run oidc.RunClaims, audience string) string {
	t.Helper()
	tok, err := w.retriever(run, audience).GetIdentityToken()
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func (w *world) assume(role, session, token string, duration int32) (*awssts.AssumeRoleWithWebIdentityOutput, error) {
	in := &awssts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String(session), WebIdentityToken: aws.String(token),
	}
	if duration != 0 {
		in.DurationSeconds = aws.Int32(duration)
	}
	return w.client.AssumeRoleWithWebIdentity(context.Background(), in)
}

// apiError unpacks the code, HTTP status and message the SDK saw.
func apiErrorOf(t *testing.T, err error) (code string, status int, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status, ae.ErrorMessage()
}
