package fakeec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

const (
	testKey    = "AKIAEC2TESTWORLD0001"
	testSecret = "ec2-test-secret"
	testRegion = "us-east-1"
)

// fixture is an emulator behind an httptest server, with an SDK client.
type fixture struct {
	srv    *Server
	http   *httptest.Server
	client *ec2.Client
}

// newFixture starts an emulator with short delays so tests stay fast.
func newFixture(t *testing.T, mods ...func(*Options)) *fixture {
	t.Helper()
	opts := Options{Region: testRegion, Credentials: sigv4.StaticSource{testKey: testSecret},
		BootDelay: 30 * time.Millisecond, TerminateDelay: 30 * time.Millisecond}
	for _, m := range mods {
		m(&opts)
	}
	srv := New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	f := &fixture{srv: srv, http: hs}
	f.client = f.newClient(credentials.NewStaticCredentialsProvider(testKey, testSecret, ""))
	return f
}

// newClient is aws-sdk-go-v2's EC2 client pointed at the emulator, with the
// standard retryer (backoff shortened so retries do not slow the tests).
func (f *fixture) newClient(creds aws.CredentialsProvider, mods ...func(*ec2.Options)) *ec2.Client {
	cfg := aws.Config{
		Region:      testRegion,
		Credentials: creds,
		HTTPClient:  f.http.Client(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 20 * time.Millisecond })
		},
	}
	mods = append([]func(*ec2.Options){func(o *ec2.Options) { o.BaseEndpoint = aws.String(f.http.URL) }}, mods...)
	return ec2.NewFromConfig(cfg, mods...)
}

// apiCode is the smithy API error code of err, or "" when err is nil.
func apiCode(t *testing.T, err error) string {
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

// wantCode fails unless err carries the given API error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apiCode(t, err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// runInput is a minimal valid RunInstances request.
func runInput(mods ...func(*ec2.RunInstancesInput)) *ec2.RunInstancesInput {
	in := &ec2.RunInstancesInput{
		ImageId: aws.String(UbuntuJammyImageID), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
	}
	for _, m := range mods {
		m(in)
	}
	return in
}

// run launches and fails the test on error.
func (f *fixture) run(t *testing.T, mods ...func(*ec2.RunInstancesInput)) []types.Instance {
	t.Helper()
	out, err := f.client.RunInstances(context.Background(), runInput(mods...))
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	return out.Instances
}

// describe returns one instance as DescribeInstances reports it.
func (f *fixture) describe(t *testing.T, id string) types.Instance {
	t.Helper()
	out, err := f.client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	return out.Reservations[0].Instances[0]
}

func ids(insts []types.Instance) []string {
	var out []string
	for _, i := range insts {
		out = append(out, aws.ToString(i.InstanceId))
	}
	return out
}

// waitRunning uses the SDK's own waiter, polling fast.
func (f *fixture) waitRunning(t *testing.T, ids ...string) {
	t.Helper()
	w := ec2.NewInstanceRunningWaiter(f.client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: ids}, 10*time.Second); err != nil {
		t.Fatalf("wait running: %v", err)
	}
}

func (f *fixture) waitTerminated(t *testing.T, ids ...string) {
	t.Helper()
	w := ec2.NewInstanceTerminatedWaiter(f.client, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: ids}, 10*time.Second); err != nil {
		t.Fatalf("wait terminated: %v", err)
	}
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawCall sends a hand-built, correctly signed query request, for what the
// SDK would never send (unknown actions, missing versions).
func (f *fixture) rawCall(t *testing.T, form url.Values) (int, string) {
	t.Helper()
	body := form.Encode()
	req, _ := http.NewRequest(http.MethodPost, f.http.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ec2", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func tagSpec(rt types.ResourceType, tags ...types.Tag) types.TagSpecification {
	return types.TagSpecification{ResourceType: rt, Tags: tags}
}

func tagMap(tags []types.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}
