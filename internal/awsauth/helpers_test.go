package awsauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/oidc"
	"github.com/sear-ci/sear/internal/testworld/sts"
)

const account = "123456789012"

// Roles every world has, with trust policies as GitHub's guide for AWS writes them.
var (
	legacyRole    = "arn:aws:iam::" + account + ":role/sear-legacy"
	immutableRole = "arn:aws:iam::" + account + ":role/sear-immutable"
	prOnlyRole    = "arn:aws:iam::" + account + ":role/sear-pr-only"
	missingRole   = "arn:aws:iam::" + account + ":role/nope"
)

var octo = oidc.Repo{Owner: "octo", Name: "exp", OwnerID: "1001", ID: "2002"}

// world is the Actions token endpoint, an STS that trusts it and an EC2 that accepts what that
// STS issues, all on loopback, and the environment a job in it would see.
type world struct {
	iss       *oidc.Issuer
	sts       *sts.Server
	oidcURL   string
	stsURL    string
	ec2URL    string
	reqToken  string // ACTIONS_ID_TOKEN_REQUEST_TOKEN
	env       map[string]string
	tokenHits atomic.Int32
	// stripAudience makes the token endpoint ignore the audience asked for, so that it issues
	// GitHub's default audience (https://github.com/OWNER), which the IAM provider does not list.
	stripAudience atomic.Bool

	mu      sync.Mutex
	masked  []string
	queries []string // the token requests' raw queries
	auths   []string // their Authorization headers
}

func newWorld(t *testing.T, run oidc.RunClaims) *world {
	t.Helper()
	w := &world{}
	iss, err := oidc.NewIssuer(nil)
	if err != nil {
		t.Fatal(err)
	}
	w.iss = iss
	oidcSrv := httptest.NewServer(w.tokenEndpoint(iss.Handler()))
	t.Cleanup(oidcSrv.Close)
	iss.SetBaseURL(oidcSrv.URL)
	w.oidcURL = oidcSrv.URL

	w.sts = sts.New(iss, nil)
	w.sts.AddRole(sts.Role{ARN: legacyRole, Trust: sts.Trust{Audience: Audience, SubPatterns: []string{"repo:octo/exp:*"}}})
	w.sts.AddRole(sts.Role{ARN: immutableRole, Trust: sts.Trust{Audience: Audience, SubPatterns: []string{"repo:octo@1001/exp@2002:*"}}})
	w.sts.AddRole(sts.Role{ARN: prOnlyRole, Trust: sts.Trust{Audience: Audience, SubPatterns: []string{"repo:octo/exp:pull_request"}}})
	stsSrv := httptest.NewServer(w.sts)
	t.Cleanup(stsSrv.Close)
	w.stsURL = stsSrv.URL

	ec2Srv := fakeec2.New(fakeec2.Options{Region: "us-east-1", Credentials: w.sts})
	ec2HTTP := httptest.NewServer(ec2Srv)
	t.Cleanup(func() { ec2HTTP.Close(); ec2Srv.Close() })
	w.ec2URL = ec2HTTP.URL

	w.reqToken = iss.NewRequestToken(run)
	w.env = map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   iss.RequestURL(),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.reqToken,
		"AWS_REGION":                     "us-east-1",
		"AWS_ENDPOINT_URL_STS":           w.stsURL,
		"AWS_ENDPOINT_URL_EC2":           w.ec2URL,
		"GITHUB_RUN_ID":                  "4242",
	}
	hermetic(t, w.env)
	return w
}

// hermetic keeps the SDK away from this machine's own AWS setup: empty shared files and no
// instance metadata, through the variables Getenv answers.
func hermetic(t *testing.T, env map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env["AWS_CONFIG_FILE"] = filepath.Join(dir, "config")
	env["AWS_SHARED_CREDENTIALS_FILE"] = filepath.Join(dir, "credentials")
	env["AWS_EC2_METADATA_DISABLED"] = "true"
}

// tokenEndpoint wraps the issuer's handler to count and record token requests.
func (w *world) tokenEndpoint(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.tokenHits.Add(1)
			w.mu.Lock()
			w.queries = append(w.queries, r.URL.RawQuery)
			w.auths = append(w.auths, r.Header.Get("Authorization"))
			w.mu.Unlock()
			if w.stripAudience.Load() {
				q := r.URL.Query()
				q.Del("audience")
				r.URL.RawQuery = q.Encode()
			}
		}
		h.ServeHTTP(rw, r)
	})
}

func (w *world) options(roleARN string) Options {
	return Options{RoleARN: roleARN, Getenv: w.getenv, Mask: w.mask, Retryer: fastRetryer}
}

func (w *world) getenv(k string) string { return w.env[k] }

func (w *world) mask(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.masked = append(w.masked, s)
}

func (w *world) maskedValues() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.masked...)
}

// secrets is everything that must never appear in an error or a log: what was masked and the
// request token.
func (w *world) secrets() []string {
	return append(w.maskedValues(), w.reqToken)
}

func (w *world) stsCalls() int { return len(w.sts.Calls()) }

// fastRetryer is the SDK's standard retryer without its backoff, so retried failures (the web
// identity provider retries InvalidIdentityToken; refused connections are retried) stay fast.
func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})
}

// describe calls EC2 with the config as product code would: a client built from it, nothing
// more (the endpoint comes from AWS_ENDPOINT_URL_EC2 through Getenv).
func describe(cfg aws.Config) error {
	_, err := awsec2.NewFromConfig(cfg).DescribeInstances(context.Background(), &awsec2.DescribeInstancesInput{})
	return err
}

// checkNoSecrets fails if the error's text holds any secret.
func checkNoSecrets(t *testing.T, err error, secrets []string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error leaks a secret (%d characters): %v", len(s), err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
