package servicequotas

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssq "github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas/types"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

const (
	testKey    = "AKIAQUOTATESTWORLD01"
	testSecret = "servicequotas-test-secret"
)

func newServer() *Server {
	return New(Options{Region: "us-east-1", Credentials: sigv4.StaticSource{testKey: testSecret}})
}

func newClient(t *testing.T, h http.Handler, key, region string) *awssq.Client {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return awssq.New(awssq.Options{Region: region, BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(key, testSecret, ""), Retryer: aws.NopRetryer{}})
}

func get(c *awssq.Client, service, quota string) (*awssq.GetServiceQuotaOutput, error) {
	return c.GetServiceQuota(context.Background(), &awssq.GetServiceQuotaInput{ServiceCode: aws.String(service), QuotaCode: aws.String(quota)})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestGetServiceQuota: the SDK reads an EC2 vCPU quota with the fields a
// ServiceQuota carries, and a value set later.
func TestGetServiceQuota(t *testing.T) {
	t.Parallel()
	srv := newServer()
	c := newClient(t, srv, testKey, "us-east-1")
	out, err := get(c, "ec2", OnDemandG)
	if err != nil {
		t.Fatal(err)
	}
	q := out.Quota
	if aws.ToString(q.QuotaName) != "Running On-Demand G and VT instances" || aws.ToFloat64(q.Value) != DefaultValues[OnDemandG] ||
		aws.ToString(q.QuotaArn) != "arn:aws:servicequotas:us-east-1:123456789012:ec2/L-DB2E81BA" || aws.ToString(q.ServiceCode) != "ec2" ||
		!q.Adjustable || q.GlobalQuota || q.QuotaAppliedAtLevel != types.AppliedLevelEnumAccount || q.UsageMetric == nil ||
		q.UsageMetric.MetricDimensions["Class"] != "G/OnDemand" {
		t.Errorf("quota %+v", q)
	}
	if err := srv.SetValues(map[string]float64{OnDemandG: 8}); err != nil {
		t.Fatal(err)
	}
	if out, err := get(c, "ec2", OnDemandG); err != nil || aws.ToFloat64(out.Quota.Value) != 8 {
		t.Errorf("after SetValues: %+v, %v", out, err)
	}
	if err := srv.SetValues(map[string]float64{"L-NOPE": 1, OnDemandP: -1}); err == nil || srv.Values()[OnDemandP] != DefaultValues[OnDemandP] {
		t.Errorf("bad values: %v, and P is now %v", err, srv.Values()[OnDemandP])
	}
	if calls := srv.Calls(); len(calls) != 2 || calls[0].QuotaCode != OnDemandG || calls[0].AccessKeyID != testKey || calls[0].Status != 200 {
		t.Errorf("calls %+v", calls)
	}
}

// TestGetServiceQuotaErrors: the errors GetServiceQuota lists, each with
// status 400 and read by the SDK as its own typed error.
func TestGetServiceQuotaErrors(t *testing.T) {
	t.Parallel()
	srv := newServer()
	c := newClient(t, srv, testKey, "us-east-1")
	for _, tt := range []struct{ service, quota, want string }{
		{"ec2", "L-00000000", "NoSuchResourceException"},
		{"nosuchservice", OnDemandG, "NoSuchResourceException"},
		{"ec2", "1-bad", "IllegalArgumentException"},
		{"e c2", OnDemandG, "IllegalArgumentException"},
	} {
		_, err := get(c, tt.service, tt.quota)
		var re interface{ HTTPStatusCode() int }
		if code(err) != tt.want || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
			t.Errorf("%s %s: %v, want %s with status 400", tt.service, tt.quota, err, tt.want)
		}
	}
	var nf *types.NoSuchResourceException
	if _, err := get(c, "ec2", "L-00000000"); !errors.As(err, &nf) {
		t.Errorf("the SDK does not read %v as its NoSuchResourceException", err)
	}
	srv.SetAccessDenied(true)
	var ad *types.AccessDeniedException
	_, err := get(c, "ec2", OnDemandG)
	if !errors.As(err, &ad) || !strings.Contains(err.Error(), "servicequotas:GetServiceQuota") {
		t.Errorf("denied: %v, want AccessDeniedException naming servicequotas:GetServiceQuota", err)
	}
}

// TestGetServiceQuotaAuthentication: SigV4 is enforced for the service
// servicequotas, in the JSON protocol's codes.
func TestGetServiceQuotaAuthentication(t *testing.T) {
	t.Parallel()
	srv := newServer()
	for _, tt := range []struct{ name, key, region, want string }{
		{"unknown key", "AKIAQUOTAUNKNOWN0001", "us-east-1", "UnrecognizedClientException"},
		{"other region", testKey, "eu-west-1", "UnrecognizedClientException"},
	} {
		_, err := get(newClient(t, srv, tt.key, tt.region), "ec2", OnDemandG)
		if code(err) != tt.want {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
		}
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp, err := http.Post(hs.URL, "application/x-amz-json-1.1", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned request: status %d", resp.StatusCode)
	}
}

// TestAlongside: Service Quotas' requests reach the emulator, the others
// the handler it shares the endpoint with.
func TestAlongside(t *testing.T) {
	t.Parallel()
	other := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	c := newClient(t, newServer().Alongside(other), testKey, "us-east-1")
	if _, err := get(c, "ec2", OnDemandStandard); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(newServer().Alongside(other))
	defer hs.Close()
	resp, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("a request without X-Amz-Target got %d", resp.StatusCode)
	}
}

// TestAWSCLI: the AWS CLI (botocore) is an independent client: its own
// signer, JSON serializer and error parser read the emulator's answers.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is needed as an independent client (pip install awscli); it is not on PATH: %v", err)
	}
	srv := newServer()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	run := func(args ...string) (string, string, error) {
		dir := t.TempDir()
		for _, f := range []string{"config", "credentials"} {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(path, append([]string{"service-quotas", "get-service-quota", "--endpoint-url", hs.URL,
			"--region", "us-east-1", "--output", "json"}, args...)...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
			"AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		return string(out), stderr.String(), err
	}
	out, stderr, err := run("--service-code", "ec2", "--quota-code", SpotG)
	if err != nil {
		t.Fatalf("aws service-quotas get-service-quota: %v\n%s", err, stderr)
	}
	var resp struct {
		Quota struct {
			QuotaName, QuotaCode, QuotaArn string
			Value                          float64
		}
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("the CLI printed %s: %v", out, err)
	}
	if resp.Quota.QuotaName != "All G and VT Spot Instance Requests" || resp.Quota.Value != DefaultValues[SpotG] || resp.Quota.QuotaCode != SpotG {
		t.Errorf("the CLI read %+v", resp.Quota)
	}
	_, stderr, err = run("--service-code", "ec2", "--quota-code", "L-00000000")
	want := "An error occurred (NoSuchResourceException) when calling the GetServiceQuota operation: The request failed because the specified quota does not exist."
	if err == nil || !strings.Contains(stderr, want) {
		t.Errorf("unknown quota: %v\n%s\nwant %q", err, stderr, want)
	}
	srv.SetAccessDenied(true)
	_, stderr, err = run("--service-code", "ec2", "--quota-code", SpotG)
	if err == nil || !strings.Contains(stderr, "(AccessDeniedException)") {
		t.Errorf("denied: %v\n%s", err, stderr)
	}
}
