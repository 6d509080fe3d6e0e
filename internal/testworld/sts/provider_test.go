package sts

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
)

// The credential provider sear uses: stscreds.WebIdentityRoleProvider with a token retriever
// that asks the OIDC endpoint for a new token on every Retrieve.
func TestWebIdentityProviderFetchesAFreshTokenEachTime(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	r := w.retriever(octo.PullRequest(7, "feature", "main"), "sts.amazonaws.com")
	p := stscreds.NewWebIdentityRoleProvider(w.client, legacyRole, r, func(o *stscreds.WebIdentityRoleOptions) {
		o.RoleSessionName = "sear-run"
		o.Duration = 15 * time.Minute
	})
	first, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.fetched.Load() != 2 || first.AccessKeyID == second.AccessKeyID {
		t.Fatalf("tokens fetched %d, keys %s %s: want a fresh token and key each time", r.fetched.Load(), first.AccessKeyID, second.AccessKeyID)
	}
	if first.AccountID != account || !first.CanExpire || time.Until(first.Expires) > 15*time.Minute {
		t.Errorf("credentials = account %q, can expire %v, expires %v", first.AccountID, first.CanExpire, first.Expires)
	}
}

// Credentials that expire are refreshed by the SDK's cache through the provider, with a new
// token; until then the cache serves them without asking.
func TestCredentialsCacheRefreshesExpiredCredentials(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil) // real clock: aws.CredentialsCache reads time.Now
	w.sts.SetCredentialLifetime(2 * time.Second)
	r := w.retriever(octo.Dispatch("main"), "sts.amazonaws.com")
	cache := aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(w.client, legacyRole, r))
	ctx := context.Background()
	first, err := cache.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := cache.Retrieve(ctx)
	if again.AccessKeyID != first.AccessKeyID || r.fetched.Load() != 1 {
		t.Fatalf("cache did not serve live credentials: fetched %d", r.fetched.Load())
	}
	time.Sleep(time.Until(first.Expires) + 50*time.Millisecond)
	if _, _, exp, _ := w.sts.Lookup(first.AccessKeyID); time.Now().Before(exp) {
		t.Fatalf("emulator still holds %s valid until %v", first.AccessKeyID, exp)
	}
	fresh, err := cache.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessKeyID == first.AccessKeyID || r.fetched.Load() != 2 {
		t.Fatalf("after expiry: key %s (was %s), tokens fetched %d", fresh.AccessKeyID, first.AccessKeyID, r.fetched.Load())
	}
}

func TestProviderSurfacesAccessDenied(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	r := w.retriever(octo.Push("main"), "sts.amazonaws.com")
	_, err := stscreds.NewWebIdentityRoleProvider(w.client, prOnlyRole, r).Retrieve(context.Background())
	if code, status, _ := apiErrorOf(t, err); code != "AccessDenied" || status != 403 {
		t.Fatalf("got %s %d, want AccessDenied 403", code, status)
	}
}
