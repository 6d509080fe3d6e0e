package sshd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sear-ci/sear/internal/keys"
)

// lastOctet gives each test server its own loopback address, 127.0.1.x,
// as the local cluster gives each node one.
var lastOctet atomic.Int32

// fixture is a running server, its keys, and files for OpenSSH's ssh.
type fixture struct {
	srv        *Server
	dir        string // the node's directory
	host       *keys.SSHKey
	client     *keys.SSHKey
	keyFile    string // the client key, 0600, for ssh -i
	knownHosts string // exactly the host key, for ssh's UserKnownHostsFile
}

// newFixture starts a server on a fresh loopback address.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), host: newKey(t, "host"), client: newKey(t, "client")}
	addr := net.JoinHostPort(fmt.Sprintf("127.0.1.%d", 10+lastOctet.Add(1)%200), "0")
	srv, err := Listen(Config{
		Addr:       addr,
		HostKey:    f.host.Signer,
		Authorized: []ssh.PublicKey{f.client.PublicKey()},
		Dir:        f.dir,
		Env:        []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	f.srv = srv
	files := t.TempDir()
	f.keyFile = writeKey(t, files, f.client)
	f.knownHosts = filepath.Join(files, "known_hosts")
	f.trust(t, f.host)
	return f
}

// newKey makes an ed25519 key.
func newKey(t *testing.T, comment string) *keys.SSHKey {
	t.Helper()
	k, err := keys.NewSSHKey(comment)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeKey writes k's private half for ssh -i, mode 0600 as ssh demands.
func writeKey(t *testing.T, dir string, k *keys.SSHKey) string {
	t.Helper()
	pem, err := k.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "id_"+strconv.Itoa(int(lastOctet.Add(1))))
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// trust makes k the only key in known_hosts for the server's address,
// written as ssh writes a non-default port: "[host]:port key".
func (f *fixture) trust(t *testing.T, k *keys.SSHKey) {
	t.Helper()
	line := knownHostsLine(f.srv.Addr(), k.PublicKey())
	if err := os.WriteFile(f.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
}

// knownHostsLine renders one known_hosts entry.
func knownHostsLine(addr string, k ssh.PublicKey) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("[%s]:%s %s", host, port, ssh.MarshalAuthorizedKey(k))
}

// result is how an ssh run ended.
type result struct {
	stdout, stderr string
	status         int
}

// ssh runs OpenSSH's client against the server with a pinned host key, in
// batch mode, with no configuration but the options given.
func (f *fixture) ssh(t *testing.T, stdin []byte, opts []string, command ...string) result {
	t.Helper()
	host, port, _ := net.SplitHostPort(f.srv.Addr())
	args := []string{
		"-F", "/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=" + f.knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "HostKeyAlgorithms=ssh-ed25519",
		"-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes",
		"-o", "ConnectTimeout=5",
		"-i", f.keyFile,
		"-p", port,
	}
	args = append(append(args, opts...), "sear@"+host)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/ssh", append(args, command...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run ssh: %v", err) // a missing ssh fails the test, never skips it
	}
	return r
}

// dial connects with x/crypto's client, for what OpenSSH's cannot send
// (signals, raw channel and global requests).
func (f *fixture) dial(t *testing.T) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", f.srv.Addr(), &ssh.ClientConfig{
		User:              "sear",
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(f.client.Signer)},
		HostKeyCallback:   ssh.FixedHostKey(f.host.PublicKey()),
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readPid waits for a command to write a pid to path.
func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

// gone says whether pid has ended (or is a zombie nobody reaps).
func gone(pid int) bool {
	state, _, ok := procStat(fmt.Sprintf("/proc/%d/stat", pid))
	return !ok || state == "Z"
}

// waitGone polls until pid is gone or d passes.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !gone(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
