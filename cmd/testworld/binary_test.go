package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/testworld once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "testworld-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "testworld")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// upProcess is a running testworld up.
type upProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	env    map[string]string
	done   chan error
}

// startUp runs the binary's up with args and reads its exports. The process is killed if it has
// not printed them within limit, and in any case when the test ends.
func startUp(t *testing.T, limit time.Duration, args ...string) *upProcess {
	t.Helper()
	p := &upProcess{cmd: exec.Command(binary(t), append([]string{"up"}, args...)...), stderr: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() }) // an error says it has exited already
	watchdog := time.AfterFunc(limit, func() { _ = p.cmd.Process.Kill() })
	p.env = readExports(t, bufio.NewScanner(stdout))
	watchdog.Stop()
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return p
}

// stop sends SIGTERM and waits for the exit status, for at most limit.
func (p *upProcess) stop(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	begin := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("testworld up exited with %v after SIGTERM; stderr:\n%s", err, p.stderr.String())
		}
	case <-time.After(limit):
		t.Fatalf("testworld up still running %v after SIGTERM; stderr:\n%s", limit, p.stderr.String())
	}
	return time.Since(begin)
}

// TestBinaryUp runs the built command as a user would: it prints nothing but exports on stdout,
// its endpoints answer, and SIGTERM stops it promptly with status 0.
func TestBinaryUp(t *testing.T) {
	t.Parallel()
	p := startUp(t, 30*time.Second, "-repository", "octo/exp", "-static-credentials", "-boot-delay", "10ms")
	env := p.env
	if env["GITHUB_REPOSITORY"] != "octo/exp" || !strings.HasPrefix(env["AWS_ACCESS_KEY_ID"], "AKIA") {
		t.Errorf("exports %v do not reflect the flags", env)
	}
	resp, err := http.Get(env["SEAR_CHECKIP_URL"])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "127.0.0.1\n" {
		t.Errorf("checkip answered %q", body)
	}
	client := awsec2.New(awsec2.Options{Region: env["AWS_REGION"], BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_EC2"]),
		Credentials: credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], "")})
	if _, err := client.DescribeVpcs(context.Background(), &awsec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("DescribeVpcs with the exported static key: %v", err)
	}
	var st struct {
		World struct{ Repository, Backend string }
	}
	getJSON(t, env["SEAR_TESTWORLD_URL"]+"/_testworld/state", &st)
	if st.World.Repository != "octo/exp" || st.World.Backend != "memory" {
		t.Errorf("state says %+v", st.World)
	}
	if d := p.stop(t, 10*time.Second); d > 3*time.Second {
		t.Errorf("stopping took %v", d)
	}
	if !strings.Contains(p.stderr.String(), "testworld: stopped") {
		t.Errorf("stderr does not say it stopped:\n%s", p.stderr.String())
	}
}

// TestBinaryUpDocker runs the world on the Docker backend: an instance launched through the
// exported environment is a container, its network can be cut and restored through the control
// endpoint, and after SIGTERM no container and no network of the world remain.
func TestBinaryUpDocker(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker backend needs the docker CLI and a running engine: %v", err)
	}
	label := "cmdtest-" + randomHex(t)
	// The first run on a machine builds the instance image with debootstrap, which takes minutes.
	p := startUp(t, 15*time.Minute, "-backend", "docker", "-label", label)
	t.Cleanup(func() { removeLabelled(label) })
	env := p.env

	creds := assumeRole(t, env)
	client := awsec2.New(awsec2.Options{Region: env["AWS_REGION"], BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_EC2"]),
		Credentials: credentials.StaticCredentialsProvider{Value: creds}})
	ctx := context.Background()
	out, err := client.RunInstances(ctx, &awsec2.RunInstancesInput{ImageId: aws.String(fakeec2.UbuntuJammyImageID),
		InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		UserData: aws.String("I2Nsb3VkLWNvbmZpZwo=")}) // "#cloud-config\n"
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := *out.Instances[0].InstanceId
	w := awsec2.NewInstanceRunningWaiter(client, func(o *awsec2.InstanceRunningWaiterOptions) { o.MinDelay = 200 * time.Millisecond })
	if err := w.Wait(ctx, &awsec2.DescribeInstancesInput{InstanceIds: []string{id}}, 3*time.Minute); err != nil {
		t.Fatalf("instance %s never ran: %v\nstderr:\n%s", id, err, p.stderr.String())
	}
	if got := dockerList(t, "ps", label); len(got) != 1 {
		t.Errorf("docker runs %d containers of the world, want 1", len(got))
	}
	for _, action := range []string{"cut", "restore"} {
		resp, err := http.Post(env["SEAR_TESTWORLD_URL"]+"/_testworld/instances/"+id+"/"+action, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s: %s %s", action, id, resp.Status, body)
		}
	}

	p.stop(t, 2*time.Minute)
	if got := dockerList(t, "ps", label); len(got) != 0 {
		t.Errorf("containers %v remain after the world stopped", got)
	}
	if got := dockerList(t, "network", label); len(got) != 0 {
		t.Errorf("networks %v remain after the world stopped", got)
	}
}

// assumeRole exchanges the job's ID token, fetched as the Actions toolkit does, for credentials.
func assumeRole(t *testing.T, env map[string]string) aws.Credentials {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, env["ACTIONS_ID_TOKEN_REQUEST_URL"]+"&audience="+url.QueryEscape("sts.amazonaws.com"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Value == "" {
		t.Fatalf("token endpoint: %s %v", resp.Status, err)
	}
	sts := awssts.New(awssts.Options{Region: env["AWS_REGION"], BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_STS"])})
	out, err := sts.AssumeRoleWithWebIdentity(context.Background(), &awssts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(env["SEAR_TESTWORLD_ROLE_ARN"]), RoleSessionName: aws.String("cmd-test"), WebIdentityToken: aws.String(tok.Value)})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
}

// dockerList lists the ids of the containers ("ps") or networks ("network") labelled with the
// world id.
func dockerList(t *testing.T, what, label string) []string {
	t.Helper()
	filter := "label=sear.testworld=" + label
	args := []string{"ps", "--all", "--quiet", "--filter", filter}
	if what == "network" {
		args = []string{"network", "ls", "--quiet", "--filter", filter}
	}
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// removeLabelled removes what a failed test left behind, so one failure does not leak into the
// next run.
func removeLabelled(label string) {
	filter := "label=sear.testworld=" + label
	if out, _ := exec.Command("docker", "ps", "--all", "--quiet", "--filter", filter).Output(); len(out) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "--force"}, strings.Fields(string(out))...)...).Run()
	}
	if out, _ := exec.Command("docker", "network", "ls", "--quiet", "--filter", filter).Output(); len(out) > 0 {
		_ = exec.Command("docker", append([]string{"network", "rm"}, strings.Fields(string(out))...)...).Run()
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
