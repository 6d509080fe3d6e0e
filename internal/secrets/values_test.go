package secrets

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
)

// pkcs8Key is an Ed25519 private key in PEM, without the final line break
// (configparser strips it; see refusals).
func pkcs8Key() string {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return strings.TrimSuffix(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n")
}

// encryptedPEM is a legacy encrypted PEM block: "Name: value" headers, a
// blank line, then several base64 lines.
func encryptedPEM() string {
	block := &pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   bytes.Repeat([]byte("not a real key; "), 40),
	}
	return strings.TrimSuffix(string(pem.EncodeToMemory(block)), "\n")
}

// prettyJSON is a service-account style document as json.MarshalIndent
// writes it: its lines start with indentation.
func prettyJSON() string {
	b, err := json.MarshalIndent(map[string]string{"type": "service_account", "private_key_id": "s3cr3t-id"}, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// hardValues are values configparser reads back exactly only if written
// with care; each must round-trip.
var hardValues = []struct{ name, value string }{
	{"percent sign", "100% s3cr3t"},
	{"lone percent", "%"},
	{"doubled percent", "%%"},
	{"interpolation reference", "%(home)s/s3cr3t"},
	{"percent mix", "%(x)s %% % %("},
	{"blank line inside", "s3cr3t-1\n\ns3cr3t-2"},
	{"several blank lines inside", "s3cr3t-1\n\n\n\ns3cr3t-2\n\n\ns3cr3t-3"},
	{"leading blank lines", "\n\ns3cr3t after two line breaks"},
	{"semicolon first", ";s3cr3t"},
	{"hash first", "#s3cr3t"},
	{"equals first", "=s3cr3t"},
	{"colon first", ":s3cr3t"},
	{"bracket first", "[s3cr3t]"},
	{"closing bracket first", "]s3cr3t["},
	{"delimiters inside", "a;b#c=d:e[f]g ; h # i = j : k"},
	{"section header as continuation", "s3cr3t-1\n[SECRETS]\nkey = s3cr3t-2"},
	{"defaults header as continuation", "s3cr3t-1\n[DEFAULT]\nother: s3cr3t-2"},
	{"hash and semicolon after the first character of a line", "s3cr3t-1\nx#y\nx;y"},
	{"double quotes", `"s3cr3t"`},
	{"single quotes", `'s3cr3t'`},
	{"triple quotes", `"""s3cr3t"""`},
	{"backquotes", "`s3cr3t`"},
	{"backslashes", `C:\s3cr3t\n\t`},
	{"emoji", "🔑s3cr3t🚀"},
	{"CJK", "秘密の値s3cr3t"},
	{"right to left", "סוד-سر-s3cr3t\u200f"},
	{"combining marks", "e\u0301s3cr3t\u0301"},
	{"byte order mark", "\ufeffs3cr3t"},
	{"NUL", "s3\x00cr3t"},
	{"inner whitespace Python does not treat as a line break", "s3\u2028cr\u0085e\x1ct\x0cv\x0bn\u00a0b\u3000t"},
	{"empty", ""},
	{"one character", "x"},
	{"64 KiB", strings.Repeat("0123456789abcdef", 4096)},
	{"64 KiB over many lines", strings.Repeat("s3cr3t line of forty-two characters ____\n", 1600) + "end"},
	{"PEM private key", pkcs8Key()},
	{"encrypted PEM with headers and a blank line", encryptedPEM()},
	{"JSON on one line", `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n","n":[1,2.5,null,true]}`},
}

// refusals are values configparser cannot read back exactly: the error
// must name the secret, say why (reason) and what to do (remedy).
var refusals = []struct {
	name, value    string
	reason, remedy string
}{
	{"leading space", " s3cr3t", "starts with whitespace", remedyBase64},
	{"trailing space", "s3cr3t ", "ends with whitespace", remedyBase64},
	{"trailing tab", "s3cr3t\t", "ends with whitespace", remedyBase64},
	{"leading no-break space", "\u00a0s3cr3t", "starts with whitespace", remedyBase64},
	{"trailing line separator", "s3cr3t\u2028", "ends with whitespace", remedyBase64},
	{"trailing unit separator (whitespace to Python, not to Go)", "s3cr3t\x1f", "ends with whitespace", remedyBase64},
	{"leading file separator", "\x1cs3cr3t", "starts with whitespace", remedyBase64},
	{"trailing next line", "s3cr3t\u0085", "ends with whitespace", remedyBase64},
	{"trailing vertical tab", "s3cr3t\v", "ends with whitespace", remedyBase64},
	{"only spaces", "   ", "starts with whitespace", remedyBase64},
	{"trailing line break", "s3cr3t\n", "ends with a line break", "without the final line break"},
	{"several trailing line breaks", "s3cr3t\n\n\n", "ends with a line break", "without the final line break"},
	{"only a line break", "\n", "ends with a line break", "without the final line break"},
	{"PEM with its final line break", pkcs8Key() + "\n", "ends with a line break", "without the final line break"},
	{"line ending with a space", "s3cr3t-1 \ns3cr3t-2", "whitespace at the end of line 1", remedyOneLine},
	{"indented line", "s3cr3t-1\n  s3cr3t-2", "whitespace at the start of line 2", remedyOneLine},
	{"line of spaces inside", "s3cr3t-1\n \ns3cr3t-2", "whitespace at the start of line 2", remedyOneLine},
	{"ideographic space starting a line", "s3cr3t-1\n\u3000s3cr3t-2", "whitespace at the start of line 2", remedyOneLine},
	{"pretty-printed JSON", prettyJSON(), "whitespace at the start of lines 2 and 3", remedyOneLine},
	{"hash starting a line", "s3cr3t-1\n#s3cr3t-2", "'#' or ';' at the start of line 2", remedyOneLine},
	{"semicolon starting a line", "s3cr3t-1\n\n;s3cr3t-2", "'#' or ';' at the start of line 3", remedyOneLine},
	{"CRLF line endings", "s3cr3t-1\r\ns3cr3t-2", "carriage return", "LF line endings"},
	{"carriage return inside a line", "s3cr3t-1\rs3cr3t-2", "carriage return", "LF line endings"},
}
