package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// canonicalRequest builds the canonical request exactly as the IAM User
// Guide ("Create a signed AWS API request", step 1) defines it:
//
//	HTTPMethod \n CanonicalURI \n CanonicalQueryString \n
//	CanonicalHeaders \n SignedHeaders \n HashedPayload
func canonicalRequest(r *http.Request, signed []string, payload string) string {
	return strings.Join([]string{
		r.Method,
		canonicalURI(r.URL),
		canonicalQuery(r.URL.RawQuery),
		canonicalHeaders(r, signed),
		strings.Join(signed, ";"),
		payload,
	}, "\n")
}

// canonicalURI URI-encodes each segment of the path as it was sent. Services
// other than S3 encode the (already encoded) path a second time, so that
// "%20" on the wire becomes "%2520" ("Create a signed AWS API request":
// "Each path segment must be URI-encoded twice").
func canonicalURI(u *url.URL) string {
	path := u.EscapedPath()
	if path == "" {
		return "/"
	}
	segments := strings.Split(path, "/")
	for i, s := range segments {
		segments[i] = uriEncode(s)
	}
	return strings.Join(segments, "/")
}

// canonicalQuery sorts the query parameters by encoded name, then by encoded
// value, each URI-encoded with only the unreserved characters left as is.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var pairs []string
	for _, p := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(p, "=")
		pairs = append(pairs, uriEncode(unescape(k))+"="+uriEncode(unescape(v)))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// unescape decodes a query component; an invalid escape is kept verbatim so
// that the signature, not this parser, rejects the request.
func unescape(s string) string {
	out, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return out
}

// canonicalHeaders lists each signed header as "name:value\n", with values
// trimmed, inner runs of spaces collapsed, and repeated headers joined by
// commas.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name + ":" + strings.Join(headerValues(r, name), ",") + "\n")
	}
	return b.String()
}

// headerValues returns a header's canonical values. Go's server moves Host
// out of the header map, and the content length may only be in the request.
func headerValues(r *http.Request, name string) []string {
	var values []string
	switch {
	case name == "host":
		values = []string{r.Host}
	case name == "content-length" && len(r.Header.Values(name)) == 0 && r.ContentLength >= 0:
		values = []string{strconv.FormatInt(r.ContentLength, 10)}
	default:
		values = r.Header.Values(name)
	}
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return out
}

// payloadHash is the hex SHA-256 of the body. A client may state it in
// X-Amz-Content-Sha256; the stated value is what was signed, so it must also
// be the body's real hash (EC2 takes no unsigned payloads).
func payloadHash(r *http.Request, body []byte) (string, *Error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	if stated := r.Header.Get("X-Amz-Content-Sha256"); stated != "" && stated != actual {
		return "", errSignatureDoesNotMatch()
	}
	return actual, nil
}

// uriEncode percent-encodes every byte except the unreserved characters
// A-Z a-z 0-9 - _ . ~, with upper-case hex, as SigV4 requires.
func uriEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
