package fakeec2

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// awsCLI runs the AWS CLI against the emulator: an independent client
// (botocore's signer, serializer and XML parser) for the same wire
// protocol. Its environment holds only what it needs, with config and
// credentials files in a temporary directory, so nothing of the machine's
// AWS setup is read.
type awsCLI struct {
	path, endpoint string
	env            []string
}

func newAWSCLI(t *testing.T, endpoint string) *awsCLI {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is the emulator's independent oracle and must be installed: apt-get install awscli (%v)", err)
	}
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_ACCESS_KEY_ID=" + testKey, "AWS_SECRET_ACCESS_KEY=" + testSecret, "AWS_DEFAULT_REGION=" + testRegion,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return &awsCLI{path: path, endpoint: endpoint, env: env}
}

// run executes "aws ec2 <args>" and decodes its JSON output into out.
func (c *awsCLI) run(t *testing.T, out any, args ...string) {
	t.Helper()
	stdout, stderr, err := c.exec(args...)
	if err != nil {
		t.Fatalf("aws ec2 %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			t.Fatalf("aws ec2 %s printed %q: %v", args[0], stdout, err)
		}
	}
}

// fail executes a command that must fail with the given EC2 error code,
// which the CLI prints as "An error occurred (Code) when calling …".
func (c *awsCLI) fail(t *testing.T, code string, args ...string) {
	t.Helper()
	_, stderr, err := c.exec(args...)
	if err == nil || !strings.Contains(string(stderr), "("+code+")") {
		t.Fatalf("aws ec2 %s: err %v, stderr %s; want error %s", args[0], err, stderr, code)
	}
}

func (c *awsCLI) exec(args ...string) ([]byte, []byte, error) {
	all := append([]string{"ec2"}, args...)
	all = append(all, "--endpoint-url", c.endpoint, "--output", "json")
	cmd := exec.Command(c.path, all...)
	cmd.Env = c.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	return stdout, []byte(stderr.String()), err
}

type cliInstance struct {
	InstanceID      string `json:"InstanceId"`
	State           struct{ Name string }
	PrivateIP       string `json:"PrivateIpAddress"`
	MetadataOptions struct{ HttpTokens string }
	Tags            []struct{ Key, Value string }
}

// TestAWSCLI drives sear's cluster calls through the AWS CLI.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cli := newAWSCLI(t, f.http.URL)

	var sg struct{ GroupId string }
	cli.run(t, &sg, "create-security-group", "--group-name", "sear-cli", "--description", "sear cli run",
		"--tag-specifications", "ResourceType=security-group,Tags=[{Key=sear:run-id,Value=cli}]")
	cli.run(t, nil, "authorize-security-group-ingress", "--group-id", sg.GroupId, "--protocol", "tcp", "--port", "22", "--cidr", "203.0.113.7/32")

	var run struct{ Instances []cliInstance }
	cli.run(t, &run, "run-instances", "--image-id", UbuntuJammyImageID, "--instance-type", "t3.micro", "--count", "2",
		"--security-group-ids", sg.GroupId, "--user-data", "#cloud-config\n", "--instance-initiated-shutdown-behavior", "terminate",
		"--metadata-options", "HttpTokens=required,HttpPutResponseHopLimit=1",
		"--tag-specifications", "ResourceType=instance,Tags=[{Key=sear:run-id,Value=cli},{Key=Name,Value=node}]")
	if len(run.Instances) != 2 || run.Instances[0].State.Name != "pending" {
		t.Fatalf("run-instances printed %+v", run)
	}
	cli.fail(t, "InvalidAMIID.NotFound", "run-instances", "--image-id", "ami-0123456789abcdef0", "--count", "1")

	var desc struct {
		Reservations []struct{ Instances []cliInstance }
	}
	cli.run(t, &desc, "describe-instances", "--filters", "Name=tag:sear:run-id,Values=cli", "Name=tag:Name,Values=no*")
	if len(desc.Reservations) != 1 || len(desc.Reservations[0].Instances) != 2 {
		t.Fatalf("describe-instances by tag found %+v", desc)
	}
	if got := desc.Reservations[0].Instances[0]; got.MetadataOptions.HttpTokens != "required" || got.PrivateIP == "" {
		t.Errorf("described instance %+v", got)
	}
	if st := f.srv.State().Instances[0]; st.UserDataSize != len("#cloud-config\n") || st.ShutdownBehavior != "terminate" {
		t.Errorf("the CLI's user data or shutdown behaviour did not arrive: %+v", st)
	}

	cli.fail(t, "DependencyViolation", "delete-security-group", "--group-id", sg.GroupId)
	var term struct {
		TerminatingInstances []struct{ CurrentState struct{ Name string } }
	}
	cli.run(t, &term, "terminate-instances", "--instance-ids", run.Instances[0].InstanceID, run.Instances[1].InstanceID)
	if len(term.TerminatingInstances) != 2 || term.TerminatingInstances[0].CurrentState.Name != "shutting-down" {
		t.Fatalf("terminate-instances printed %+v", term)
	}
	f.waitTerminated(t, run.Instances[0].InstanceID, run.Instances[1].InstanceID)
	cli.run(t, nil, "delete-security-group", "--group-id", sg.GroupId)
	_, err := f.client.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sg.GroupId}})
	wantCode(t, err, "InvalidGroup.NotFound")
}

// TestAWSCLISignatureRefused shows the CLI's requests are verified too.
func TestAWSCLISignatureRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cli := newAWSCLI(t, f.http.URL)
	for i, kv := range cli.env {
		if strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			cli.env[i] = "AWS_SECRET_ACCESS_KEY=wrong"
		}
	}
	cli.fail(t, "SignatureDoesNotMatch", "describe-vpcs")
}
