package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"

	"github.com/sear-ci/sear/internal/keys"
)

// Helpers that play the emulated EC2's part: a VPC (a user-defined Docker network), instances
// (containers seeded with user data) and the action's SSH client (Debian's OpenSSH).

var (
	ensureOnce sync.Once
	ensureRef  string
	ensureErr  error
)

// testImage builds the image once per test binary (Ensure itself also serializes builds between
// binaries).
func testImage(t testing.TB) string {
	t.Helper()
	ensureOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		var log bytes.Buffer
		ensureRef, ensureErr = Ensure(ctx, &log)
		if ensureErr != nil {
			ensureErr = fmt.Errorf("%w\n%s", ensureErr, log.String())
		}
	})
	if ensureErr != nil {
		t.Fatal(ensureErr)
	}
	return ensureRef
}

func docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newNetwork creates a user-defined bridge network, removed when the test ends (after its
// containers, which register their cleanup later).
func newNetwork(t testing.TB) string {
	t.Helper()
	name := "sear-tw-" + randomHex(6)
	if _, err := docker(context.Background(), "network", "create", "--driver", "bridge", "--label", "sear.testworld=1", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := docker(context.Background(), "network", "rm", name); err != nil {
			t.Error(err)
		}
	})
	return name
}

// keyPair is an ed25519 key with its OpenSSH forms.
type keyPair struct {
	signer     ssh.Signer
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
		signer:     k.Signer,
		privatePEM: pem,
		authorized: k.AuthorizedKey(),
	}
}

// cloudConfig renders a #cloud-config document.
func cloudConfig(t testing.TB, cfg map[string]any) []byte {
	t.Helper()
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("#cloud-config\n"), out...)
}

// hostKeyConfig is the part of user data that sear sends: the host key and the client's key.
func hostKeyConfig(host, client keyPair) map[string]any {
	return map[string]any{
		"ssh_keys": map[string]string{
			"ed25519_private": string(host.privatePEM),
			"ed25519_public":  host.authorized,
		},
		"ssh_authorized_keys": []string{client.authorized},
	}
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// instance is a running container of the image.
type instance struct {
	name    string
	id      string // instance-id in meta-data
	addr    string // address on the test network
	started time.Time
}

// seedTar is the NoCloud seed as docker cp wants it: a tar of nocloud/{user-data,meta-data}.
func seedTar(t testing.TB, userData []byte, instanceID, hostname string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"nocloud/", 0o755, nil},
		{"nocloud/meta-data", 0o600, []byte(fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\n", instanceID, hostname))},
		{"nocloud/user-data", 0o600, userData},
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Now(), Typeflag: tar.TypeReg}
		if strings.HasSuffix(f.name, "/") {
			hdr.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// launch creates a container on network with the seed (none if userData is nil), starts it and returns at once (the
// instance is "pending"). The container is removed when the test ends; its log is shown if the
// test failed.
func launch(t testing.TB, ref, network string, userData []byte) *instance {
	t.Helper()
	ctx := context.Background()
	in := &instance{id: "i-" + randomHex(8)}
	in.name = "sear-tw-" + in.id
	hostname := "ip-" + randomHex(4)
	in.started = time.Now()
	if _, err := docker(ctx, "create", "--name", in.name, "--hostname", hostname, "--network", network,
		"--label", "sear.testworld=1", ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			cmd := exec.Command("docker", "logs", "--timestamps", in.name)
			out, _ := cmd.CombinedOutput()
			t.Logf("docker logs %s:\n%s", in.name, out)
		}
		if _, err := docker(ctx, "rm", "--force", "--volumes", in.name); err != nil && !strings.Contains(err.Error(), "No such container") {
			t.Error(err)
		}
	})
	if userData != nil {
		cp := exec.CommandContext(ctx, "docker", "cp", "-", in.name+":"+filepath.Dir(SeedDir))
		cp.Stdin = seedTar(t, userData, in.id, hostname)
		if out, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("docker cp seed: %v: %s", err, out)
		}
	}
	if _, err := docker(ctx, "start", in.name); err != nil {
		t.Fatal(err)
	}
	addr, err := docker(ctx, "inspect", "--format", fmt.Sprintf("{{(index .NetworkSettings.Networks %q).IPAddress}}", network), in.name)
	if err != nil || net.ParseIP(addr) == nil {
		t.Fatalf("address of %s on %s: %q, %v", in.name, network, addr, err)
	}
	in.addr = addr
	return in
}

// state returns the container's status and exit code.
func (in *instance) state(t testing.TB) (status string, exitCode int) {
	t.Helper()
	out, err := docker(context.Background(), "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", in.name)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(out)
	code, _ := strconv.Atoi(f[1])
	return f[0], code
}

// waitExit waits for the container to exit and returns its status code.
func (in *instance) waitExit(t testing.TB, timeout time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := docker(ctx, "wait", in.name)
	if err != nil {
		t.Fatalf("%s did not exit within %v: %v", in.name, timeout, err)
	}
	code, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("docker wait: %q", out)
	}
	return code
}

// exec runs a command in the container as root, as the emulator's tests would poke at an
// instance's internals (not how sear reaches it, which is SSH).
func (in *instance) exec(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return docker(context.Background(), append([]string{"exec", in.name}, args...)...)
}

// sshClient is Debian's OpenSSH client, set up as sear pins hosts: one known host key,
// ed25519 only, strict checking.
type sshClient struct {
	dir        string
	identity   string
	knownHosts string
}

func newSSHClient(t testing.TB, client keyPair, addr string, hostKey string) *sshClient {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatal("the tests need OpenSSH's client (apt-get install openssh-client):", err)
	}
	dir := t.TempDir()
	c := &sshClient{dir: dir, identity: filepath.Join(dir, "id_ed25519"), knownHosts: filepath.Join(dir, "known_hosts")}
	if err := os.WriteFile(c.identity, client.privatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.knownHosts, []byte(addr+" "+hostKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

var errHostKey = errors.New("host key verification failed")

// run runs a command as user@addr. An error wraps errHostKey when OpenSSH refused the host key.
func (c *sshClient) run(ctx context.Context, user, addr, command string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "ssh",
		"-F", "/dev/null",
		"-i", c.identity,
		"-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+c.knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "HostKeyAlgorithms=ssh-ed25519",
		"-o", "ConnectTimeout=5",
		"-o", "LogLevel=ERROR",
		user+"@"+addr, command)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil && strings.Contains(errb.String(), "Host key verification failed") {
		err = fmt.Errorf("%w: %s", errHostKey, errb.String())
	} else if err != nil {
		err = fmt.Errorf("ssh %s@%s %q: %w: %s", user, addr, command, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), errb.String(), err
}

// waitSSH polls until sshd on addr accepts the client's key with the pinned host key, and returns
// when that first happened. A host key mismatch ends the wait at once: it never heals.
func (c *sshClient) waitSSH(t testing.TB, addr string, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "22"), time.Second)
		if err != nil {
			last = err
			time.Sleep(20 * time.Millisecond)
			continue
		}
		conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err = c.run(ctx, "ubuntu", addr, "true")
		cancel()
		if err == nil {
			return time.Now()
		}
		if errors.Is(err, errHostKey) {
			t.Fatal(err)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ssh to %s not ready within %v: %v", addr, timeout, last)
	return time.Time{}
}
