package world

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// start brings a world up for one test and closes it when the test ends.
func start(t *testing.T, opts Options) *World {
	t.Helper()
	w, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

// envMap is Env as a map, failing the test on a duplicate or malformed entry.
func envMap(t *testing.T, w *World) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range w.Env() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			t.Fatalf("Env entry %q is not NAME=value", kv)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("Env names %s twice", k)
		}
		m[k] = v
	}
	return m
}

// idToken fetches an ID token the way the Actions toolkit's OidcClient does: GET
// ACTIONS_ID_TOKEN_REQUEST_URL with "&audience=..." appended and the request token as a bearer
// credential, and read "value" from the JSON answer.
func idToken(env map[string]string, audience string) (string, error) {
	u := env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" + url.QueryEscape(audience)
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Value, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Value == "" {
		return "", fmt.Errorf("token endpoint answered %s %q: %v", resp.Status, body.Message, err)
	}
	return body.Value, nil
}

// retriever is stscreds.IdentityTokenRetriever over the Actions endpoint.
type retriever map[string]string

func (r retriever) GetIdentityToken() ([]byte, error) {
	tok, err := idToken(r, "sts.amazonaws.com")
	return []byte(tok), err
}

// assume exchanges a fresh ID token for session credentials with the SDK's STS client, at the
// endpoint Env names.
func assume(t *testing.T, env map[string]string) aws.Credentials {
	t.Helper()
	tok, err := idToken(env, "sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	client := awssts.New(awssts.Options{Region: env["AWS_REGION"], BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_STS"])})
	out, err := client.AssumeRoleWithWebIdentity(context.Background(), &awssts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(env["SEAR_TESTWORLD_ROLE_ARN"]), RoleSessionName: aws.String("world-test"),
		WebIdentityToken: aws.String(tok),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey,
		SessionToken: *c.SessionToken, CanExpire: true, Expires: *c.Expiration}
}

// ec2Client is the SDK's EC2 client at the endpoint Env names. Retries are off unless a test
// asks for them, so each injected error is seen once.
func ec2Client(env map[string]string, creds aws.Credentials, mods ...func(*awsec2.Options)) *awsec2.Client {
	o := awsec2.Options{
		Region: env["AWS_REGION"], BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_EC2"]),
		Credentials: credentials.StaticCredentialsProvider{Value: creds}, Retryer: aws.NopRetryer{},
	}
	for _, m := range mods {
		m(&o)
	}
	return awsec2.New(o)
}

// launch runs instances and fails the test on error.
func launch(t *testing.T, c *awsec2.Client, mods ...func(*awsec2.RunInstancesInput)) []types.Instance {
	t.Helper()
	in := &awsec2.RunInstancesInput{
		ImageId: aws.String(fakeec2.UbuntuJammyImageID), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("sear:run-id"), Value: aws.String("world-test")}}}},
	}
	for _, m := range mods {
		m(in)
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	return out.Instances
}

// code is the AWS error code of err, "" for nil.
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode()
}

// githubClient is go-github at GITHUB_API_URL with GITHUB_TOKEN.
func githubClient(t *testing.T, env map[string]string) *gh.Client {
	t.Helper()
	c := gh.NewClient(nil).WithAuthToken(env["GITHUB_TOKEN"])
	u, err := url.Parse(env["GITHUB_API_URL"] + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

// control calls the control endpoint and decodes its JSON answer into out (if not nil). It
// returns the status and the body, or for an error answer the message in it.
func control(t *testing.T, env map[string]string, method, path string, body any, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, env["SEAR_TESTWORLD_URL"]+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 300 {
		// Errors are {"message": ...}; hand back the message itself, unescaped, for matching.
		var e struct{ Message string }
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			raw = []byte(e.Message)
		}
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s answered %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, raw
}

// mustControl is control for calls that must succeed.
func mustControl(t *testing.T, env map[string]string, method, path string, body, out any) {
	t.Helper()
	if status, raw := control(t, env, method, path, body, out); status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, status, raw)
	}
}

// instanceState is one instance from the state endpoint.
func instanceState(t *testing.T, env map[string]string, id string) fakeec2.InstanceState {
	t.Helper()
	var st State
	mustControl(t, env, http.MethodGet, "/_testworld/state", nil, &st)
	for _, i := range st.EC2.Instances {
		if i.ID == id {
			return i
		}
	}
	t.Fatalf("state has no instance %s", id)
	return fakeec2.InstanceState{}
}

// waitState polls until the instance reaches want, for at most five seconds.
func waitState(t *testing.T, env map[string]string, id, want string) fakeec2.InstanceState {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := instanceState(t, env, id)
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s is %s, not %s, after 5s", id, st.State, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
