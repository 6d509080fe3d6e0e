package keys

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// Node is the key material of one node.
type Node struct {
	Rank int

	// HostKey is the bootstrap host key, sent in user data. User data is
	// readable by anything on the instance that can reach IMDS, so this key
	// is trusted only for first contact, then replaced by RotatedHostKey.
	HostKey *SSHKey
	// RotatedHostKey is nil until RotateHostKey; see there.
	RotatedHostKey *SSHKey

	// Cert, CertPEM and KeyPEM are the node's TLS leaf, nil until
	// Cluster.IssueNodeCert. KeyPEM is PKCS #8 ("PRIVATE KEY"), which
	// Python's ssl, OpenSSL and Go all load; it is secret and goes to the
	// node only over the pinned SSH channel, never in user data.
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte

	name string // for key comments
}

// newNodes makes n nodes, each with a bootstrap host key.
func newNodes(clusterID string, n int) ([]*Node, error) {
	nodes := make([]*Node, n)
	for rank := range nodes {
		name := nodeName(clusterID, rank)
		host, err := NewSSHKey(name + " host")
		if err != nil {
			return nil, err
		}
		nodes[rank] = &Node{Rank: rank, HostKey: host, name: name}
	}
	return nodes, nil
}

// RotateHostKey makes a fresh host key, stores it as RotatedHostKey and
// returns it. The caller delivers it over SSH pinned to the current key and
// from then on pins the new one; the user-data key is retired. A second call
// (say, after a failed delivery) replaces the previous rotated key.
func (n *Node) RotateHostKey() (*SSHKey, error) {
	k, err := NewSSHKey(n.name + " host rotated")
	if err != nil {
		return nil, err
	}
	n.RotatedHostKey = k
	return k, nil
}

// ActiveHostKey returns the key to pin: the rotated one once there is one,
// the bootstrap one before.
func (n *Node) ActiveHostKey() *SSHKey {
	if n.RotatedHostKey != nil {
		return n.RotatedHostKey
	}
	return n.HostKey
}

// TLSCertificate returns the node's leaf and key for a crypto/tls endpoint.
func (n *Node) TLSCertificate() (tls.Certificate, error) {
	if n.CertPEM == nil {
		return tls.Certificate{}, fmt.Errorf("node %d has no certificate yet", n.Rank)
	}
	cert, err := tls.X509KeyPair(n.CertPEM, n.KeyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("node %d certificate: %w", n.Rank, err)
	}
	return cert, nil
}

// setLeaf stores a freshly issued leaf.
func (n *Node) setLeaf(l *leaf) {
	n.Cert, n.CertPEM, n.KeyPEM = l.cert, l.certPEM, l.keyPEM
}

// String identifies the node by rank and public fingerprints only.
func (n Node) String() string {
	s := fmt.Sprintf("Node(%d host=%s", n.Rank, fingerprint(n.HostKey))
	if n.RotatedHostKey != nil {
		s += " rotated=" + fingerprint(n.RotatedHostKey)
	}
	if n.Cert != nil {
		s += fmt.Sprintf(" cert=%x", n.Cert.SerialNumber)
	}
	return s + ")"
}

// GoString is String, so %#v cannot reach KeyPEM either.
func (n Node) GoString() string {
	return n.String()
}

// fingerprint is k's fingerprint, or "none".
func fingerprint(k *SSHKey) string {
	if k == nil || k.Signer == nil {
		return "none"
	}
	return k.Fingerprint()
}
