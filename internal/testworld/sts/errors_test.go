package sts

import (
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/oidc"
)

// TestErrorsAsTheSDKSeesThem asserts each refusal's code (smithy APIError), HTTP status and
// message as aws-sdk-go-v2 decodes them.
func TestErrorsAsTheSDKSeesThem(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	good := w.token(t, octo.Push("main"), "sts.amazonaws.com")
	tests := []struct {
		name        string
		role        string
		session     string
		token       func(t *testing.T) string
		duration    int32
		code        string
		status      int
		messagePart string
	}{
		{"not a JWT", legacyRole, "s1", fixed("abcd.efgh"), 0, "InvalidIdentityToken", 400, "could not be validated"},
		{"forged: another key, same iss", legacyRole, "s1", forged(w), 0, "InvalidIdentityToken", 400, "could not be validated"},
		{"unknown issuer", legacyRole, "s1", foreignIssuer, 0, "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for " + oidc.GitHubIssuer},
		{"default audience is not a client ID", legacyRole, "s1", w.tokenFor(octo.Push("main"), ""), 0, "InvalidIdentityToken", 400, "Incorrect token audience"},
		{"audience the role does not trust", legacyRole, "s1", w.tokenFor(octo.Push("main"), "other.example"), 0, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"sub the role does not trust", prOnlyRole, "s1", fixed(good), 0, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"role that does not exist", "arn:aws:iam::" + account + ":role/nope", "s1", fixed(good), 0, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"duration under 900", legacyRole, "s1", fixed(good), 899, "ValidationError", 400, "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"duration over 43200", legacyRole, "s1", fixed(good), 43201, "ValidationError", 400, "Member must have value less than or equal to 43200"},
		{"duration over the role's maximum", legacyRole, "s1", fixed(good), 7200, "ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"session name with a space", legacyRole, "sear run", fixed(good), 0, "ValidationError", 400, `Value 'sear run' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"session name too short", legacyRole, "s", fixed(good), 0, "ValidationError", 400, "Member must have length greater than or equal to 2"},
		{"session name too long", legacyRole, strings.Repeat("s", 65), fixed(good), 0, "ValidationError", 400, "Member must have length less than or equal to 64"},
		{"role ARN that is not a role", "arn:aws:iam::" + account + ":user/octo", "s1", fixed(good), 0, "ValidationError", 400, "Request ARN is invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.assume(tc.role, tc.session, tc.token(t), tc.duration)
			if err == nil {
				t.Fatal("accepted")
			}
			code, status, msg := apiErrorOf(t, err)
			if code != tc.code || status != tc.status || !strings.Contains(msg, tc.messagePart) {
				t.Fatalf("got %s %d %q, want %s %d containing %q", code, status, msg, tc.code, tc.status, tc.messagePart)
			}
		})
	}
}

func TestLongerSessionOnARoleThatAllowsIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	out, err := w.assume(longRole, "sear-run", w.token(t, octo.Push("main"), "sts.amazonaws.com"), 7200)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(*out.Credentials.Expiration); left < 119*time.Minute || left > 2*time.Hour {
		t.Fatalf("credentials live %v, want 2h", left)
	}
}

func TestExpiredToken(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)}
	w := newWorld(t, clk.Now)
	tok := w.token(t, octo.Push("main"), "sts.amazonaws.com")
	clk.Add(5 * time.Minute) // GitHub's tokens live 5 minutes
	_, err := w.assume(legacyRole, "sear-run", tok, 0)
	code, status, msg := apiErrorOf(t, err)
	want := "Token expired: current date/time 1785585900 must be before the expiration date/time 1785585900"
	if code != "ExpiredTokenException" || status != 400 || msg != want {
		t.Fatalf("got %s %d %q, want ExpiredTokenException 400 %q", code, status, msg, want)
	}
	if calls := w.sts.Calls(); calls[len(calls)-1].Code != "ExpiredTokenException" {
		t.Errorf("call log: %+v", calls[len(calls)-1])
	}
}

func fixed(tok string) func(*testing.T) string { return func(*testing.T) string { return tok } }

func (w *world) tokenFor(run oidc.RunClaims, audience string) func(*testing.T) string {
	return func(t *testing.T) string { return w.token(t, run, audience) }
}

// forged is a token with the trusted issuer's iss, signed by another key.
func forged(w *world) func(*testing.T) string {
	return func(t *testing.T) string {
		other, err := oidc.NewIssuer(nil)
		if err != nil {
			t.Fatal(err)
		}
		other.SetBaseURL(w.iss.IssuerURL())
		tok, err := other.Mint(octo.Push("main"), "sts.amazonaws.com")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

// foreignIssuer is a genuine token from an issuer the account has no provider for.
func foreignIssuer(t *testing.T) string {
	other, err := oidc.NewIssuer(nil) // iss = https://token.actions.githubusercontent.com
	if err != nil {
		t.Fatal(err)
	}
	tok, err := other.Mint(octo.Push("main"), "sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
