package redact

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFormsHasTheRunnersEncodings checks one vector per encoder that the
// runner's HostContext registers, from the encoders' bodies and the
// runner's own tests (actions/runner, ValueEncoders.cs).
func TestFormsHasTheRunnersEncodings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		secret string
		want   []string
	}{
		{"foobar", []string{"foobar", "Zm9vYmFy", "b29iYXI=", "b2Jhcg==" /* Base64StringEscape, Shift1, Shift2 */}},
		{"a\"b\\c\n\x01\u2028", []string{`a\"b\\c\n\u0001\u2028` /* JsonStringEscape */}},
		{"a b/é~", []string{"a%20b%2F%C3%A9~" /* UriDataEscape */}},
		{`<a&'">`, []string{"&lt;a&amp;&apos;&quot;&gt;" /* XmlDataEscape */, `<a&'\">` /* CommandLineArgumentEscape */, `<a&''">` /* ExpressionStringEscape */}},
		{`"quoted!!"`, []string{"quoted!!" /* TrimDoubleQuotes */}},
		{"abcdef&+ghijkl", []string{"abcdef&+", "hijkl" /* PowerShell, but hijkl is 5: see below */}},
		{"abc&ghijkl", []string{"ghijkl" /* PowerShellPostAmpersandEscape */}},
		{"abc&def&", []string{"abc&def&" /* PowerShellPreAmpersandEscape */}},
	} {
		forms := Forms(tc.secret)
		for _, w := range tc.want {
			if w == "hijkl" {
				if slices.Contains(forms, w) {
					t.Errorf("Forms(%q) has %q: the runner masks PowerShell sections of 6 characters or more", tc.secret, w)
				}
				continue
			}
			if !slices.Contains(forms, w) {
				t.Errorf("Forms(%q) lacks %q; has %q", tc.secret, w, forms)
			}
		}
	}
	if got := powerShellPostAmpersand("abc&+ghijklm"); got != "hijklm" {
		t.Errorf("PowerShellPostAmpersandEscape(abc&+ghijklm) = %q, want hijklm", got)
	}
	if got := powerShellPreAmpersand("ab&"); got != "" {
		t.Errorf("PowerShellPreAmpersandEscape(ab&) = %q, want empty", got)
	}
}

// TestFormsFindTheSecretInsideBase64: whatever comes before and after a
// secret in a base64-encoded text (base64("user:" + password + "\n")),
// some form of the secret is in the encoding and masks all but a few bits
// of it at the ends.
func TestFormsFindTheSecretInsideBase64(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"s3cr3t-value", "p@ssw0rd", "名前🔑x"} {
		forms := Forms(secret)
		for pre := range 6 {
			for post := range 3 {
				text := []byte(strings.Repeat("u", pre) + secret + strings.Repeat("\n", post))
				for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
					encoded := enc.EncodeToString(text)
					masked := String(encoded, forms)
					// What is left of the secret's digits: at most the two
					// around each end that it shares with its neighbours.
					around := enc.EncodeToString([]byte(strings.Repeat("u", pre+post)))
					if left := len(masked) - len(Mask); left > len(around)+4 {
						t.Errorf("%q after %d bytes: %q masked to %q", secret, pre, encoded, masked)
					}
					if masked == encoded {
						t.Errorf("%q after %d bytes: nothing masked in %q", secret, pre, encoded)
					}
				}
			}
		}
	}
}

// TestFormsRules: the secret is masked whatever its length, a derived form
// only from three characters; lines, sanitised and folded text are forms.
func TestFormsRules(t *testing.T) {
	t.Parallel()
	if got := Forms(""); got != nil {
		t.Errorf("Forms(\"\") = %q", got)
	}
	if f := Forms("a"); !slices.Contains(f, "a") || !slices.Contains(f, "YQ==") || slices.Contains(f, "YQ") {
		t.Errorf("Forms(a) = %q: want a and YQ== but not the 2-character YQ", f)
	}
	multi := Forms("-----BEGIN KEY-----\r\n  abcdefgh\n xy\n-----END KEY-----")
	for _, w := range []string{"-----BEGIN KEY-----", "abcdefgh", "-----END KEY-----", "YWJjZGVmZ2g=", "-----BEGIN KEY----- abcdefgh xy -----END KEY-----"} {
		if !slices.Contains(multi, w) {
			t.Errorf("multi-line Forms lacks %q", w)
		}
	}
	if slices.Contains(multi, "xy") {
		t.Error("multi-line Forms has its 2-character line")
	}
	escaped := Forms("s3c\x1b[1mr3t\x07")
	if !slices.Contains(escaped, "s3cr3t") || !slices.Contains(escaped, base64.StdEncoding.EncodeToString([]byte("s3cr3t"))) {
		t.Errorf("Forms of a secret with an escape inside lacks its sanitised text or that text's base64: %q", escaped)
	}
	if f := Forms(" padded "); !slices.Contains(f, "padded") {
		t.Errorf("Forms(\" padded \") lacks the trimmed form: %q", f)
	}
	e := Expand([]string{"first", "second", "first"})
	for i := 1; i < len(e); i++ {
		if len(e[i-1]) < len(e[i]) || e[i-1] == e[i] {
			t.Fatalf("Expand not longest first without duplicates: %q", e)
		}
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain text\twith tab\n", "plain text\twith tab\n"},
		{"\x1b[1;31mred\x1b[0m", "red"},
		{"\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "link"},
		{"\x1b]0;title\x1b\\after", "after"},
		{"\x1b]0;unterminated\nnext line", "\nnext line"},
		{"\x1b(Bcharset \x1b7saved\x1b8", "charset saved"},
		{"\u009b31mC1 CSI\u0090kept", "C1 CSIkept"},
		{"a\x00b\x07c\x7fd\u0085e", "abcde"},
		{"cr\r\nlf\rcr", "cr\nlf\ncr"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"lone \x1b", "lone "},
		{"名前 🔑", "名前 🔑"},
	} {
		if got := Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSanitize: the result is valid UTF-8 without escapes or control
// characters but tab and line feed, and sanitising it again changes
// nothing.
func FuzzSanitize(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m\r\n\x1b]8;;x\x07\u009b1m")
	f.Add("\x1b\x1b[\x1b]")
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		if !utf8.ValidString(out) || Sanitize(out) != out {
			t.Fatalf("Sanitize(%q) = %q, not valid or not stable", s, out)
		}
		for _, r := range out {
			if r < 0x20 && r != '\n' && r != '\t' || 0x7f <= r && r <= 0x9f {
				t.Fatalf("Sanitize(%q) = %q keeps %U", s, out, r)
			}
		}
	})
}
