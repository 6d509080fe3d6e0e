package remote

import (
	"bytes"
	"fmt"
	"net"

	"golang.org/x/crypto/ssh"
)

// HostKeyError is a node answering with a host key other than the pinned
// one. It is never accepted and never retried: a different machine
// answers at the address, or the instance was tampered with.
type HostKeyError struct {
	Addr string // host:port dialled
	Want string // SHA256 fingerprint of the pinned key
	Got  string // SHA256 fingerprint of the key presented
}

// Error says what was presented, what was pinned and what it means.
func (e *HostKeyError) Error() string {
	return fmt.Sprintf("%s presented host key %s but the cluster pinned %s; refusing to connect "+
		"(a different machine answers at this address, or the instance was tampered with)", e.Addr, e.Got, e.Want)
}

// pin accepts exactly want, as ssh.FixedHostKey does, but keeps the
// mismatch as a *HostKeyError (FixedHostKey's is an untyped string) in
// *rejected, so Dial can tell it apart from a network failure.
func pin(addr string, want ssh.PublicKey, rejected **HostKeyError) ssh.HostKeyCallback {
	return func(_ string, _ net.Addr, got ssh.PublicKey) error {
		if bytes.Equal(got.Marshal(), want.Marshal()) {
			return nil
		}
		*rejected = &HostKeyError{Addr: addr, Want: ssh.FingerprintSHA256(want), Got: ssh.FingerprintSHA256(got)}
		return *rejected
	}
}
