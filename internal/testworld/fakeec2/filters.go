package fakeec2

import (
	"strings"
)

// filter is one Filter.N of a describe call.
type filter struct {
	name   string
	values []string
}

// fieldFuncs maps a filter name to the values a resource has for it.
type fieldFuncs[T any] map[string]func(T) []string

// parseFilters reads Filter.N.Name / Filter.N.Value.M. Filter names are
// case-sensitive and unknown names are refused with EC2's "The filter '…'
// is invalid" (EC2 API Reference, "Filter").
func parseFilters[T any](p params, fields fieldFuncs[T]) ([]filter, *apiError) {
	var out []filter
	for _, m := range p.members("Filter") {
		f := filter{name: m.str("Name"), values: m.list("Value")}
		if f.name == "" {
			return nil, errMissing("Filter.Name")
		}
		if _, ok := fields[f.name]; !ok && !isTagFilter(f.name) {
			return nil, errInvalidValue("The filter '%s' is invalid", f.name)
		}
		out = append(out, f)
	}
	return out, nil
}

func isTagFilter(name string) bool {
	return strings.HasPrefix(name, "tag:") || name == "tag-key" || name == "tag-value"
}

// applyFilters keeps the items that match every filter. Filters are ANDed,
// the values of one filter ORed ("Filter": "If you specify multiple filters,
// the filters are joined with an AND … values are joined with an OR").
func applyFilters[T any](items []T, fs []filter, fields fieldFuncs[T], tags func(T) map[string]string) []T {
	var out []T
	for _, it := range items {
		if matchesAll(it, fs, fields, tags) {
			out = append(out, it)
		}
	}
	return out
}

func matchesAll[T any](it T, fs []filter, fields fieldFuncs[T], tags func(T) map[string]string) bool {
	for _, f := range fs {
		var have []string
		if fn, ok := fields[f.name]; ok {
			have = fn(it)
		} else {
			have = tagValues(tags(it), f.name)
		}
		if !matchesAny(f.values, have) {
			return false
		}
	}
	return true
}

// tagValues is what a resource has for tag:<key>, tag-key and tag-value.
func tagValues(tags map[string]string, name string) []string {
	var out []string
	switch {
	case name == "tag-key":
		for k := range tags {
			out = append(out, k)
		}
	case name == "tag-value":
		for _, v := range tags {
			out = append(out, v)
		}
	default:
		if v, ok := tags[strings.TrimPrefix(name, "tag:")]; ok {
			out = append(out, v)
		}
	}
	return out
}

func matchesAny(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if wildcardMatch(p, v) {
				return true
			}
		}
	}
	return false
}

// wildcardMatch implements EC2's filter wildcards: "*" matches zero or more
// characters, "?" exactly one, and a backslash escapes the next character
// (EC2 API Reference, "Filter": "a filter value of \*amazon\?\\ specifies
// the literal string *amazon?\").
func wildcardMatch(pattern, s string) bool {
	return match([]rune(pattern), []rune(s))
}

func match(p, s []rune) bool {
	for len(p) > 0 {
		switch {
		case p[0] == '*':
			return matchStar(p[1:], s)
		case p[0] == '\\' && len(p) > 1:
			if len(s) == 0 || s[0] != p[1] {
				return false
			}
			p, s = p[2:], s[1:]
		case len(s) == 0:
			return false
		case p[0] == '?' || p[0] == s[0]:
			p, s = p[1:], s[1:]
		default:
			return false
		}
	}
	return len(s) == 0
}

// matchStar tries the rest of the pattern at every remaining position.
func matchStar(rest, s []rune) bool {
	for i := 0; i <= len(s); i++ {
		if match(rest, s[i:]) {
			return true
		}
	}
	return false
}
