package sshd

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests use OpenSSH's own client as the oracle: if ssh, with a
// pinned host key and nothing else trusted, accepts the server and gets
// the right bytes and exit status, so will any client.

func TestOpenSSHExecAndExitStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ssh(t, nil, nil, "echo hi; exit 3")
	if r.stdout != "hi\n" || r.status != 3 {
		t.Errorf("ssh = %+v, want stdout \"hi\\n\" and status 3", r)
	}
}

func TestOpenSSHRefusesWrongHostKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.trust(t, newKey(t, "someone else"))
	r := f.ssh(t, nil, nil, "touch ran")
	if r.status != 255 || !strings.Contains(r.stderr, "Host key verification failed") {
		t.Errorf("ssh = %+v, want refusal", r)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "ran")); err == nil {
		t.Error("the command ran although the host key was refused")
	}
}

func TestOpenSSHAfterHostKeyRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rotated := newKey(t, "rotated")
	f.srv.SetHostKey(rotated.Signer)
	if r := f.ssh(t, nil, nil, "true"); r.status != 255 {
		t.Errorf("old key accepted after rotation: %+v", r)
	}
	f.trust(t, rotated)
	if r := f.ssh(t, nil, nil, "echo new"); r.status != 0 || r.stdout != "new\n" {
		t.Errorf("new key: %+v", r)
	}
}

func TestOpenSSHRefusesUnknownClientKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.keyFile = writeKey(t, t.TempDir(), newKey(t, "stranger"))
	r := f.ssh(t, nil, nil, "true")
	if r.status != 255 || !strings.Contains(r.stderr, "Permission denied (publickey)") {
		t.Errorf("ssh = %+v, want permission denied", r)
	}
}

// TestOpenSSHStdinRoundTrip sends a binary file through `cat > f` and
// back through `cat f`: EOF on stdin reaches the command, output is
// complete, and flow control holds for more than a channel window.
func TestOpenSSHStdinRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	input := make([]byte, 3<<20)
	if _, err := rand.Read(input); err != nil {
		t.Fatal(err)
	}
	copy(input, "\x00\n'\"")
	if r := f.ssh(t, input, nil, "cat > f"); r.status != 0 {
		t.Fatalf("upload: %+v", r)
	}
	if got, _ := os.ReadFile(filepath.Join(f.dir, "f")); !bytes.Equal(got, input) {
		t.Fatalf("file has %d bytes, want the %d sent", len(got), len(input))
	}
	if r := f.ssh(t, nil, nil, "cat f"); r.status != 0 || r.stdout != string(input) {
		t.Fatalf("download: status %d, %d bytes, stderr %q", r.status, len(r.stdout), r.stderr)
	}
}

func TestOpenSSHEnvironment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ssh(t, nil, []string{"-o", "SetEnv=\"SEAR_X=two words\""},
		`printf '%s|%s|%s|' "$SEAR_X" "$HOME" "$(pwd)"; echo "$SSH_CONNECTION" | wc -w | tr -d ' '`)
	want := "two words|" + f.dir + "|" + f.dir + "|4\n"
	if r.status != 0 || r.stdout != want {
		t.Errorf("ssh = %+v, want %q", r, want)
	}
}

// TestOpenSSHKeepalive checks that ssh's ServerAliveInterval, which sear's
// client imitates, takes the server's failure replies as signs of life.
func TestOpenSSHKeepalive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ssh(t, nil, []string{"-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=1"}, "sleep 2.5; echo alive")
	if r.status != 0 || r.stdout != "alive\n" {
		t.Errorf("ssh = %+v", r)
	}
}

func TestOpenSSHShellRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ssh(t, nil, nil)
	if r.status == 0 || !strings.Contains(r.stderr, "not interactive shells") {
		t.Errorf("ssh = %+v, want a polite refusal", r)
	}
}

func TestOpenSSHForwardingRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ssh(t, nil, []string{"-W", f.srv.Addr()})
	if r.status != 255 || !strings.Contains(r.stderr, "administratively prohibited") {
		t.Errorf("ssh -W = %+v, want refused", r)
	}
}
