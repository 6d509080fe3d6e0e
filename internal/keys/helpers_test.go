package keys

import (
	"net"
	"testing"
	"time"
)

var loopback = []net.IP{net.IPv4(127, 0, 0, 1)}

// newTestCluster makes a cluster of n nodes, each with a certificate for
// 127.0.0.1 and for 10.0.0.<rank+10>.
func newTestCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c, err := New(Options{Nodes: n, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for rank := range c.Nodes {
		ips := []net.IP{loopback[0], net.IPv4(10, 0, 0, byte(rank+10))}
		if err := c.IssueNodeCert(rank, ips, []string{"localhost"}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// tcpPipe returns the two ends of a loopback TCP connection. Unlike
// net.Pipe, the kernel buffers writes, so protocols where both sides speak
// first (SSH's version exchange) or close with an alert (TLS) do not
// deadlock.
func tcpPipe(t testing.TB) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- conn
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.FailNow()
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}
