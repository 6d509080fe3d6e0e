package keys

// Oracles from outside Go: OpenSSL, OpenSSH and Python's ssl read the
// material the way the nodes will. They are required tools, not optional:
// a skipped oracle is one nobody notices missing.

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile writes data to name in dir with mode 0600 (ssh-keygen refuses
// a readable private key) and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// command runs name with args and returns its combined output and error.
func command(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestOpenSSLVerify(t *testing.T) {
	t.Parallel()
	ours, theirs := newTestCluster(t, 2), newTestCluster(t, 1)
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", ours.CAPEM())
	for _, purpose := range []string{"sslserver", "sslclient"} {
		for _, n := range ours.Nodes {
			leaf := writeFile(t, dir, "leaf.pem", n.CertPEM)
			out, err := command(t, "openssl", "verify", "-x509_strict", "-purpose", purpose, "-CAfile", ca, leaf)
			if err != nil || out != leaf+": OK" {
				t.Errorf("node %d, %s: %v\n%s", n.Rank, purpose, err, out)
			}
		}
		foreign := writeFile(t, dir, "foreign.pem", theirs.Nodes[0].CertPEM)
		if out, err := command(t, "openssl", "verify", "-purpose", purpose, "-CAfile", ca, foreign); err == nil {
			t.Errorf("%s: another cluster's leaf verified:\n%s", purpose, out)
		}
	}
}

func TestSSHKeygenReadsKeys(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 1)
	for _, k := range []*SSHKey{c.Client, c.Internal, c.Nodes[0].HostKey} {
		dir := t.TempDir()
		pub := writeFile(t, dir, "id.pub", []byte(k.AuthorizedKey()+"\n"))
		want := "256 " + k.Fingerprint() + " " + k.Comment + " (ED25519)"
		if out, err := command(t, "ssh-keygen", "-l", "-f", pub); err != nil || out != want {
			t.Errorf("ssh-keygen -l %s: %v\ngot  %s\nwant %s", k.Comment, err, out, want)
		}

		pemBytes, err := k.PrivatePEM()
		if err != nil {
			t.Fatal(err)
		}
		priv := writeFile(t, dir, "id", pemBytes)
		// -y derives the public key from the private one: the same line back.
		if out, err := command(t, "ssh-keygen", "-y", "-f", priv); err != nil || out != k.AuthorizedKey() {
			t.Errorf("ssh-keygen -y %s: %v\ngot  %s\nwant %s", k.Comment, err, out, k.AuthorizedKey())
		}
	}
}

// pythonServer is a TLS server set up the way Dask's Security sets up a
// listener with require_encryption: the cluster CA, the node's certificate,
// and a client certificate required. It accepts two connections and prints
// one line for each.
const pythonServer = `
import socket, ssl, sys
ca, cert, key = sys.argv[1:4]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(cert, key)
srv = socket.create_server(("127.0.0.1", 0))
srv.settimeout(20)
print(srv.getsockname()[1], flush=True)
for _ in range(2):
    conn, _ = srv.accept()
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            subject = dict(rdn[0] for rdn in tls.getpeercert()["subject"])
            tls.sendall(b"1")
            print("ok", subject["commonName"], flush=True)
    except ssl.SSLError as e:
        print("refused", e.reason, flush=True)
`

func TestPythonSSLServerAcceptsNodeCert(t *testing.T) {
	t.Parallel()
	ours, theirs := newTestCluster(t, 2), newTestCluster(t, 1)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", pythonServer,
		writeFile(t, dir, "ca.pem", ours.CAPEM()),
		writeFile(t, dir, "cert.pem", ours.Nodes[0].CertPEM),
		writeFile(t, dir, "key.pem", ours.Nodes[0].KeyPEM))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// On success Python has exited; on failure, do not wait for its timeout.
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	port := readLine(t, lines)

	if err := dialPython(t, port, ours, ours.Nodes[1]); err != nil {
		t.Errorf("Go client with node 1's certificate: %v", err)
	}
	if got, want := readLine(t, lines), "ok "+ours.ID+" node-1"; got != want {
		t.Errorf("python: %q, want %q", got, want)
	}

	if err := dialPython(t, port, ours, theirs.Nodes[0]); err == nil {
		t.Error("Go client with another cluster's certificate was not refused")
	}
	if got := readLine(t, lines); !strings.HasPrefix(got, "refused ") {
		t.Errorf("python: %q, want a refusal", got)
	}
}

// readLine returns the next line from the Python server.
func readLine(t *testing.T, lines *bufio.Scanner) string {
	t.Helper()
	if !lines.Scan() {
		t.Fatalf("python server ended early: %v", lines.Err())
	}
	return lines.Text()
}

// dialPython connects to the Python server on port as node, trusting c's CA,
// and returns the error of the handshake or of reading the server's byte.
func dialPython(t *testing.T, port string, c *Cluster, node *Node) error {
	t.Helper()
	cert, err := node.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{
		RootCAs:    c.CA.Pool(),
		ServerName: "127.0.0.1", // verified against the server's IP SAN
		// Present the certificate even if the server's CA list does not
		// name its issuer, so that refusing it is Python's job.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
	}
	dialer := &tls.Dialer{Config: conf}
	conn, err := dialer.DialContext(t.Context(), "tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = io.ReadFull(conn, make([]byte, 1))
	return err
}
