package ec2

import (
	"bytes"
	"context"
	"net"
	"os"
	osuser "os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/crypto/ssh"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/local/sshd"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/remote"
)

// Stand-ins for the commands the rotation runs on a node. They log what
// they are asked; "sshd" and "kill" act on the test's files instead of a
// real sshd; "ssh-keyscan" serves the old key until "kill" has run, then
// whatever key is installed.
var standIns = map[string]string{
	"sudo": `#!/bin/sh
[ "$1" = -n ] || { echo "sudo: would prompt for a password" >&2; exit 1; }
shift
echo "sudo $*" >>"$TEST_LOG"
exec "$@"`,
	"sshd": `#!/bin/sh
[ "$1" = -t ] || exit 2
[ -z "$TEST_BAD_CONFIG" ] || { echo "sshd: /etc/ssh/sshd_config line 3: Bad configuration option" >&2; exit 255; }
grep -q "BEGIN OPENSSH PRIVATE KEY" "$TEST_KEY"`,
	"kill": `#!/bin/sh
echo "kill $*" >>"$TEST_LOG"
[ -n "$TEST_NO_RELOAD" ] || : >"$TEST_RELOADED"`,
	"ssh-keyscan": `#!/bin/sh
echo "ssh-keyscan $*" >>"$TEST_LOG"
if [ -e "$TEST_RELOADED" ]; then set -- $(cat "$TEST_KEY.pub"); echo "127.0.0.1 $1 $2"; else echo "127.0.0.1 $TEST_OLD_KEY"; fi`,
}

// rotationNode is a node reached over real SSH (the local cluster's
// server) whose commands find the stand-ins first in PATH.
type rotationNode struct {
	conn  *remote.Client
	node  cloud.Node
	setup sshdSetup
	log   string
	old   *keys.SSHKey
}

func newRotationNode(t *testing.T, env ...string) *rotationNode {
	t.Helper()
	dir := t.TempDir()
	home, bin, etc := filepath.Join(dir, "home"), filepath.Join(dir, "bin"), filepath.Join(dir, "etc")
	for _, d := range []string{home, bin, etc} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, script := range standIns {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r := &rotationNode{log: filepath.Join(dir, "log"), old: newSSHKey(t, "bootstrap"),
		setup: sshdSetup{keyFile: filepath.Join(etc, "ssh_host_ed25519_key"), pidFile: filepath.Join(dir, "sshd.pid"), tries: 3}}
	oldPEM, _ := r.old.PrivatePEM()
	writeTestFile(t, r.setup.keyFile, string(oldPEM), 0o600)
	writeTestFile(t, r.setup.keyFile+".pub", r.old.AuthorizedKey()+"\n", 0o644)
	writeTestFile(t, r.setup.pidFile, "4242\n", 0o644)
	oldWire := strings.Fields(r.old.AuthorizedKey())
	env = append(env, "PATH="+bin+":/usr/bin:/bin", "TEST_LOG="+r.log, "TEST_KEY="+r.setup.keyFile,
		"TEST_RELOADED="+filepath.Join(dir, "reloaded"), "TEST_OLD_KEY="+oldWire[0]+" "+oldWire[1])
	host, client := newSSHKey(t, "local host"), newSSHKey(t, "client")
	srv, err := sshd.Listen(sshd.Config{Addr: "127.0.0.1:0", HostKey: host.Signer, Authorized: []ssh.PublicKey{client.PublicKey()}, Dir: home, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	u, err := osuser.Current()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.conn, err = remote.Dial(ctx, remote.Target{Addr: srv.Addr(), User: u.Username, HostKey: host.PublicKey(), Signer: client.Signer}, remote.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.conn.Close() })
	r.node = cloud.Node{Name: "exp_orchestrator", Home: home, SSHAddr: net.JoinHostPort("198.51.100.9", "2222")}
	return r
}

func newSSHKey(t *testing.T, comment string) *keys.SSHKey {
	t.Helper()
	k, err := keys.NewSSHKey(comment)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeTestFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (r *rotationNode) rotate(t *testing.T, key *keys.SSHKey) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return rotateHostKey(ctx, r.conn, r.node, key, r.setup)
}

func TestRotateHostKey(t *testing.T) {
	t.Parallel()
	r := newRotationNode(t)
	key := newSSHKey(t, "rotated")
	if err := r.rotate(t, key); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	installed, err := ssh.ParsePrivateKey([]byte(readFile(t, r.setup.keyFile)))
	if err != nil || !bytes.Equal(installed.PublicKey().Marshal(), key.PublicKey().Marshal()) {
		t.Errorf("the host key file does not hold the new key (%v)", err)
	}
	if got := readFile(t, r.setup.keyFile+".pub"); got != key.AuthorizedKey()+"\n" {
		t.Errorf("public key file = %q", got)
	}
	for file, want := range map[string]os.FileMode{r.setup.keyFile: 0o600, r.setup.keyFile + ".pub": 0o644} {
		if st, err := os.Stat(file); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", file, st.Mode().Perm(), want)
		}
	}
	if _, err := os.Stat(filepath.Join(r.node.Home, ".sear", "host-key")); !os.IsNotExist(err) {
		t.Errorf("the uploaded copy of the key was not removed: %v", err)
	}
	want := []string{
		"sudo install -m 0600 " + r.node.Home + "/.sear/host-key/key " + r.setup.keyFile,
		"sudo install -m 0644 " + r.node.Home + "/.sear/host-key/key.pub " + r.setup.keyFile + ".pub",
		"sudo sshd -t",
		"sudo kill -HUP 4242",
		"kill -HUP 4242",
		"ssh-keyscan -T 2 -t ed25519 -p 2222 127.0.0.1",
	}
	if got := strings.Split(strings.TrimSpace(readFile(t, r.log)), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The connection that did it still works.
	if err := r.conn.Run(context.Background(), "true", remote.RunOptions{}); err != nil {
		t.Errorf("connection after rotation: %v", err)
	}
}

// TestRotateHostKeyRefusesBrokenConfig: when sshd -t fails, sshd is not
// reloaded, so the node keeps an SSH server.
func TestRotateHostKeyRefusesBrokenConfig(t *testing.T) {
	t.Parallel()
	r := newRotationNode(t, "TEST_BAD_CONFIG=1")
	err := r.rotate(t, newSSHKey(t, "rotated"))
	if err == nil || !strings.Contains(err.Error(), "Bad configuration option") || !strings.Contains(err.Error(), "exp_orchestrator") {
		t.Fatalf("rotate = %v", err)
	}
	if strings.Contains(readFile(t, r.log), "kill") {
		t.Error("sshd was reloaded after sshd -t failed")
	}
}

// TestRotateHostKeyWaitsForTheNewKey: when sshd keeps serving the old key,
// the rotation fails rather than let the next dial meet it.
func TestRotateHostKeyWaitsForTheNewKey(t *testing.T) {
	t.Parallel()
	r := newRotationNode(t, "TEST_NO_RELOAD=1")
	err := r.rotate(t, newSSHKey(t, "rotated"))
	if err == nil || !strings.Contains(err.Error(), "does not serve the rotated host key") {
		t.Fatalf("rotate = %v", err)
	}
	if n := strings.Count(readFile(t, r.log), "ssh-keyscan"); n != r.setup.tries {
		t.Errorf("%d scans, want %d", n, r.setup.tries)
	}
}

func TestRotateHostKeyNeedsAConnection(t *testing.T) {
	t.Parallel()
	if err := New(aws.Config{}, Options{}).RotateHostKey(context.Background(), cloud.Node{}, newSSHKey(t, "k"), nil); err == nil {
		t.Error("no error without a connection")
	}
}
