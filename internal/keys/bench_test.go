package keys

import (
	"net"
	"testing"
	"time"
)

// BenchmarkNew32 measures all the material for a 32-node cluster (one
// orchestrator, 31 factories): SSH keys, the CA and every node's certificate.
func BenchmarkNew32(b *testing.B) {
	ips := make([][]net.IP, 32)
	for rank := range ips {
		ips[rank] = []net.IP{net.IPv4(10, 0, 1, byte(rank+10))}
	}
	for b.Loop() {
		c, err := New(Options{Nodes: 32, Lifetime: 2 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		for rank := range c.Nodes {
			if err := c.IssueNodeCert(rank, ips[rank], nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}
