package keys

import (
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no nodes", Options{Nodes: 0, Lifetime: time.Hour}, "0 nodes: expected at least 1"},
		{"no lifetime", Options{Nodes: 1}, "lifetime 0s: expected a positive duration"},
		{"negative margin", Options{Nodes: 1, Lifetime: time.Hour, Margin: -time.Minute}, "margin -1m0s: expected zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestClusterID(t *testing.T) {
	t.Parallel()
	// A DNS label and an AWS tag value: lowercase letters, digits, dashes.
	valid := regexp.MustCompile(`^sear-[a-z2-7]{10}$`)
	seen := map[string]bool{}
	for range 50 {
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		if !valid.MatchString(id) {
			t.Errorf("id %q does not match %v", id, valid)
		}
		if seen[id] {
			t.Errorf("id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestGivenClusterID(t *testing.T) {
	t.Parallel()
	id, _ := NewID()
	c, err := New(Options{Nodes: 1, Lifetime: time.Hour, ID: id})
	if err != nil || c.ID != id {
		t.Fatalf("New with ID %q: cluster %v, %v", id, c, err)
	}
	// The id becomes a tag value that teardown filters on and part of
	// file names: nothing else is taken.
	for _, bad := range []string{"sear-ABCDEFGHIJ", "sear-abc", "x", "sear-abcdefghij/..", "sear-abcdefghij*"} {
		if _, err := New(Options{Nodes: 1, Lifetime: time.Hour, ID: bad}); err == nil {
			t.Errorf("New took the cluster id %q", bad)
		}
	}
}

func TestNewMakesDistinctKeys(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 3)
	if len(c.Nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(c.Nodes))
	}
	seen := map[string]string{}
	note := func(what string, k *SSHKey) {
		fp := k.Fingerprint()
		if other, dup := seen[fp]; dup {
			t.Errorf("%s and %s share key %s", what, other, fp)
		}
		seen[fp] = what
	}
	note("client", c.Client)
	note("internal", c.Internal)
	for i, n := range c.Nodes {
		if n.Rank != i {
			t.Errorf("node %d has rank %d", i, n.Rank)
		}
		note(n.name, n.HostKey)
	}
	if !strings.HasSuffix(c.Client.AuthorizedKey(), " "+c.ID+" client") {
		t.Errorf("client key comment: %q", c.Client.AuthorizedKey())
	}
}

func TestRotateHostKey(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 1)
	n := c.Nodes[0]
	boot := n.HostKey
	if n.ActiveHostKey() != boot {
		t.Error("before rotation the bootstrap key should be active")
	}
	rotated, err := n.RotateHostKey()
	if err != nil {
		t.Fatal(err)
	}
	if rotated == boot || rotated.Fingerprint() == boot.Fingerprint() {
		t.Fatal("rotation returned the bootstrap key")
	}
	if n.RotatedHostKey != rotated || n.ActiveHostKey() != rotated || n.HostKey != boot {
		t.Error("rotated key not stored as the active one, or bootstrap key lost")
	}
	again, err := n.RotateHostKey()
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint() == rotated.Fingerprint() || n.ActiveHostKey() != again {
		t.Error("second rotation did not replace the first")
	}
}

func TestIssueNodeCertRejects(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t, 2)
	tests := []struct {
		name string
		rank int
		want string
	}{
		{"rank too high", 2, "rank 2: expected 0 to 1"},
		{"negative rank", -1, "rank -1: expected 0 to 1"},
		{"no names", 0, "certificate for node 0: no IP address or DNS name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ips []net.IP
			if tt.name != "no names" {
				ips = loopback
			}
			err := c.IssueNodeCert(tt.rank, ips, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestIssueNodeCertConcurrently(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Nodes: 8, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for rank := range c.Nodes {
		wg.Go(func() {
			if err := c.IssueNodeCert(rank, loopback, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, n := range c.Nodes {
		if n.Cert == nil {
			t.Errorf("node %d has no certificate", n.Rank)
		}
	}
}

func TestTLSCertificateBeforeIssue(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Nodes: 1, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Nodes[0].TLSCertificate(); err == nil {
		t.Error("TLSCertificate succeeded before IssueNodeCert")
	}
}
