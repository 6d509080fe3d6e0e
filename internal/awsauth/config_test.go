package awsauth

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The path of a real run: the role assumed with the workflow's token, the credentials accepted
// by EC2 through the real SDK client, every secret masked.
func TestRoleCredentialsWorkAgainstEC2(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.PullRequest(7, "feature", "main"))
	// Keys in the environment must not be used when a role is given: EC2 refuses unknown keys.
	w.env["AWS_ACCESS_KEY_ID"], w.env["AWS_SECRET_ACCESS_KEY"] = "AKIAIGNOREDIGNORED00", "ignored"
	cfg, err := Config(context.Background(), w.options(legacyRole))
	if err != nil {
		t.Fatal(err)
	}
	if err := describe(cfg); err != nil {
		t.Fatalf("DescribeInstances with the role's credentials: %v", err)
	}
	calls := w.sts.Calls()
	if len(calls) != 1 || calls[0].RoleARN != legacyRole || calls[0].SessionName != "sear-4242" ||
		calls[0].Subject != "repo:octo/exp:pull_request" || calls[0].Status != 200 {
		t.Fatalf("STS calls = %+v, want one for %s as sear-4242", calls, legacyRole)
	}
	w.mu.Lock()
	query, auth := w.queries[0], w.auths[0]
	w.mu.Unlock()
	if query != "api-version=2.0&audience=sts.amazonaws.com" || auth != "Bearer "+w.reqToken {
		t.Errorf("token request: query %q, Authorization %q", query, auth)
	}
	checkMasked(t, w, calls[0].AccessKeyID)
}

// checkMasked asserts that the secret key and session token of accessKeyID, the request token
// and a genuine ID token were all masked.
func checkMasked(t *testing.T, w *world, accessKeyID string) {
	t.Helper()
	secret, session, _, ok := w.sts.Lookup(accessKeyID)
	if !ok {
		t.Fatalf("STS does not know %s", accessKeyID)
	}
	masked := w.maskedValues()
	if !contains(masked, secret) || !contains(masked, session) || !contains(masked, w.reqToken) {
		t.Errorf("secret key, session token or request token not masked (%d values masked)", len(masked))
	}
	jwts := 0
	for _, m := range masked {
		if c, err := w.iss.Verify(m, Audience); err == nil && c["sub"] != nil {
			jwts++
		}
	}
	if jwts == 0 {
		t.Error("no ID token was masked")
	}
	if contains(masked, accessKeyID) || contains(masked, "") {
		t.Errorf("masked the access key ID or an empty string: %d values", len(masked))
	}
}

// Credentials that expire are refreshed by the cache, and each refresh asks the token endpoint
// for a new token: one token per STS call, never a reused one.
func TestRefreshFetchesAFreshTokenForEachSTSCall(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Dispatch("main"))
	// Shorter than the cache's expiry window: every use of the credentials refreshes them.
	w.sts.SetCredentialLifetime(time.Minute)
	cfg, err := Config(context.Background(), w.options(legacyRole))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := describe(cfg); err != nil {
			t.Fatalf("call %d after refresh: %v", i, err)
		}
	}
	calls := w.sts.Calls()
	if len(calls) != 4 || int(w.tokenHits.Load()) != len(calls) || w.iss.Minted() != len(calls) {
		t.Fatalf("%d STS calls, %d token requests, %d tokens minted: want 4 of each", len(calls), w.tokenHits.Load(), w.iss.Minted())
	}
	keys := map[string]bool{}
	for _, c := range calls {
		if c.Status != 200 || keys[c.AccessKeyID] {
			t.Errorf("STS call %+v failed or repeated a key", c)
		}
		keys[c.AccessKeyID] = true
		checkMasked(t, w, c.AccessKeyID)
	}
}

// Live credentials are served from the cache, shared by every client built from the config.
func TestCredentialsAreCachedWhileValid(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Push("main"))
	cfg, err := Config(context.Background(), w.options(legacyRole))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := describe(cfg); err != nil {
			t.Fatal(err)
		}
	}
	if w.stsCalls() != 1 || w.tokenHits.Load() != 1 {
		t.Fatalf("%d STS calls and %d token requests for three EC2 calls: want one of each", w.stsCalls(), w.tokenHits.Load())
	}
}

// Credentials that the server expired early (ExpireAll) are refused by EC2; the config's cache
// cannot know, so the next Config call (as the post step makes) starts afresh with a new token.
func TestNewConfigAfterServerSideExpiry(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Push("main"))
	cfg, err := Config(context.Background(), w.options(legacyRole))
	if err != nil {
		t.Fatal(err)
	}
	w.sts.ExpireAll()
	if err := describe(cfg); err == nil {
		t.Fatal("EC2 accepted credentials STS expired")
	}
	again, err := Config(context.Background(), w.options(legacyRole))
	if err != nil {
		t.Fatal(err)
	}
	if err := describe(again); err != nil || w.tokenHits.Load() != 2 {
		t.Fatalf("after a new Config: %v, %d token requests", err, w.tokenHits.Load())
	}
}

func TestSessionNameAndDuration(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Push("main"))
	o := w.options(legacyRole)
	o.SessionName, o.Duration = "nightly@octo", 30*time.Minute
	cfg, err := Config(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	c := w.sts.Calls()[0]
	if c.SessionName != "nightly@octo" {
		t.Errorf("session name %q", c.SessionName)
	}
	if _, _, exp, _ := w.sts.Lookup(c.AccessKeyID); time.Until(exp) > 30*time.Minute || time.Until(exp) < 29*time.Minute {
		t.Errorf("credentials live %v, want 30m", time.Until(exp))
	}
	// The cache refreshes ahead of expiry, by its window.
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != c.AccessKeyID || time.Until(creds.Expires) > 30*time.Minute-expiryWindow {
		t.Errorf("cached credentials %s expire in %v (%v)", creds.AccessKeyID, time.Until(creds.Expires), err)
	}
}

// Without a role, keys in the environment (read through Getenv) are used as they are.
func TestDefaultChainWithKeysFromGetenv(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Push("main"))
	w.sts.AddStatic("AKIASTATICEXAMPLE001", "static-secret-key")
	w.env["AWS_ACCESS_KEY_ID"], w.env["AWS_SECRET_ACCESS_KEY"] = "AKIASTATICEXAMPLE001", "static-secret-key"
	cfg, err := Config(context.Background(), w.options(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := describe(cfg); err != nil {
		t.Fatalf("DescribeInstances with static keys: %v", err)
	}
	if w.stsCalls() != 0 || w.tokenHits.Load() != 0 {
		t.Errorf("without a role: %d STS calls, %d token requests", w.stsCalls(), w.tokenHits.Load())
	}
	if masked := w.maskedValues(); len(masked) != 1 || masked[0] != "static-secret-key" {
		t.Errorf("masked %d values, want the secret key alone", len(masked))
	}
}

// Without a role, a profile in the shared files that Getenv names is used, as the AWS CLI does.
func TestDefaultChainWithProfileFromGetenv(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Push("main"))
	w.sts.AddStatic("AKIAPROFILEEXAMPLE01", "profile-secret-key")
	dir := t.TempDir()
	creds := "[dev]\naws_access_key_id = AKIAPROFILEEXAMPLE01\naws_secret_access_key = profile-secret-key\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env["AWS_SHARED_CREDENTIALS_FILE"], w.env["AWS_PROFILE"] = filepath.Join(dir, "credentials"), "dev"
	cfg, err := Config(context.Background(), w.options(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := describe(cfg); err != nil {
		t.Fatalf("DescribeInstances with the profile's keys: %v", err)
	}
	if !contains(w.maskedValues(), "profile-secret-key") {
		t.Error("profile's secret key not masked")
	}
}

// Getenv wins over the process environment for sear's seams. Not parallel: it sets the process
// environment.
func TestGetenvWinsOverProcessEnvironment(t *testing.T) {
	w := newWorld(t, octo.Push("main"))
	t.Setenv("AWS_REGION", "eu-west-1")                    // EC2 refuses requests signed for another region
	t.Setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:9") // nothing listens on the discard port
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
	cfg, err := Config(context.Background(), w.options(legacyRole))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" {
		t.Errorf("region %q, want Getenv's us-east-1", cfg.Region)
	}
	if err := describe(cfg); err != nil {
		t.Fatalf("EC2 through Getenv's endpoint: %v", err)
	}
}

// Options.Region, the aws-region input, wins over AWS_REGION.
func TestRegionOptionWinsOverEnvironment(t *testing.T) {
	t.Parallel()
	w := newWorld(t, octo.Push("main"))
	w.env["AWS_REGION"] = "eu-west-1"
	o := w.options(legacyRole)
	o.Region = "us-east-1"
	cfg, err := Config(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := describe(cfg); err != nil || cfg.Region != "us-east-1" {
		t.Fatalf("region %q: %v", cfg.Region, err)
	}
}

// No role and nothing in the default chain: the error says how to supply either. Not
// parallel: it blanks this machine's AWS_* variables, which the SDK's chain reads itself.
func TestNoRoleAndNoCredentials(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
		}
	}
	env := map[string]string{"AWS_REGION": "us-east-1"}
	hermetic(t, env)
	_, err := Config(context.Background(), Options{Getenv: func(k string) string { return env[k] }})
	if err == nil {
		t.Fatal("Config succeeded with no credentials anywhere")
	}
	for _, want := range []string{"no usable credentials", "aws-role-arn", "id-token: write", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "aws sso login"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.HasPrefix(err.Error(), "failed to refresh cached credentials") {
		t.Errorf("error starts with the SDK cache's wording:\n%v", err)
	}
}
