package secrets

import (
	"encoding/base64"
	"net/url"
	"slices"
	"testing"
)

func TestMask(t *testing.T) {
	t.Parallel()
	values := map[string]string{
		"URLISH":    "a b&c/d?é=s3cr3t",
		"BINARYISH": "??>>s3cr3t~~",
		"MULTI":     "first line s3cr3t\n\n  xy\nthird line\r\nfourth",
		"SHORT":     "ab",
		"ONE":       "a",
		"EMPTY":     "",
		"BAD NAME":  "still masked",
	}
	f, _ := Convert(object(t, values), Options{})
	if f == nil {
		t.Fatal("no File despite valid JSON")
	}
	mustMask := []string{
		values["URLISH"],
		base64.StdEncoding.EncodeToString([]byte(values["URLISH"])),
		url.QueryEscape(values["URLISH"]),
		url.PathEscape(values["URLISH"]),
		base64.StdEncoding.EncodeToString([]byte(values["BINARYISH"])),
		base64.URLEncoding.EncodeToString([]byte(values["BINARYISH"])),
		base64.RawURLEncoding.EncodeToString([]byte(values["BINARYISH"])),
		values["MULTI"], "first line s3cr3t", "third line", "fourth",
		"ab", "YWI=", "YWI",
		"a", "YQ==",
		"still masked",
	}
	for _, s := range mustMask {
		if !slices.Contains(f.Mask, s) {
			t.Errorf("Mask lacks %q", s)
		}
	}
	for _, s := range []string{"xy", "YQ", ""} {
		if slices.Contains(f.Mask, s) {
			t.Errorf("Mask has %q", s)
		}
	}
	assertMaskShape(t, f.Mask)
}

// assertMaskShape checks the promises of File.Mask: longest first, no
// duplicates, no empty strings.
func assertMaskShape(t testing.TB, mask []string) {
	t.Helper()
	for i, s := range mask {
		if s == "" {
			t.Errorf("Mask has an empty string")
		}
		if i > 0 && (len(mask[i-1]) < len(s) || mask[i-1] == s) {
			t.Errorf("Mask not longest first without duplicates at %d: %q then %q", i, mask[i-1], s)
		}
	}
}
