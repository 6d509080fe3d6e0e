package fakeec2

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// newID returns a resource id in EC2's long format: a prefix and 17
// lower-case hex digits (EC2 User Guide, "Resource IDs").
func newID(prefix string) string { return prefix + "-" + randomHex(17) }

// newRequestID returns a UUID-shaped request id, as EC2's requestId is.
func newRequestID() string {
	h := randomHex(32)
	return fmt.Sprintf("%s-%s-4%s-a%s-%s", h[:8], h[8:12], h[13:16], h[17:20], h[20:])
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// idShape matches the hex part of an id in the short (8 digits) or long (17
// digits) format, the two formats EC2 accepts.
var idShape = regexp.MustCompile("^([0-9a-f]{8}|[0-9a-f]{17})$")

// wellFormed reports whether id is prefix-<8 or 17 hex digits>.
func wellFormed(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	return ok && idShape.MatchString(rest)
}
