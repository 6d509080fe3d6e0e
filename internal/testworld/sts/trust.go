package sts

// allows reports whether the trust policy lets a token with these aud and sub assume the role.
// An empty Audience or SubPatterns is an absent condition, which IAM does not enforce; GitHub's
// docs insist a real policy has at least one ("OpenID Connect reference", "you must define at
// least one condition").
func (t Trust) allows(aud, sub string) bool {
	if t.Audience != "" && aud != t.Audience {
		return false
	}
	if len(t.SubPatterns) == 0 {
		return true
	}
	for _, p := range t.SubPatterns {
		if stringLike(p, sub) {
			return true
		}
	}
	return false
}

// stringLike is IAM's StringLike condition operator: case-sensitive, "*" matches any run of
// characters (":" and "/" included) and "?" exactly one (IAM User Guide, "IAM JSON policy
// elements: Condition operators", String condition operators). It is the classic greedy
// wildcard match with one backtrack point: linear for these patterns.
func stringLike(pattern, s string) bool {
	p, v := []rune(pattern), []rune(s)
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi, vi = pi+1, vi+1
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			mark++
			pi, vi = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
