package secrets

import (
	"cmp"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// maskFor lists what the caller must mask: every string value in the JSON,
// selected or not, and the forms a job is likely to print it in.
func maskFor(entries []entry) []string {
	set := make(map[string]bool)
	for _, e := range entries {
		if e.kind != kindString || e.value == "" {
			continue
		}
		set[e.value] = true
		for _, form := range derivedForms(e.value) {
			// A one- or two-character form would mask ordinary log text
			// everywhere while hiding nothing.
			if utf8.RuneCountInString(form) > 2 {
				set[form] = true
			}
		}
	}
	mask := make([]string, 0, len(set))
	for s := range set {
		mask = append(mask, s)
	}
	slices.SortFunc(mask, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b))
	})
	return mask
}

// derivedForms are v's encodings and, because GitHub's log masking works
// line by line, the trimmed lines of a multi-line v.
func derivedForms(v string) []string {
	b := []byte(v)
	forms := []string{
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		url.QueryEscape(v),
		url.PathEscape(v),
	}
	if ls := lines(v); len(ls) > 1 {
		for _, l := range ls {
			forms = append(forms, strings.TrimFunc(l, isPySpace))
		}
	}
	return forms
}
