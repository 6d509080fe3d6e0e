package ec2

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sear-ci/sear/internal/keys"
)

func testUserData(t *testing.T) (UserData, *keys.Cluster) {
	t.Helper()
	kc, err := keys.New(keys.Options{Nodes: 2, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.IssueNodeCert(0, nil, []string{"localhost"}); err != nil {
		t.Fatal(err)
	}
	pem, err := kc.Nodes[0].HostKey.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	return UserData{
		Username: "ubuntu", HostPrivateKey: pem, HostPublicKey: kc.Nodes[0].HostKey.AuthorizedKey(),
		AuthorizedKey: kc.Client.AuthorizedKey(), ExpiresAt: time.Unix(1_900_000_000, 0),
	}, kc
}

func TestUserDataIsCloudConfig(t *testing.T) {
	t.Parallel()
	u, kc := testUserData(t)
	doc, err := u.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(doc, []byte("#cloud-config\n")) {
		t.Fatal("cloud-init runs user data as cloud-config only after the #cloud-config line")
	}
	var cc map[string]any
	if err := yaml.Unmarshal(doc, &cc); err != nil {
		t.Fatal(err)
	}
	keysMap := cc["ssh_keys"].(map[string]any)
	if !strings.Contains(keysMap["ed25519_private"].(string), "OPENSSH PRIVATE KEY") {
		t.Error("host private key missing from ssh_keys")
	}
	if !strings.Contains(string(doc), strings.TrimSpace(kc.Client.AuthorizedKey())) {
		t.Error("client key not authorized")
	}
	if !strings.Contains(string(doc), "1900000000") {
		t.Error("expiry missing")
	}
	// The only private key in user data is the one-time host key: no TLS
	// key, no internal key, no client key. Keys are told apart by their
	// public halves: OpenSSH's private key format has random check bytes,
	// so the same key never encodes the same way twice.
	found := privateKeysIn(t, string(doc), keyNames(t, kc))
	if len(found) != 1 || found[0] != "host key of node 0" {
		t.Errorf("user data holds %v, want only the host key of node 0", found)
	}
}

func TestUserDataIncompleteIsRefused(t *testing.T) {
	t.Parallel()
	u, _ := testUserData(t)
	u.AuthorizedKey = ""
	if _, err := u.Render(); err == nil {
		t.Fatal("rendered user data without an authorized key")
	}
}

func TestEncodeFitsOrRefuses(t *testing.T) {
	t.Parallel()
	u, _ := testUserData(t)
	doc, _ := u.Render()
	enc, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(enc)
	if !bytes.Equal(raw, doc) {
		t.Error("small user data should go as it is")
	}

	big := append(append([]byte(nil), doc...), bytes.Repeat([]byte("# padding that compresses well\n"), 1000)...)
	enc, err = Encode(big)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = base64.StdEncoding.DecodeString(enc)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("large user data should be gzipped: %v", err)
	}
	back, _ := io.ReadAll(zr)
	if !bytes.Equal(back, big) {
		t.Error("gzip round trip changed the user data")
	}

	random := make([]byte, 40000)
	rand.Read(random)
	if _, err := Encode([]byte(base64.StdEncoding.EncodeToString(random))); err == nil {
		t.Error("accepted user data over 16 KB even gzipped")
	}
}

// TestPrivateKeysInFindsEveryKind: the detector the user data tests rely
// on finds each kind of key the cluster has, indented as YAML indents it.
func TestPrivateKeysInFindsEveryKind(t *testing.T) {
	t.Parallel()
	_, kc := testUserData(t)
	clientPEM, _ := kc.Client.PrivatePEM()
	internalPEM, _ := kc.Internal.PrivatePEM()
	indent := func(b []byte) string { return "key: |\n  " + strings.ReplaceAll(string(b), "\n", "\n  ") }
	doc := indent(clientPEM) + "\n" + string(internalPEM) + "\n" + indent(kc.Nodes[0].KeyPEM)
	got := privateKeysIn(t, doc, keyNames(t, kc))
	want := []string{"client key", "internal key", "TLS key of node 0"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("found %v, want %v", got, want)
	}
}
