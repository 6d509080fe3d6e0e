package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SSHKey is an ed25519 SSH key pair. Only ed25519: one algorithm to pin
// (HostKeyAlgorithms: [ssh-ed25519]) leaves nothing to downgrade to.
type SSHKey struct {
	Private ed25519.PrivateKey
	Signer  ssh.Signer // for ssh.PublicKeys (client) or ServerConfig.AddHostKey
	Comment string     // the comment in AuthorizedKey and PrivatePEM
}

// NewSSHKey makes a fresh ed25519 key with the given comment.
func NewSSHKey(comment string) (*SSHKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ssh key %q: %w", comment, err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("ssh signer for %q: %w", comment, err)
	}
	return &SSHKey{Private: priv, Signer: signer, Comment: comment}, nil
}

// PublicKey returns the public half, e.g. for ssh.FixedHostKey.
func (k *SSHKey) PublicKey() ssh.PublicKey {
	return k.Signer.PublicKey()
}

// AuthorizedKey returns the public key as one authorized_keys line without
// the newline: "ssh-ed25519 AAAA... comment". cloud-init's ssh_keys and
// ssh_authorized_keys take this form.
func (k *SSHKey) AuthorizedKey() string {
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(k.PublicKey())), "\n")
	if k.Comment == "" {
		return line
	}
	return line + " " + k.Comment
}

// PrivatePEM returns the private key in OpenSSH's own format
// ("-----BEGIN OPENSSH PRIVATE KEY-----"), which sshd and ssh-keygen read.
// The result is secret: send it only over a pinned channel.
func (k *SSHKey) PrivatePEM() ([]byte, error) {
	block, err := ssh.MarshalPrivateKey(k.Private, k.Comment)
	if err != nil {
		// The error of MarshalPrivateKey names the key type, never its bytes.
		return nil, fmt.Errorf("marshal ssh key %q: %w", k.Comment, err)
	}
	return pem.EncodeToMemory(block), nil
}

// Fingerprint returns the SHA256 fingerprint as ssh-keygen -l prints it.
func (k *SSHKey) Fingerprint() string {
	return ssh.FingerprintSHA256(k.PublicKey())
}

// String identifies the key by type, fingerprint and comment only. It has a
// value receiver so that printing an SSHKey value, not only a pointer, also
// goes through it.
func (k SSHKey) String() string {
	if k.Signer == nil {
		return "SSHKey(empty)"
	}
	return fmt.Sprintf("SSHKey(%s %s %s)", k.PublicKey().Type(), k.Fingerprint(), k.Comment)
}

// GoString is String, so %#v cannot reach the private key either.
func (k SSHKey) GoString() string {
	return k.String()
}
