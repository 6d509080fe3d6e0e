// Package keys makes all the key material for one cluster, in memory only:
// the action's SSH client key, the node-to-node SSH key pair, a bootstrap and
// a rotated SSH host key per node, and a TLS CA with one leaf per node for the
// engine (Dask or Ray).
//
// Nothing here is written to disk, and no private material appears in an
// error or in the fmt output of any type: SSHKey, Node, CA and Cluster print
// as public fingerprints.
//
// SSH keys are ed25519 only. TLS keys are ECDSA P-256 (see CA for why).
package keys

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// DefaultMargin is added to the cluster's lifetime for certificate validity
// when Options.Margin is zero, so that cleanup and output collection after
// the job's deadline still find working certificates.
const DefaultMargin = time.Hour

// clockSkew backdates NotBefore: a node whose clock runs behind the runner's
// would otherwise refuse a certificate that is "not yet valid".
const clockSkew = 5 * time.Minute

// Options says how much material New makes and for how long it is valid.
type Options struct {
	Nodes    int              // number of nodes, at least 1; rank 0 is the orchestrator
	Lifetime time.Duration    // the cluster's lifetime, before its dead-man's switch
	Margin   time.Duration    // added to Lifetime for certificate validity; zero means DefaultMargin
	Now      func() time.Time // clock for certificate validity; nil means time.Now
	// ID is the cluster's id, from NewID; empty makes a new one. A caller
	// gives one when it must record the id before the cluster exists (the
	// action saves it for its post step, which sweeps by it).
	ID string
}

// Cluster is all the key material for one cluster.
type Cluster struct {
	// ID is "sear-" and 10 lowercase base32 characters (50 random bits):
	// valid in an AWS tag value, a DNS label and a file name.
	ID       string
	Client   *SSHKey // the action's client key, in every node's authorized keys
	Internal *SSHKey // the node-to-node key pair, installed on every node
	CA       *CA     // the cluster's TLS CA
	Nodes    []*Node // one per node, index = rank (0 = orchestrator)

	now      func() time.Time
	validity time.Duration // Lifetime + Margin
}

// New makes the SSH keys and the CA for a cluster. Node certificates come
// later, from IssueNodeCert, once the nodes' addresses are known.
func New(opts Options) (*Cluster, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	id := opts.ID
	if id == "" {
		var err error
		if id, err = NewID(); err != nil {
			return nil, err
		}
	}
	var err error
	c := &Cluster{ID: id, now: opts.Now, validity: opts.Lifetime + opts.Margin}
	if c.Client, err = NewSSHKey(id + " client"); err != nil {
		return nil, err
	}
	if c.Internal, err = NewSSHKey(id + " internal"); err != nil {
		return nil, err
	}
	if c.CA, err = newCA(id, c.now(), c.validity); err != nil {
		return nil, err
	}
	if c.Nodes, err = newNodes(id, opts.Nodes); err != nil {
		return nil, err
	}
	return c, nil
}

// validate rejects options that cannot make a usable cluster.
func (o Options) validate() error {
	switch {
	case o.Nodes < 1:
		return fmt.Errorf("%d nodes: expected at least 1", o.Nodes)
	case o.Lifetime <= 0:
		return fmt.Errorf("lifetime %v: expected a positive duration", o.Lifetime)
	case o.Margin < 0:
		return fmt.Errorf("margin %v: expected zero (for the default) or a positive duration", o.Margin)
	case o.ID != "" && !validID.MatchString(o.ID):
		return fmt.Errorf("cluster id %q: expected \"sear-\" and 10 characters a-z, 2-7, as NewID makes", o.ID)
	}
	return nil
}

// withDefaults fills in the zero values Options documents.
func (o Options) withDefaults() Options {
	if o.Margin == 0 {
		o.Margin = DefaultMargin
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// CAPEM returns the CA certificate in PEM form, for every node's trust store.
func (c *Cluster) CAPEM() []byte {
	return c.CA.CertPEM
}

// IssueNodeCert makes a fresh TLS key and certificate for the node of the
// given rank, for the addresses it will be reached on; at least one IP or DNS
// name is required. It replaces any earlier certificate of that node. Calls for
// different ranks may run concurrently.
func (c *Cluster) IssueNodeCert(rank int, ips []net.IP, dnsNames []string) error {
	if rank < 0 || rank >= len(c.Nodes) {
		return fmt.Errorf("rank %d: expected 0 to %d", rank, len(c.Nodes)-1)
	}
	if len(ips) == 0 && len(dnsNames) == 0 {
		return fmt.Errorf("certificate for node %d: no IP address or DNS name", rank)
	}
	now := c.now()
	leaf, err := c.CA.issue(leafRequest{
		commonName: nodeName(c.ID, rank),
		ips:        ips,
		dnsNames:   dnsNames,
		notBefore:  now.Add(-clockSkew),
		notAfter:   now.Add(c.validity),
	})
	if err != nil {
		return fmt.Errorf("certificate for node %d: %w", rank, err)
	}
	c.Nodes[rank].setLeaf(leaf)
	return nil
}

// String describes the cluster without any key material.
func (c Cluster) String() string {
	return fmt.Sprintf("Cluster(%s, %d nodes)", c.ID, len(c.Nodes))
}

// GoString is String, so %#v cannot reach the private keys either.
func (c Cluster) GoString() string {
	return c.String()
}

// validID is what NewID makes.
var validID = regexp.MustCompile(`^sear-[a-z2-7]{10}$`)

// NewID returns a new cluster id: "sear-" and 10 random lowercase base32
// characters. Base32's alphabet (a-z, 2-7) needs no escaping in tags, DNS
// labels or paths.
func NewID() (string, error) {
	var b [7]byte // 56 bits, of which 10 characters keep 50
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cluster id: %w", err)
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
	return "sear-" + strings.ToLower(enc[:10]), nil
}

// nodeName is the certificate common name and key comment of a node.
func nodeName(clusterID string, rank int) string {
	return fmt.Sprintf("%s node-%d", clusterID, rank)
}
