package ssm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

const (
	testKey    = "AKIASSMTESTWORLD0001"
	testSecret = "ssm-test-secret"
)

func newClient(t *testing.T, h http.Handler, key, region string) *awsssm.Client {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return awsssm.New(awsssm.Options{Region: region, BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(key, testSecret, ""),
		Retryer:     aws.NopRetryer{}})
}

func newServer() *Server {
	return New(Options{Region: "us-east-1", Credentials: sigv4.StaticSource{testKey: testSecret},
		Parameters: map[string]string{DLAMIParameter: "ami-0d1a2b3c4d5e60010"}})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestGetParameter: the SDK reads a public parameter by name and by ARN,
// with what GetParameter's response carries.
func TestGetParameter(t *testing.T) {
	t.Parallel()
	c := newClient(t, newServer(), testKey, "us-east-1")
	for _, name := range []string{DLAMIParameter, "arn:aws:ssm:us-east-1::parameter" + DLAMIParameter} {
		out, err := c.GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := out.Parameter
		if aws.ToString(p.Value) != "ami-0d1a2b3c4d5e60010" || aws.ToString(p.Name) != DLAMIParameter || p.Type != types.ParameterTypeString ||
			aws.ToString(p.DataType) != "aws:ec2:image" || aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1::parameter"+DLAMIParameter ||
			p.Version != 1 || p.LastModifiedDate == nil || time.Since(*p.LastModifiedDate) > time.Hour {
			t.Errorf("%s: %+v", name, p)
		}
	}
}

// TestGetParameterErrors: an unknown name is ParameterNotFound with status
// 400; a name with a space and an empty name are ValidationException.
func TestGetParameterErrors(t *testing.T) {
	t.Parallel()
	c := newClient(t, newServer(), testKey, "us-east-1")
	for name, want := range map[string]string{
		DLAMIArmParameter:            "ParameterNotFound",
		"/aws/service/deep learning": "ValidationException",
		"":                           "ValidationException",
	} {
		_, err := c.GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String(name)})
		var re interface{ HTTPStatusCode() int }
		if code(err) != want || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
			t.Errorf("%q: %v, want %s with status 400", name, err, want)
		}
	}
	var nf *types.ParameterNotFound
	_, err := c.GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String("/nope")})
	if !errors.As(err, &nf) {
		t.Errorf("the SDK does not read %v as its ParameterNotFound", err)
	}
}

// TestGetParameterAuthentication: SigV4 is enforced as for EC2, in the
// JSON protocol's codes: an unknown key, a wrong secret and a request
// signed for another region are refused.
func TestGetParameterAuthentication(t *testing.T) {
	t.Parallel()
	srv := newServer()
	for _, tt := range []struct {
		name, key, region, want string
	}{
		{"unknown key", "AKIASSMUNKNOWN000001", "us-east-1", "UnrecognizedClientException"},
		{"other region", testKey, "eu-west-1", "UnrecognizedClientException"},
	} {
		c := newClient(t, srv, tt.key, tt.region)
		_, err := c.GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String(DLAMIParameter)})
		if code(err) != tt.want {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
		}
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	wrong := awsssm.New(awsssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(testKey, "not-the-secret", ""), Retryer: aws.NopRetryer{}})
	if _, err := wrong.GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String(DLAMIParameter)}); code(err) != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v, want InvalidSignatureException", err)
	}
	req, _ := http.NewRequest(http.MethodPost, hs.URL, nil)
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned request: %s, want 400", resp.Status)
	}
}

// TestAlongside: SSM requests reach the SSM emulator, everything else the
// other handler.
func TestAlongside(t *testing.T) {
	t.Parallel()
	other := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	c := newClient(t, newServer().Alongside(other), testKey, "us-east-1")
	if _, err := c.GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String(DLAMIParameter)}); err != nil {
		t.Fatal(err)
	}
}
