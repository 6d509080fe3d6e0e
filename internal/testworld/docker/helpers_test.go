package docker

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.yaml.in/yaml/v3"

	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/imds"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
	"github.com/sear-ci/sear/internal/testworld/syncbuf"
)

const (
	testKey    = "AKIADOCKERTESTWORLD1"
	testSecret = "docker-test-secret"
)

// lockedBuffer collects output that goroutines write while the test reads it.
type lockedBuffer = syncbuf.Buffer

// world is the EC2 emulator on a Docker backend, behind an httptest server, with the real SDK
// client.
type world struct {
	backend *Backend
	emu     *fakeec2.Server
	client  *awsec2.Client
}

// newWorld starts a world; onExit, if given, sees every exit the backend reports before the
// emulator does. Everything is removed when the test ends, and the test fails if anything
// labelled with the world's id is left.
func newWorld(t *testing.T, onExit func(id string)) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // a first image build
	defer cancel()
	log := &lockedBuffer{}
	b, err := New(ctx, Options{Log: log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Error(err)
		}
		if left := labelled(t, b.Label()); left != "" {
			t.Errorf("left after Close: %s", left)
		}
		if t.Failed() && log.String() != "" {
			t.Logf("backend log:\n%s", log)
		}
	})
	emu := fakeec2.New(fakeec2.Options{Backend: b, Credentials: sigv4.StaticSource{testKey: testSecret}})
	b.SetMetadata(imds.New(emu)) // as the test world does
	b.SetExitHandler(func(id string) {
		if onExit != nil {
			onExit(id)
		}
		emu.InstanceExited(id)
	})
	hs := httptest.NewServer(emu)
	t.Cleanup(func() {
		hs.Close()
		emu.Close()
	})
	client := awsec2.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		HTTPClient:  hs.Client(),
	}, func(o *awsec2.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	return &world{backend: b, emu: emu, client: client}
}

// labelled lists the containers and networks that carry a world id.
func labelled(t *testing.T, label string) string {
	t.Helper()
	var out []string
	for _, args := range [][]string{
		{"ps", "--all", "--format", "container {{.Names}}", "--filter", "label=" + labelKey + "=" + label},
		{"network", "ls", "--format", "network {{.Name}}", "--filter", "label=" + labelKey + "=" + label},
	} {
		got, err := run(context.Background(), nil, args...)
		if err != nil {
			t.Fatal(err)
		}
		if got != "" {
			out = append(out, got)
		}
	}
	return strings.Join(out, "\n")
}

// launch runs one instance with the given user data through RunInstances; behavior is its
// InstanceInitiatedShutdownBehavior ("" leaves EC2's default, stop). When the test fails, the
// instance's console is logged.
func (w *world) launch(t *testing.T, userData []byte, behavior types.ShutdownBehavior) string {
	t.Helper()
	in := &awsec2.RunInstancesInput{
		ImageId: aws.String(fakeec2.UbuntuJammyImageID), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		UserData:                          aws.String(base64.StdEncoding.EncodeToString(userData)),
		InstanceInitiatedShutdownBehavior: behavior,
	}
	out, err := w.client.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if console, err := w.backend.Logs(context.Background(), id); err == nil {
			t.Logf("console of %s:\n%s", id, console)
		}
	})
	return id
}

// describe returns an instance as DescribeInstances reports it.
func (w *world) describe(t *testing.T, id string) types.Instance {
	t.Helper()
	out, err := w.client.DescribeInstances(context.Background(), &awsec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	return out.Reservations[0].Instances[0]
}

// waitState polls DescribeInstances until the instance is in state, and returns it.
func (w *world) waitState(t *testing.T, id string, state types.InstanceStateName, timeout time.Duration) types.Instance {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		inst := w.describe(t, id)
		if inst.State.Name == state {
			return inst
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s after %v, want %s", id, inst.State.Name, timeout, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// containerState is the container's status ("running", "exited") or "" when there is no such
// container.
func containerState(t *testing.T, name string) string {
	t.Helper()
	out, err := run(context.Background(), nil, "inspect", "--type", "container", "--format", "{{.State.Status}}", name)
	if err != nil {
		if notFound(err) || strings.Contains(strings.ToLower(err.Error()), "no such object") {
			return ""
		}
		t.Fatal(err)
	}
	return out
}

// keyPair is an ed25519 key with its OpenSSH forms.
type keyPair struct {
	privatePEM []byte // OpenSSH private key format
	authorized string // "ssh-ed25519 AAAA..."
}

func newKeyPair(t testing.TB) keyPair {
	t.Helper()
	k, err := keys.NewSSHKey("")
	if err != nil {
		t.Fatal(err)
	}
	pem, err := k.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{
		privatePEM: pem,
		authorized: k.AuthorizedKey(),
	}
}

// cloudConfig is the #cloud-config sear sends (the host key to serve, the client key to
// authorize for the default user, ubuntu) plus extra.
func cloudConfig(t *testing.T, host, client keyPair, extra map[string]any) []byte {
	t.Helper()
	cfg := map[string]any{
		"ssh_keys": map[string]string{
			"ed25519_private": string(host.privatePEM),
			"ed25519_public":  host.authorized,
		},
		"ssh_authorized_keys": []string{client.authorized},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("#cloud-config\n"), out...)
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sshClient is Debian's OpenSSH client set up as sear pins a host: one known host key, ed25519
// only, strict checking.
type sshClient struct {
	identity, knownHosts string
}

func newSSHClient(t *testing.T, client keyPair, addr, hostKey string) *sshClient {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatal("the tests need OpenSSH's client (apt-get install openssh-client):", err)
	}
	dir := t.TempDir()
	c := &sshClient{identity: filepath.Join(dir, "id_ed25519"), knownHosts: filepath.Join(dir, "known_hosts")}
	if err := os.WriteFile(c.identity, client.privatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.knownHosts, []byte(addr+" "+hostKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

var errHostKey = errors.New("host key verification failed")

// run runs a command as ubuntu@addr; an error wraps errHostKey when OpenSSH refused the host.
func (c *sshClient) run(addr, command string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ssh", "-F", "/dev/null",
		"-i", c.identity, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+c.knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "HostKeyAlgorithms=ssh-ed25519",
		"-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
		"ubuntu@"+addr, command)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	switch {
	case err != nil && strings.Contains(stderr.String(), "Host key verification failed"):
		return "", fmt.Errorf("%w: %s", errHostKey, stderr.String())
	case err != nil:
		return "", fmt.Errorf("ssh ubuntu@%s %q: %w: %s", addr, command, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// waitSSH polls until sshd on addr lets the client in with the pinned host key. A refused host
// key ends the wait: it never heals.
func (c *sshClient) waitSSH(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if last = dial(addr); last == nil {
			if _, last = c.run(addr, "true"); last == nil {
				return
			}
			if errors.Is(last, errHostKey) {
				t.Fatal(last)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ssh to %s not ready within %v: %v", addr, timeout, last)
}

// dial opens and closes a TCP connection to addr's SSH port.
func dial(addr string) error {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "22"), 2*time.Second)
	if err != nil {
		return err
	}
	return conn.Close()
}
