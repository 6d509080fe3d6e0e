package awsauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/testworld/oidc"
	tw "github.com/sear-ci/sear/internal/testworld/world"
)

// Every way a role can fail to be assumed, against the emulators: the message must name the
// fix, keep the cause for errors.As, and hold no secret.
func TestRoleFailuresNameTheFix(t *testing.T) {
	t.Parallel()
	immutablePush := octo.Push("main")
	immutablePush.ImmutableSub = true
	tests := []struct {
		name    string
		run     oidc.RunClaims
		role    string
		setup   func(t *testing.T, w *world, o *Options)
		code    string   // the STS error code kept in the chain, if any
		want    []string // parts of the message
		noCalls bool     // refused before asking anyone
	}{
		{
			name: "no id-token permission", run: octo.Push("main"), role: legacyRole,
			setup: func(_ *testing.T, w *world, _ *Options) {
				delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
				delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
			},
			want:    []string{"ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN not set", "permissions: id-token: write", "forks"},
			noCalls: true,
		},
		{
			name: "request token without its URL", run: octo.Push("main"), role: legacyRole,
			setup:   func(_ *testing.T, w *world, _ *Options) { delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL") },
			want:    []string{"(ACTIONS_ID_TOKEN_REQUEST_URL not set)", "id-token: write"},
			noCalls: true,
		},
		{
			name: "sub the trust policy does not match", run: octo.Push("main"), role: prOnlyRole, code: "AccessDenied",
			want: []string{
				"assume role " + prOnlyRole, "AccessDenied",
				"both when the role does not exist and when its trust policy does not admit",
				"sub: repo:octo/exp:ref:refs/heads/main", "aud: sts.amazonaws.com",
				`:sub": "repo:octo/exp:*"`, `:sub": "repo:octo@1001/exp@2002:*"`, `:aud": "sts.amazonaws.com"`,
				"this token uses the default format", "oidc-provider/127.0.0.1:",
			},
		},
		{
			name: "immutable sub against a name-based trust policy", run: immutablePush, role: legacyRole, code: "AccessDenied",
			want: []string{"sub: repo:octo@1001/exp@2002:ref:refs/heads/main", `"repo:octo/exp:*"`, `"repo:octo@1001/exp@2002:*"`, "this token uses the format with IDs"},
		},
		{
			name: "role that does not exist", run: octo.Push("main"), role: missingRole, code: "AccessDenied",
			want: []string{"when the role does not exist", "aws iam get-role --role-name nope", "account " + account},
		},
		{
			name: "token with an audience the provider does not list", run: octo.Push("main"), role: legacyRole, code: "InvalidIdentityToken",
			setup: func(_ *testing.T, w *world, _ *Options) { w.stripAudience.Store(true) },
			want:  []string{"Incorrect token audience", "asked the Actions token endpoint for a token with audience sts.amazonaws.com, and got one for https://github.com/octo"},
		},
		{
			name: "issuer with no IAM provider", run: octo.Push("main"), role: legacyRole, code: "InvalidIdentityToken",
			setup: func(t *testing.T, w *world, _ *Options) { foreignIssuer(t, w) },
			want: []string{"No OpenIDConnect provider found", "aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com",
				"provider for token.actions.githubusercontent.com"},
		},
		{
			name: "token already expired", run: octo.Push("main"), role: legacyRole, code: "ExpiredTokenException",
			setup: func(_ *testing.T, w *world, _ *Options) { w.iss.SetTokenLifetime(-time.Minute) },
			want:  []string{"found the OIDC token expired", "runner's clock"},
		},
		{
			name: "request token of a job that ended", run: octo.Push("main"), role: legacyRole,
			setup: func(_ *testing.T, w *world, _ *Options) { w.iss.RevokeRequestToken(w.reqToken) },
			want:  []string{"401 Unauthorized", "invalid or expired request token", "valid only while its job runs"},
		},
		{
			name: "duration over the role's maximum", run: octo.Push("main"), role: legacyRole, code: "ValidationError",
			setup: func(_ *testing.T, _ *world, o *Options) { o.Duration = 2 * time.Hour },
			want:  []string{"longer than the role's maximum session duration", "aws iam update-role --role-name sear-legacy --max-session-duration"},
		},
		{
			name: "unreachable STS endpoint", run: octo.Push("main"), role: legacyRole,
			setup: func(t *testing.T, w *world, _ *Options) { w.env["AWS_ENDPOINT_URL_STS"] = closedURL(t) },
			want:  []string{"cannot reach STS at 127.0.0.1:", "check AWS_ENDPOINT_URL_STS=http://127.0.0.1:"},
		},
		{
			name: "region that does not exist", run: octo.Push("main"), role: legacyRole,
			setup: func(_ *testing.T, w *world, o *Options) {
				delete(w.env, "AWS_ENDPOINT_URL_STS")
				o.Region, o.HTTPClient = "us-east-9", loopbackOnly()
			},
			want: []string{"cannot resolve sts.us-east-9.amazonaws.com", `check aws-region, "us-east-9" may not be a region`},
		},
		{
			name: "not a role ARN", run: octo.Push("main"), role: "arn:aws:iam::" + account + ":user/octo",
			want: []string{`aws-role-arn "arn:aws:iam::123456789012:user/octo" is not an IAM role ARN`}, noCalls: true,
		},
		{
			name: "session name STS refuses", run: octo.Push("main"), role: legacyRole,
			setup: func(_ *testing.T, _ *world, o *Options) { o.SessionName = "sear run" },
			want:  []string{`role session name "sear run"`, "2 to 64 characters"}, noCalls: true,
		},
		{
			name: "duration under STS's minimum", run: octo.Push("main"), role: legacyRole,
			setup: func(_ *testing.T, _ *world, o *Options) { o.Duration = time.Minute },
			want:  []string{"role session duration 1m0s", "15m0s to 12h0m0s"}, noCalls: true,
		},
		{
			name: "no region", run: octo.Push("main"), role: legacyRole,
			setup: func(_ *testing.T, w *world, _ *Options) { delete(w.env, "AWS_REGION") },
			want:  []string{"no AWS region", "aws-region"}, noCalls: true,
		},
		{
			name: "region that is not a name", run: octo.Push("main"), role: legacyRole,
			setup: func(_ *testing.T, _ *world, o *Options) { o.Region = "us east 1" },
			want:  []string{`aws-region "us east 1" is not a region name`}, noCalls: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tc.run)
			o := w.options(tc.role)
			if tc.setup != nil {
				tc.setup(t, w, &o)
			}
			cfg, err := Config(context.Background(), o)
			if err == nil {
				t.Fatalf("Config succeeded (region %s)", cfg.Region)
			}
			for _, part := range tc.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error lacks %q:\n%v", part, err)
				}
			}
			if tc.code != "" {
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != tc.code {
					t.Errorf("error does not wrap STS's %s: %v", tc.code, err)
				}
			}
			if tc.noCalls && (w.tokenHits.Load() != 0 || w.stsCalls() != 0) {
				t.Errorf("%d token requests and %d STS calls before refusing", w.tokenHits.Load(), w.stsCalls())
			}
			if strings.HasPrefix(err.Error(), "failed to refresh cached credentials") {
				t.Errorf("error starts with the SDK cache's wording:\n%v", err)
			}
			checkNoSecrets(t, err, w.secrets())
		})
	}
}

// A failure after start-up, when the cache refreshes, is explained the same way.
func TestRefreshFailureIsExplained(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Push("main"))
	w.sts.SetCredentialLifetime(time.Minute) // every use refreshes
	cfg, err := Config(context.Background(), w.options(legacyRole))
	if err != nil {
		t.Fatal(err)
	}
	w.iss.RevokeRequestToken(w.reqToken) // the job ended while its cluster was still up
	err = describe(cfg)
	if err == nil || !strings.Contains(err.Error(), "valid only while its job runs") {
		t.Fatalf("EC2 call after the request token was revoked: %v", err)
	}
	checkNoSecrets(t, err, w.secrets())
}

// Codes the emulator does not produce, explained from errors shaped as the SDK returns them.
func TestAPIFixes(t *testing.T) {
	t.Parallel()
	w := &webIdentity{role: role{arn: legacyRole, account: account, name: "sear-legacy"}, region: "ap-east-2", duration: 2 * time.Hour}
	tests := []struct {
		code, message, want string
	}{
		{"RegionDisabledException", "STS is not activated in this region", `STS is not activated in region "ap-east-2" for this account`},
		{"IDPCommunicationError", "Couldn't retrieve verification key", "run the job again"},
		{"IDPRejectedClaim", "rejected", "create-open-id-connect-provider"},
		{"ValidationError", "1 validation error detected", ""},
		{"Throttling", "Rate exceeded", ""},
	}
	for _, tc := range tests {
		err := w.explain(&smithy.GenericAPIError{Code: tc.code, Message: tc.message}, claims{})
		var ae *authError
		if !errors.As(err, &ae) || ae.fix != "" && tc.want == "" || !strings.Contains(ae.fix, tc.want) {
			t.Errorf("%s: fix %q, want one containing %q", tc.code, ae.fix, tc.want)
		}
		if !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: cause lost: %v", tc.code, err)
		}
	}
}

// foreignIssuer points the job at a token endpoint whose tokens come from GitHub's issuer, for
// which the emulated account has no IAM identity provider (it has one for the world's issuer).
func foreignIssuer(t *testing.T, w *world) {
	t.Helper()
	iss, err := oidc.NewIssuer(nil) // iss: https://token.actions.githubusercontent.com
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.tokenEndpoint(iss.Handler()))
	t.Cleanup(srv.Close)
	w.reqToken = iss.NewRequestToken(octo.Push("main"))
	w.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = srv.URL + "/token?api-version=2.0"
	w.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = w.reqToken
}

// closedURL is an http URL on loopback where nothing listens.
func closedURL(t *testing.T) string { return "http://" + tw.RefusedAddr(t) }

// loopbackOnly is an HTTP client that connects to loopback addresses and answers every name
// lookup as a resolver answers a name that does not exist, so a wrong region is tested without
// leaving the machine.
func loopbackOnly() *http.Client {
	dialer := &net.Dialer{Timeout: time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return dialer.DialContext(ctx, network, addr)
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	return &http.Client{Transport: tr}
}
