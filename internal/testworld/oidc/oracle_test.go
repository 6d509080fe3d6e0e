package oidc

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// verifyPy is an independent relying party: it fetches the JWKS over HTTP, rebuilds the RSA key
// from n and e with the cryptography package and checks the RS256 signature itself.
const verifyPy = `
import base64, json, sys, urllib.request
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

jwks_uri, token = sys.argv[1], sys.stdin.read().strip()
h, p, s = token.split(".")
header = json.loads(b64(h))
keys = json.load(urllib.request.urlopen(jwks_uri))["keys"]
jwk = next(k for k in keys if k["kid"] == header["kid"])
assert header["alg"] == "RS256" and jwk["kty"] == "RSA", (header, jwk)
n, e = (int.from_bytes(b64(jwk[m]), "big") for m in ("n", "e"))
key = rsa.RSAPublicNumbers(e, n).public_key()
key.verify(b64(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
print(json.dumps(json.loads(b64(p))))
`

func TestPythonVerifiesToken(t *testing.T) {
	t.Parallel()
	requireTool(t, "python3", "-c", "import cryptography")
	iss, srv := serve(t, nil)
	_, body := getToken(t, iss.RequestURL()+"&audience=sts.amazonaws.com", "Bearer "+iss.NewRequestToken(octo.Dispatch("main")))
	cmd := exec.Command("python3", "-c", verifyPy, srv.URL+"/.well-known/jwks")
	cmd.Stdin = strings.NewReader(body["value"])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python verifier refused the token: %v\n%s", err, out)
	}
	var claims map[string]any
	if err := json.Unmarshal(out, &claims); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	if claims["sub"] != "repo:octo/exp:ref:refs/heads/main" || claims["aud"] != "sts.amazonaws.com" {
		t.Fatalf("claims seen by python: %v", claims)
	}
	cmd = exec.Command("python3", "-c", verifyPy, srv.URL+"/.well-known/jwks")
	cmd.Stdin = strings.NewReader(tamper(body["value"]))
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("python accepted a tampered token: %s", out)
	}
}

// TestOpenSSLVerifiesToken checks the signature with openssl dgst on the signing input, with the
// JWKS key exported as PEM.
func TestOpenSSLVerifiesToken(t *testing.T) {
	t.Parallel()
	requireTool(t, "openssl", "version")
	iss, srv := serve(t, nil)
	_, body := getToken(t, iss.RequestURL()+"&audience=sts.amazonaws.com", "Bearer "+iss.NewRequestToken(octo.Push("main")))
	der, err := x509.MarshalPKIXPublicKey(fetchKey(t, srv.URL+"/.well-known/jwks", iss.KeyID()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	parts := strings.Split(body["value"], ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	write(t, dir, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	write(t, dir, "sig.bin", sig)
	write(t, dir, "good.txt", []byte(signingInput(body["value"])))
	write(t, dir, "bad.txt", []byte(signingInput(tamper(body["value"]))))
	for file, wantOK := range map[string]bool{"good.txt": true, "bad.txt": false} {
		out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", filepath.Join(dir, "key.pem"),
			"-signature", filepath.Join(dir, "sig.bin"), filepath.Join(dir, file)).CombinedOutput()
		if (err == nil) != wantOK || (wantOK && !strings.Contains(string(out), "Verified OK")) {
			t.Errorf("openssl on %s: err %v, output %q", file, err, out)
		}
	}
}

// requireTool fails (never skips) when an oracle the tests depend on is not installed.
func requireTool(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("oracle %s %v unavailable (install it; these tests do not skip): %v\n%s", name, args, err, out)
	}
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// signingInput is what an RS256 signature covers: header.payload.
func signingInput(tok string) string {
	return tok[:strings.LastIndex(tok, ".")]
}
