package keys

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"
)

func TestCACertificate(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 1)
	ca := c.CA.Cert
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
		t.Errorf("basic constraints: IsCA=%v valid=%v MaxPathLen=%d zero=%v",
			ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLen, ca.MaxPathLenZero)
	}
	if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("key usage %b", ca.KeyUsage)
	}
	if want := c.ID + " CA"; ca.Subject.CommonName != want {
		t.Errorf("CN %q, want %q", ca.Subject.CommonName, want)
	}
	if ca.PublicKeyAlgorithm != x509.ECDSA || ca.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("algorithms %v / %v, want ECDSA P-256 with SHA-256", ca.PublicKeyAlgorithm, ca.SignatureAlgorithm)
	}
	if string(c.CAPEM()) != string(c.CA.CertPEM) {
		t.Error("CAPEM differs from CA.CertPEM")
	}
}

func TestSerialsAreRandomAndLarge(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 4)
	seen := map[string]bool{c.CA.Cert.SerialNumber.String(): true}
	for _, n := range c.Nodes {
		s := n.Cert.SerialNumber
		if s.Sign() <= 0 || s.BitLen() > 128 {
			t.Errorf("serial %x: want positive, at most 128 bits", s)
		}
		if seen[s.String()] {
			t.Errorf("serial %x repeated", s)
		}
		seen[s.String()] = true
	}
}

func TestLeafVerifiesForServerAndClient(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 2)
	for _, n := range c.Nodes {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			opts := x509.VerifyOptions{Roots: c.CA.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}}
			if _, err := n.Cert.Verify(opts); err != nil {
				t.Errorf("node %d, usage %v: %v", n.Rank, usage, err)
			}
		}
		if err := n.Cert.VerifyHostname("10.0.0." + strconv.Itoa(n.Rank+10)); err != nil {
			t.Errorf("node %d: %v", n.Rank, err)
		}
		if err := n.Cert.VerifyHostname("10.0.0.99"); err == nil {
			t.Errorf("node %d: accepted an IP it was not issued for", n.Rank)
		}
	}
}

func TestLeafFields(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 1)
	leaf := c.Nodes[0].Cert
	if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(loopback[0]) {
		t.Errorf("IP SANs %v", leaf.IPAddresses)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage %b, want digitalSignature only", leaf.KeyUsage)
	}
	if leaf.IsCA {
		t.Error("leaf is a CA")
	}
	if want := c.ID + " node-0"; leaf.Subject.CommonName != want {
		t.Errorf("CN %q, want %q", leaf.Subject.CommonName, want)
	}
}

func TestValidityBounds(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start
	c, err := New(Options{Nodes: 1, Lifetime: 2 * time.Hour, Margin: 30 * time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want time.Time) {
		t.Helper()
		if !got.Equal(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("CA NotBefore", c.CA.Cert.NotBefore, start.Add(-5*time.Minute))
	check("CA NotAfter", c.CA.Cert.NotAfter, start.Add(150*time.Minute))

	// Issued 20 minutes later: NotAfter would pass the CA's, so it is clipped.
	now = start.Add(20 * time.Minute)
	if err := c.IssueNodeCert(0, loopback, nil); err != nil {
		t.Fatal(err)
	}
	leaf := c.Nodes[0].Cert
	check("leaf NotBefore", leaf.NotBefore, now.Add(-5*time.Minute))
	check("leaf NotAfter", leaf.NotAfter, c.CA.Cert.NotAfter)

	pool := c.CA.Pool()
	for _, tt := range []struct {
		at time.Time
		ok bool
	}{
		{now.Add(-4 * time.Minute), true}, // a node whose clock is behind
		{start.Add(149 * time.Minute), true},
		{start.Add(151 * time.Minute), false},
		{now.Add(-6 * time.Minute), false},
	} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: tt.at})
		if (err == nil) != tt.ok {
			t.Errorf("verify at %v: err = %v, want ok=%v", tt.at, err, tt.ok)
		}
	}
}

func TestDefaultMargin(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := New(Options{Nodes: 1, Lifetime: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.CA.Cert.NotAfter, now.Add(time.Hour+DefaultMargin); !got.Equal(want) {
		t.Errorf("CA NotAfter = %v, want %v", got, want)
	}
}

func TestLeafFromAnotherClusterFails(t *testing.T) {
	t.Parallel()
	ours, theirs := newTestCluster(t, 1), newTestCluster(t, 1)
	_, err := theirs.Nodes[0].Cert.Verify(x509.VerifyOptions{Roots: ours.CA.Pool()})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("err = %v, want x509.UnknownAuthorityError", err)
	}
}

// mutualTLS returns server and client configs that require and verify each
// other's certificates against ca, as Dask's require_encryption does.
func mutualTLS(t *testing.T, ca *CA, server, client *Node) (*tls.Config, *tls.Config) {
	t.Helper()
	serverCert, err := server.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := client.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    ca.Pool(),
		}, &tls.Config{
			Certificates: []tls.Certificate{clientCert},
			RootCAs:      ca.Pool(),
			ServerName:   "127.0.0.1", // checked against the IP SANs
		}
}

// handshake runs both ends of a TLS connection over loopback TCP and
// returns the server's and the client's errors, each after one byte of data
// has crossed (in TLS 1.3 the client learns of a refused certificate only
// on its first read).
func handshake(t *testing.T, serverConf, clientConf *tls.Config) (serverErr, clientErr error) {
	a, b := tcpPipe(t)
	server, client := tls.Server(a, serverConf), tls.Client(b, clientConf)
	done := make(chan error, 1)
	go func() {
		defer server.Close()
		if err := server.Handshake(); err != nil {
			done <- err
			return
		}
		_, err := server.Write([]byte{1})
		done <- err
	}()
	defer client.Close()
	clientErr = client.Handshake()
	if clientErr == nil {
		_, clientErr = io.ReadFull(client, make([]byte, 1))
	}
	client.Close()
	return <-done, clientErr
}

func TestMutualTLSHandshake(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 2)
	serverConf, clientConf := mutualTLS(t, c.CA, c.Nodes[0], c.Nodes[1])
	var peer *x509.Certificate
	serverConf.VerifyConnection = func(cs tls.ConnectionState) error {
		peer = cs.PeerCertificates[0]
		return nil
	}
	serverErr, clientErr := handshake(t, serverConf, clientConf)
	if serverErr != nil || clientErr != nil {
		t.Fatalf("server: %v; client: %v", serverErr, clientErr)
	}
	if peer == nil || !peer.Equal(c.Nodes[1].Cert) {
		t.Error("server did not see node 1's certificate")
	}
}

func TestMutualTLSRefusesAnotherCA(t *testing.T) {
	t.Parallel()
	ours, theirs := newTestCluster(t, 1), newTestCluster(t, 1)
	serverConf, _ := mutualTLS(t, ours.CA, ours.Nodes[0], ours.Nodes[0])
	// The intruder trusts our CA, so only the server's check can stop it.
	// Go's client would withhold a certificate the server's list of
	// acceptable CAs does not name; an intruder sends it anyway.
	_, clientConf := mutualTLS(t, ours.CA, theirs.Nodes[0], theirs.Nodes[0])
	intruder := clientConf.Certificates[0]
	clientConf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &intruder, nil
	}

	serverErr, clientErr := handshake(t, serverConf, clientConf)
	var unknown x509.UnknownAuthorityError
	if !errors.As(serverErr, &unknown) {
		t.Errorf("server err = %v, want x509.UnknownAuthorityError", serverErr)
	}
	if clientErr == nil {
		t.Error("client with another cluster's certificate was not refused")
	}
}
