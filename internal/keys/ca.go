package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is the cluster's TLS certificate authority. Its private key never leaves
// this process: nodes get only the certificate, so no node can mint another's
// identity.
//
// Keys are ECDSA P-256 rather than Ed25519. Python's ssl on Debian bookworm
// (OpenSSL 3.0), which Dask uses, would accept Ed25519 too, but P-256 is in
// the default signature algorithms of every TLS stack a cluster may meet:
// OpenSSL of any supported version, Go, and BoringSSL, which gRPC (and so Ray)
// uses and which leaves Ed25519 off by default. RSA would work everywhere as
// well, but an RSA key takes milliseconds to generate where P-256 takes
// microseconds, and there is one key per node.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte

	key crypto.Signer
}

// newCA makes a self-signed CA named after the cluster, valid from now (less
// the clock skew allowance) for validity.
func newCA(clusterID string, now time.Time, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: clusterID + " CA", Organization: []string{"sear"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		// Path length 0: the CA signs node leaves only, never another CA.
		MaxPathLen:     0,
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	cert, certPEM, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA: %w", err)
	}
	return &CA{Cert: cert, CertPEM: certPEM, key: key}, nil
}

// Pool returns a pool holding only this CA, for tls.Config's RootCAs and
// ClientCAs.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// leafRequest is what issue needs to know about a node.
type leafRequest struct {
	commonName          string
	ips                 []net.IP
	dnsNames            []string
	notBefore, notAfter time.Time
}

// leaf is an issued certificate with its fresh key.
type leaf struct {
	cert            *x509.Certificate
	certPEM, keyPEM []byte
}

// issue makes a key and a leaf for both ends of a TLS connection: Dask's
// scheduler and workers each listen and dial, and require_encryption checks
// the peer's certificate in both directions.
func (ca *CA) issue(req leafRequest) (*leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: req.commonName, Organization: []string{"sear"}},
		NotBefore:    req.notBefore,
		// A leaf outliving its CA would fail verification anyway; clipping
		// makes the certificate say what is true.
		NotAfter:              earlier(req.notAfter, ca.Cert.NotAfter),
		IPAddresses:           req.ips,
		DNSNames:              req.dnsNames,
		BasicConstraintsValid: true,
		// digitalSignature only: keyEncipherment is for RSA key transport,
		// which an ECDSA key cannot do.
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	cert, certPEM, err := sign(tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return &leaf{cert: cert, certPEM: certPEM, keyPEM: keyPEM}, nil
}

// sign creates the certificate tmpl signed by parent's key and returns it
// parsed and as PEM.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, []byte, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// newSerial returns a random positive serial of up to 128 bits. Random
// serials keep two clusters' certificates distinguishable and are what the
// CA/Browser Forum asks of public CAs (at least 64 random bits).
func newSerial() (*big.Int, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	serial := new(big.Int).SetBytes(b[:])
	if serial.Sign() == 0 {
		// RFC 5280 requires a positive serial; 2^-128 odds, one line to handle.
		serial.SetInt64(1)
	}
	return serial, nil
}

// earlier returns the earlier of a and b.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// String identifies the CA by subject and serial only.
func (ca CA) String() string {
	if ca.Cert == nil {
		return "CA(empty)"
	}
	return fmt.Sprintf("CA(%s serial=%x)", ca.Cert.Subject.CommonName, ca.Cert.SerialNumber)
}

// GoString is String, so %#v cannot reach the CA's private key either.
func (ca CA) GoString() string {
	return ca.String()
}
