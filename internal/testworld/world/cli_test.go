package world

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// awsCLI runs the AWS CLI with nothing but the world's Env (plus PATH and an empty home): no
// --endpoint-url, so botocore must find both endpoints and the region in the variables the world
// prints. botocore is an independent client: its own signer, serializer and XML parser.
func awsCLI(t *testing.T, env map[string]string, extra ...string) func(args ...string) ([]byte, string, error) {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is the test world's independent oracle and must be installed: pip install awscli (%v)", err)
	}
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials")}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			vars = append(vars, k+"="+v)
		}
	}
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	vars = append(vars, extra...)
	return func(args ...string) ([]byte, string, error) {
		cmd := exec.Command(path, append(args, "--output", "json")...)
		cmd.Env = vars
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		return out, stderr.String(), err
	}
}

// TestAWSCLI exchanges the job's ID token for credentials with `aws sts
// assume-role-with-web-identity` and lists instances with `aws ec2 describe-instances`, both
// pointed at the world only by its Env; then it expires the credentials and sees the CLI refused.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	id := *launch(t, ec2Client(env, assume(t, env)))[0].InstanceId
	tok, err := idToken(env, "sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}

	out, stderr, err := awsCLI(t, env)("sts", "assume-role-with-web-identity", "--role-arn", env["SEAR_TESTWORLD_ROLE_ARN"],
		"--role-session-name", "cli", "--web-identity-token", tok)
	if err != nil {
		t.Fatalf("aws sts assume-role-with-web-identity: %v\n%s", err, stderr)
	}
	var assumed struct {
		Credentials                 struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		SubjectFromWebIdentityToken string
	}
	if err := json.Unmarshal(out, &assumed); err != nil {
		t.Fatalf("aws sts printed %s: %v", out, err)
	}
	if assumed.SubjectFromWebIdentityToken != "repo:sear-ci/demo:pull_request" {
		t.Errorf("the CLI's session is for %q", assumed.SubjectFromWebIdentityToken)
	}

	c := assumed.Credentials
	ec2CLI := awsCLI(t, env, "AWS_ACCESS_KEY_ID="+c.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_SESSION_TOKEN="+c.SessionToken)
	out, stderr, err = ec2CLI("ec2", "describe-instances", "--filters", "Name=tag:sear:run-id,Values=world-test")
	if err != nil {
		t.Fatalf("aws ec2 describe-instances: %v\n%s", err, stderr)
	}
	var desc struct {
		Reservations []struct{ Instances []struct{ InstanceId string } }
	}
	if err := json.Unmarshal(out, &desc); err != nil {
		t.Fatalf("aws ec2 printed %s: %v", out, err)
	}
	if len(desc.Reservations) != 1 || desc.Reservations[0].Instances[0].InstanceId != id {
		t.Errorf("aws ec2 describe-instances found %+v, want %s", desc, id)
	}
	var calls int
	for _, call := range w.State().Calls.EC2 {
		if call.Action == "DescribeInstances" && call.AccessKeyID == c.AccessKeyId {
			calls++
		}
	}
	if calls != 1 {
		t.Errorf("EC2 saw %d DescribeInstances with the CLI's key, want 1", calls)
	}

	mustControl(t, env, http.MethodPost, "/_testworld/credentials/expire", nil, nil)
	_, stderr, err = ec2CLI("ec2", "describe-instances")
	if err == nil || !strings.Contains(stderr, "(RequestExpired)") {
		t.Errorf("aws ec2 describe-instances with expired credentials: %v\n%s\nwant RequestExpired", err, stderr)
	}
}
