package sts

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sear-ci/sear/internal/testworld/oidc"
)

func TestAssumeRoleWithWebIdentityWithTheSDK(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}
	w := newWorld(t, clk.Now)
	tok := w.token(t, octo.PullRequest(7, "feature", "main"), "sts.amazonaws.com")
	out, err := w.assume(legacyRole, "sear-run", tok, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	id, secret, session := aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)
	if !strings.HasPrefix(id, "ASIA") || len(id) != 20 || len(secret) != 40 || session == "" {
		t.Errorf("credentials look wrong: id %q, secret length %d, session token length %d", id, len(secret), len(session))
	}
	if want := clk.Now().Add(time.Hour); !aws.ToTime(c.Expiration).Equal(want) {
		t.Errorf("Expiration = %v, want %v (default 3600 s)", c.Expiration, want)
	}
	wantUser := "arn:aws:sts::" + account + ":assumed-role/sear-legacy/sear-run"
	u := out.AssumedRoleUser
	if aws.ToString(u.Arn) != wantUser || !strings.HasPrefix(aws.ToString(u.AssumedRoleId), "AROA") ||
		!strings.HasSuffix(aws.ToString(u.AssumedRoleId), ":sear-run") {
		t.Errorf("AssumedRoleUser = %s %s", aws.ToString(u.Arn), aws.ToString(u.AssumedRoleId))
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != "repo:octo/exp:pull_request" ||
		aws.ToString(out.Provider) != w.iss.IssuerURL() || aws.ToString(out.Audience) != "sts.amazonaws.com" {
		t.Errorf("subject/provider/audience = %s %s %s", aws.ToString(out.SubjectFromWebIdentityToken), aws.ToString(out.Provider), aws.ToString(out.Audience))
	}
	gotSecret, gotSession, expires, ok := w.sts.Lookup(id)
	if !ok || gotSecret != secret || gotSession != session || !expires.Equal(aws.ToTime(c.Expiration)) {
		t.Errorf("Lookup(%s) disagrees with the response", id)
	}
	checkCallsHoldNoSecrets(t, w.sts, tok, secret, session)
}

// checkCallsHoldNoSecrets asserts that the call log names the call but none of its secrets.
func checkCallsHoldNoSecrets(t *testing.T, s *Server, secrets ...string) {
	t.Helper()
	calls := s.Calls()
	last := calls[len(calls)-1]
	if last.Action != "AssumeRoleWithWebIdentity" || last.RoleARN != legacyRole || last.Status != 200 ||
		last.Code != "" || last.Subject == "" || last.AccessKeyID == "" || last.RequestID == "" {
		t.Errorf("last call = %+v", last)
	}
	dump := fmt.Sprintf("%+v", calls)
	for _, secret := range secrets {
		if strings.Contains(dump, secret) {
			t.Errorf("Calls() leaks a secret")
		}
	}
}

func TestTrustOnBothSubjectFormats(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	immutablePush := octo.Push("main")
	immutablePush.ImmutableSub = true
	immutablePR := octo.PullRequest(3, "topic", "main")
	immutablePR.ImmutableSub = true
	stranger := oidc.Repo{Owner: "octo", Name: "exp", OwnerID: "9999", ID: "2002"}.Push("main")
	stranger.ImmutableSub = true // the name octo was recycled by another account
	tests := []struct {
		name  string
		run   oidc.RunClaims
		role  string
		allow bool
	}{
		{"name sub, name trust", octo.Push("main"), legacyRole, true},
		{"immutable sub, immutable trust", immutablePush, immutableRole, true},
		{"immutable sub, name trust", immutablePush, legacyRole, false},
		{"name sub, immutable trust", octo.Push("main"), immutableRole, false},
		{"recycled owner name, immutable trust", stranger, immutableRole, false},
		{"pull request, pull-request-only role", octo.PullRequest(3, "topic", "main"), prOnlyRole, true},
		{"immutable pull request, pull-request-only role", immutablePR, prOnlyRole, true},
		{"push, pull-request-only role", octo.Push("main"), prOnlyRole, false},
		{"other repository", oidc.Repo{Owner: "octo", Name: "other", OwnerID: "1001", ID: "3003"}.Push("main"), legacyRole, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.assume(tc.role, "sear-run", w.token(t, tc.run, "sts.amazonaws.com"), 0)
			if tc.allow && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.allow {
				if code, status, _ := apiErrorOf(t, err); code != "AccessDenied" || status != 403 {
					t.Fatalf("got %s %d, want AccessDenied 403", code, status)
				}
			}
		})
	}
}

func TestStaticKeysAndExpireAll(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.sts.AddStatic("AKIAEXAMPLESTATIC01", "static-secret")
	out, err := w.assume(legacyRole, "sear-run", w.token(t, octo.Push("main"), "sts.amazonaws.com"), 0)
	if err != nil {
		t.Fatal(err)
	}
	issued := aws.ToString(out.Credentials.AccessKeyId)
	w.sts.ExpireAll()
	if _, _, exp, ok := w.sts.Lookup(issued); !ok || time.Now().Before(exp) {
		t.Errorf("issued key after ExpireAll: found %v, expires %v", ok, exp)
	}
	secret, session, exp, ok := w.sts.Lookup("AKIAEXAMPLESTATIC01")
	if !ok || secret != "static-secret" || session != "" || !exp.Equal(NeverExpires) {
		t.Errorf("static key: %v %q %q %v", ok, secret, session, exp)
	}
	if _, _, _, ok := w.sts.Lookup("ASIANOTISSUED0000000"); ok {
		t.Error("unknown key found")
	}
}
