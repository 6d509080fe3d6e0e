package world

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssq "github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas/types"

	"github.com/sear-ci/sear/internal/testworld/servicequotas"
)

// TestServiceQuotasOnEC2Endpoint: with the world's environment, the SDK's Service Quotas client
// reads a vCPU quota with the job's STS credentials on EC2's port; the control endpoint changes
// its value and denies the call, and the refusal names the assumed role; the state lists the calls.
func TestServiceQuotasOnEC2Endpoint(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	if u := env["AWS_ENDPOINT_URL_SERVICE_QUOTAS"]; u == "" || u != env["AWS_ENDPOINT_URL_EC2"] {
		t.Fatalf("AWS_ENDPOINT_URL_SERVICE_QUOTAS %q, want EC2's %q", u, env["AWS_ENDPOINT_URL_EC2"])
	}
	c := awssq.New(awssq.Options{Region: env["AWS_REGION"], BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_SERVICE_QUOTAS"]),
		Credentials: credentials.StaticCredentialsProvider{Value: assume(t, env)}, Retryer: aws.NopRetryer{}})
	get := func() (*awssq.GetServiceQuotaOutput, error) {
		return c.GetServiceQuota(context.Background(), &awssq.GetServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String(servicequotas.OnDemandP)})
	}
	out, err := get()
	if err != nil || aws.ToFloat64(out.Quota.Value) != servicequotas.DefaultValues[servicequotas.OnDemandP] ||
		aws.ToString(out.Quota.QuotaArn) != "arn:aws:servicequotas:us-east-1:123456789012:ec2/L-417A185B" {
		t.Fatalf("GetServiceQuota: %+v, %v", out, err)
	}

	var q Quotas
	mustControl(t, env, http.MethodPost, ControlPrefix+"/servicequotas", `{"values": {"L-417A185B": 8}}`, &q)
	if q.Values[servicequotas.OnDemandP] != 8 || q.Values[servicequotas.OnDemandG] != servicequotas.DefaultValues[servicequotas.OnDemandG] || *q.AccessDenied {
		t.Errorf("after the change: %+v", q)
	}
	if out, err := get(); err != nil || aws.ToFloat64(out.Quota.Value) != 8 {
		t.Errorf("after the change, GetServiceQuota: %+v, %v", out, err)
	}
	for body, want := range map[string]string{
		`{"values": {"L-NOPE": 1}}`: `quota code "L-NOPE"`,
		`{"value": {}}`:             `unknown field "value"`,
	} {
		if status, raw := control(t, env, http.MethodPost, ControlPrefix+"/servicequotas", body, nil); status != http.StatusBadRequest || !strings.Contains(string(raw), want) {
			t.Errorf("%s: %d %s, want 400 with %q", body, status, raw, want)
		}
	}

	mustControl(t, env, http.MethodPost, ControlPrefix+"/servicequotas", `{"access_denied": true}`, nil)
	_, err = get()
	var ad *types.AccessDeniedException
	if !errors.As(err, &ad) || !strings.Contains(ad.ErrorMessage(), "arn:aws:sts::123456789012:assumed-role/sear-test/world-test is not authorized to perform: servicequotas:GetServiceQuota") {
		t.Errorf("denied: %v", err)
	}
	mustControl(t, env, http.MethodGet, ControlPrefix+"/servicequotas", nil, &q)
	if !*q.AccessDenied || q.Values[servicequotas.OnDemandP] != 8 {
		t.Errorf("GET answered %+v", q)
	}

	var st struct {
		Calls struct {
			ServiceQuotas []servicequotas.Call `json:"servicequotas"`
		} `json:"calls"`
	}
	_, raw := control(t, env, http.MethodGet, ControlPrefix+"/state", nil, nil)
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if calls := st.Calls.ServiceQuotas; len(calls) != 3 || calls[2].ErrorCode != "AccessDeniedException" || calls[0].QuotaCode != servicequotas.OnDemandP {
		t.Errorf("the state's calls: %+v", calls)
	}
}

// TestAWSCLIServiceQuotas: `aws service-quotas get-service-quota`, pointed at the world only by
// its Env (AWS_ENDPOINT_URL_SERVICE_QUOTAS, which botocore reads too), reads the quota.
func TestAWSCLIServiceQuotas(t *testing.T) {
	t.Parallel()
	w := start(t, Options{StaticCredentials: &StaticCredentials{AccessKeyID: "AKIAQUOTACLI00000001", SecretAccessKey: "quota-cli-secret"}})
	out, stderr, err := awsCLI(t, envMap(t, w))("service-quotas", "get-service-quota", "--service-code", "ec2", "--quota-code", servicequotas.OnDemandStandard)
	if err != nil {
		t.Fatalf("aws service-quotas get-service-quota: %v\n%s", err, stderr)
	}
	var resp struct{ Quota struct{ QuotaName string } }
	if err := json.Unmarshal(out, &resp); err != nil || resp.Quota.QuotaName != "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" {
		t.Errorf("the CLI printed %s (%v)", out, err)
	}
}
