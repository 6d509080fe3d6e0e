package keys

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"strings"
	"testing"
)

// secrets returns, by name, private bytes of c's material that must never
// appear in printed output, in any of the forms fmt could print them in.
func secrets(t *testing.T, c *Cluster) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	add := func(name string, k *SSHKey) {
		pemBytes, err := k.PrivatePEM()
		if err != nil {
			t.Fatal(err)
		}
		s[name+" PEM"] = pemBody(pemBytes)
		s[name+" seed"] = k.Private.Seed()
	}
	add("client", c.Client)
	add("internal", c.Internal)
	for _, n := range c.Nodes {
		add(n.name+" host", n.HostKey)
		add(n.name+" rotated", n.RotatedHostKey)
		s[n.name+" TLS key"] = pemBody(n.KeyPEM)
	}
	caKey, err := c.CA.key.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s["CA key"] = caKey
	return s
}

// pemBody is the first base64 line of a PEM block: enough to recognise it.
func pemBody(p []byte) []byte {
	return bytes.Split(p, []byte("\n"))[1]
}

// forms returns b as fmt prints a []byte or a named byte slice with %s, %v
// and %#v, and as hex, each without brackets so it is found inside a longer
// slice too.
func forms(b []byte) []string {
	goSyntax := fmt.Sprintf("%#v", b)
	return []string{
		string(b),
		strings.Trim(fmt.Sprint(b), "[]"),
		goSyntax[strings.Index(goSyntax, "{")+1 : len(goSyntax)-1],
		fmt.Sprintf("%x", b),
	}
}

func TestPrintingRevealsNoSecret(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 2)
	for _, n := range c.Nodes {
		if _, err := n.RotateHostKey(); err != nil {
			t.Fatal(err)
		}
	}
	values := map[string]any{
		"cluster": c, "cluster value": *c,
		"client": c.Client, "client value": *c.Client,
		"node": c.Nodes[0], "node value": *c.Nodes[0], "nodes": c.Nodes,
		"CA": c.CA, "CA value": *c.CA,
		"wrapped": struct{ C *Cluster }{c},
	}
	secret := secrets(t, c)
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			for what, b := range secret {
				for _, form := range forms(b) {
					if strings.Contains(out, form) {
						t.Errorf("%s printed with %s reveals the %s:\n%s", name, verb, what, out)
					}
				}
			}
			if strings.Contains(out, "PRIVATE KEY") {
				t.Errorf("%s printed with %s contains a private key:\n%s", name, verb, out)
			}
		}
	}
}

func TestStringShowsFingerprints(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 1)
	n := c.Nodes[0]
	tests := []struct {
		name, got string
		want      []string
	}{
		{"cluster", fmt.Sprint(c), []string{c.ID, "1 nodes"}},
		{"ssh key", fmt.Sprint(c.Client), []string{"ssh-ed25519", c.Client.Fingerprint(), c.Client.Comment}},
		{"node", fmt.Sprintf("%#v", n), []string{"Node(0", n.HostKey.Fingerprint(), fmt.Sprintf("%x", n.Cert.SerialNumber)}},
		{"CA", fmt.Sprint(c.CA), []string{c.ID + " CA"}},
		{"empty key", fmt.Sprint(SSHKey{}), []string{"SSHKey(empty)"}},
		{"empty CA", fmt.Sprint(CA{}), []string{"CA(empty)"}},
		{"node without keys", fmt.Sprint(Node{Rank: 3}), []string{"Node(3 host=none)"}},
	}
	for _, tt := range tests {
		for _, w := range tt.want {
			if !strings.Contains(tt.got, w) {
				t.Errorf("%s: %q does not contain %q", tt.name, tt.got, w)
			}
		}
	}
}
