package main

import (
	"testing"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// TestRoleWithoutCABundle: on a GitHub-hosted runner AWS_CA_BUNDLE is not
// set, and assuming the role with the workflow's OIDC token must work
// there. The SDK's loader then builds no HTTP client of its own; the token
// request must not depend on one.
func TestRoleWithoutCABundle(t *testing.T) {
	t.Parallel()
	w := startWorld(t, false, world.Options{})
	// runnerEnv passes none of this machine's environment but PATH.
	env := runnerEnv(t, w, "7300-1", "")
	sweep := startSear(t, env, "sweep", "--run-id", "7300-1", "--aws-role-arn", world.RoleARN)
	if code := sweep.wait(t); code != 0 {
		t.Fatalf("sear sweep with a role and no AWS_CA_BUNDLE: exit %d\n%s", code, sweep.output())
	}
}
