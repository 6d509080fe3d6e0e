package sts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The AWS CLI (botocore) is an independent client of the emulator: it builds the request and
// parses the XML with its own code.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the AWS CLI is needed as an independent client (pip install awscli); it is not on PATH: %v", err)
	}
	w := newWorld(t, nil)
	tok := w.token(t, octo.Push("main"), "sts.amazonaws.com")
	t.Run("assume role", func(t *testing.T) {
		t.Parallel()
		out, err := awsCLI(t, w.stsURL, legacyRole, tok).Output()
		if err != nil {
			t.Fatalf("aws cli: %v\n%s", err, stderr(err))
		}
		var resp struct {
			Credentials                 struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
			SubjectFromWebIdentityToken string
			AssumedRoleUser             struct{ Arn string }
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("aws cli output %s: %v", out, err)
		}
		secret, _, _, ok := w.sts.Lookup(resp.Credentials.AccessKeyId)
		if !ok || secret != resp.Credentials.SecretAccessKey ||
			resp.SubjectFromWebIdentityToken != "repo:octo/exp:ref:refs/heads/main" ||
			!strings.HasSuffix(resp.AssumedRoleUser.Arn, ":assumed-role/sear-legacy/cli-session") {
			t.Fatalf("aws cli saw %s", out)
		}
	})
	t.Run("access denied", func(t *testing.T) {
		t.Parallel()
		_, err := awsCLI(t, w.stsURL, prOnlyRole, tok).Output()
		want := "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"
		if err == nil || !strings.Contains(stderr(err), want) {
			t.Fatalf("err %v, stderr %q, want %q", err, stderr(err), want)
		}
	})
}

// awsCLI runs aws sts assume-role-with-web-identity with no credentials anywhere: config and
// credentials files in a temp dir, no AWS_* variables, no instance metadata. The call is
// unsigned, so the CLI needs none.
func awsCLI(t *testing.T, endpoint, role, token string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("aws", "sts", "assume-role-with-web-identity",
		"--role-arn", role, "--role-session-name", "cli-session", "--web-identity-token", token,
		"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1")
	return cmd
}

func stderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
