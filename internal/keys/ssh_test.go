package keys

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestAuthorizedKeyFormat(t *testing.T) {
	t.Parallel()
	k, err := NewSSHKey("sear-test client")
	if err != nil {
		t.Fatal(err)
	}
	line := k.AuthorizedKey()
	if !strings.HasPrefix(line, "ssh-ed25519 AAAA") || !strings.HasSuffix(line, " sear-test client") || strings.Contains(line, "\n") {
		t.Errorf("authorized key %q", line)
	}
	pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if comment != "sear-test client" || !bytes.Equal(pub.Marshal(), k.PublicKey().Marshal()) {
		t.Errorf("parsed back as %q %s", comment, ssh.FingerprintSHA256(pub))
	}
}

func TestPrivatePEMRoundTrip(t *testing.T) {
	t.Parallel()
	k, err := NewSSHKey("c")
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := k.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n")) {
		t.Errorf("not OpenSSH format: %.40q", pemBytes)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if signer.PublicKey().Type() != ssh.KeyAlgoED25519 || ssh.FingerprintSHA256(signer.PublicKey()) != k.Fingerprint() {
		t.Errorf("parsed back as %s %s", signer.PublicKey().Type(), ssh.FingerprintSHA256(signer.PublicKey()))
	}
}

func TestFixedHostKey(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 2)
	pin := ssh.FixedHostKey(c.Nodes[0].HostKey.PublicKey())
	addr := &net.TCPAddr{IP: loopback[0], Port: 22}
	if err := pin("node0:22", addr, c.Nodes[0].HostKey.PublicKey()); err != nil {
		t.Errorf("own key refused: %v", err)
	}
	if err := pin("node0:22", addr, c.Nodes[1].HostKey.PublicKey()); err == nil {
		t.Error("another node's key accepted")
	}
}

// sshHandshake runs an SSH handshake over loopback TCP between a server
// using hostKey and accepting only the key authorized, and a client pinned to
// pinned and authenticating with client.
func sshHandshake(t *testing.T, hostKey, authorized, pinned, client *SSHKey) (serverErr, clientErr error) {
	t.Helper()
	serverConf := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), authorized.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, errUnknownKey
		},
	}
	serverConf.AddHostKey(hostKey.Signer)
	clientConf := &ssh.ClientConfig{
		User:              "admin",
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(client.Signer)},
		HostKeyCallback:   ssh.FixedHostKey(pinned.PublicKey()),
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
	}
	a, b := tcpPipe(t)
	done := make(chan error, 1)
	go func() {
		conn, _, _, err := ssh.NewServerConn(a, serverConf)
		if err == nil {
			conn.Close()
		}
		a.Close()
		done <- err
	}()
	conn, _, _, err := ssh.NewClientConn(b, "node:22", clientConf)
	if err == nil {
		conn.Close()
	}
	b.Close()
	return <-done, err
}

var errUnknownKey = errors.New("unknown client key")

func TestSSHHandshakePinned(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 2)
	node := c.Nodes[0]
	if serverErr, clientErr := sshHandshake(t, node.HostKey, c.Client, node.HostKey, c.Client); serverErr != nil || clientErr != nil {
		t.Fatalf("server: %v; client: %v", serverErr, clientErr)
	}
	if _, clientErr := sshHandshake(t, c.Nodes[1].HostKey, c.Client, node.HostKey, c.Client); clientErr == nil {
		t.Error("client accepted another node's host key")
	}
	rotated, err := node.RotateHostKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, clientErr := sshHandshake(t, node.HostKey, c.Client, rotated, c.Client); clientErr == nil {
		t.Error("client pinned to the rotated key accepted the retired one")
	}
	if serverErr, _ := sshHandshake(t, node.HostKey, c.Client, node.HostKey, c.Internal); serverErr == nil {
		t.Error("server accepted a key it does not authorize")
	}
}
