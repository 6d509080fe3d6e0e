package fakeec2

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params holds a query-protocol request's parameters, flattened the way the
// EC2 query protocol serializes them: lists as "Name.N", structures as
// "Name.Field", so that "TagSpecification.1.Tag.2.Key" is one key (EC2 API
// Reference, "Query requests for Amazon EC2").
type params map[string]string

// parseParams merges the form body of a POST with the URL query; EC2 takes
// both forms of the query protocol.
func parseParams(rawQuery string, body []byte) (params, error) {
	p := params{}
	for _, src := range []string{rawQuery, string(body)} {
		values, err := url.ParseQuery(src)
		if err != nil {
			return nil, err
		}
		for k, v := range values {
			if len(v) > 0 {
				p[k] = v[0]
			}
		}
	}
	return p, nil
}

// str returns a parameter or "".
func (p params) str(key string) string { return p[key] }

// has reports whether a parameter was sent.
func (p params) has(key string) bool {
	_, ok := p[key]
	return ok
}

// boolean reads a query boolean ("true"/"false").
func (p params) boolean(key string) bool { return strings.EqualFold(p[key], "true") }

// integer reads an integer parameter; ok is false when it is absent.
func (p params) integer(key string) (n int, ok bool, err *apiError) {
	v, sent := p[key]
	if !sent {
		return 0, false, nil
	}
	n, convErr := strconv.Atoi(v)
	if convErr != nil {
		return 0, true, errInvalidValue("Value (%s) for parameter %s is invalid. Expecting an integer.", v, lowerFirst(key))
	}
	return n, true, nil
}

// indexes lists the N of every "prefix.N..." key, ascending.
func (p params) indexes(prefix string) []int {
	seen := map[int]bool{}
	for k := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		head, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(head); err == nil {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// list returns the values of "prefix.1", "prefix.2", ...
func (p params) list(prefix string) []string {
	var out []string
	for _, n := range p.indexes(prefix) {
		if v, ok := p[prefix+"."+strconv.Itoa(n)]; ok {
			out = append(out, v)
		}
	}
	return out
}

// members returns each "prefix.N.*" structure as its own params.
func (p params) members(prefix string) []params {
	var out []params
	for _, n := range p.indexes(prefix) {
		out = append(out, p.sub(prefix+"."+strconv.Itoa(n)))
	}
	return out
}

// sub returns the fields of the structure "prefix.*".
func (p params) sub(prefix string) params {
	out := params{}
	for k, v := range p {
		if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
			out[rest] = v
		}
	}
	return out
}

// lowerFirst turns a parameter name into the camel case EC2 uses in its
// messages ("MaxResults" → "maxResults").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
