package plan

import (
	"regexp"
	"strings"
)

// urlUserinfo finds a URL's user information anywhere in a text: a
// scheme, "://", then what comes before an "@" and before the host's end
// ("/", "?", "#"). Quotes, backslashes and white space end it too, so that
// it stays inside one shell word or one JSON string.
var urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@\s"'\\<>]*@)+`)

// Redacted is what a URL's user information becomes.
const Redacted = "***"

// RedactURLs replaces the user information of every URL in s with "***":
// extension locations, setup commands and job arguments are where people
// write https://user:token@host/..., and a plan is printed into logs and
// pasted into issues. An ssh user name alone (ssh://git@host) is kept: it
// is not a secret, and says which account the key must belong to.
func RedactURLs(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return urlUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		scheme, info, _ := strings.Cut(m, "://")
		user := strings.TrimSuffix(info, "@")
		if strings.HasSuffix(strings.ToLower(scheme), "ssh") && !strings.ContainsAny(user, ":@") {
			return m
		}
		return scheme + "://" + Redacted + "@"
	})
}

// redactAll is RedactURLs of each string, in a new slice.
func redactAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = RedactURLs(s)
	}
	return out
}
