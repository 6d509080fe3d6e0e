package oidc

import (
	"testing"
	"time"
)

func TestClaimsAsGitHubIssuesThem(t *testing.T) {
	t.Parallel()
	clk := newClock()
	iss, srv := serve(t, clk.Now)
	prodEnv := octo.Push("main")
	prodEnv.Environment = "Production:V1"
	immutable := octo.Push("main")
	immutable.ImmutableSub = true
	immutablePR := octo.PullRequest(9, "topic", "main")
	immutablePR.ImmutableSub = true
	tests := []struct {
		name string
		run  RunClaims
		want map[string]any
	}{
		{"pull_request", octo.PullRequest(7, "feature", "main"), map[string]any{
			"sub": "repo:octo/exp:pull_request", "event_name": "pull_request",
			"ref": "refs/pull/7/merge", "head_ref": "feature", "base_ref": "main",
		}},
		{"push to a branch", octo.Push("release/v2"), map[string]any{
			"sub": "repo:octo/exp:ref:refs/heads/release/v2", "event_name": "push",
			"ref": "refs/heads/release/v2", "ref_type": "branch",
		}},
		{"workflow_dispatch", octo.Dispatch("main"), map[string]any{
			"sub": "repo:octo/exp:ref:refs/heads/main", "event_name": "workflow_dispatch",
			"job_workflow_ref": "octo/exp/.github/workflows/sear.yml@refs/heads/main",
		}},
		{"environment wins, colon escaped", prodEnv, map[string]any{
			"sub": "repo:octo/exp:environment:Production%3AV1", "environment": "Production:V1",
		}},
		{"immutable sub on a branch", immutable, map[string]any{
			"sub": "repo:octo@1001/exp@2002:ref:refs/heads/main",
		}},
		{"immutable sub on a pull request", immutablePR, map[string]any{
			"sub": "repo:octo@1001/exp@2002:pull_request",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, body := getToken(t, iss.RequestURL()+"&audience=sts.amazonaws.com", "Bearer "+iss.NewRequestToken(tc.run))
			claims, err := iss.Verify(body["value"], "sts.amazonaws.com")
			if err != nil {
				t.Fatal(err)
			}
			common := map[string]any{
				"iss": srv.URL, "aud": "sts.amazonaws.com", "repository": "octo/exp",
				"repository_owner": "octo", "repository_id": "2002", "repository_owner_id": "1001",
				"actor": "octocat", "workflow": "sear", "run_id": "4242",
			}
			for _, want := range []map[string]any{common, tc.want} {
				for k, v := range want {
					if claims[k] != v {
						t.Errorf("%s = %v, want %v", k, claims[k], v)
					}
				}
			}
			checkTimes(t, claims, clk.Now())
		})
	}
}

// checkTimes compares the window with GitHub's example tokens: nbf = iat - 600, exp = iat + 300.
func checkTimes(t *testing.T, claims map[string]any, now time.Time) {
	t.Helper()
	iat, nbf, exp := claims["iat"].(float64), claims["nbf"].(float64), claims["exp"].(float64)
	if int64(iat) != now.Unix() || iat-nbf != 600 || exp-iat != 300 {
		t.Errorf("iat/nbf/exp = %v/%v/%v at now %d", iat, nbf, exp, now.Unix())
	}
	if claims["jti"] == "" || claims["sha"] == "" {
		t.Errorf("jti/sha missing: %v", claims)
	}
}

func TestEachTokenIsUnique(t *testing.T) {
	t.Parallel()
	iss, _ := serve(t, nil)
	tok := "Bearer " + iss.NewRequestToken(octo.Push("main"))
	_, a := getToken(t, iss.RequestURL(), tok)
	_, b := getToken(t, iss.RequestURL(), tok)
	ca, _ := iss.Verify(a["value"], "")
	cb, _ := iss.Verify(b["value"], "")
	if ca["jti"] == cb["jti"] || iss.Minted() != 2 {
		t.Fatalf("jti %v and %v, minted %d", ca["jti"], cb["jti"], iss.Minted())
	}
}
