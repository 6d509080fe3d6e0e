package sts

import "testing"

func TestStringLike(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"repo:octo/exp:*", "repo:octo/exp:ref:refs/heads/feat/x", true},
		{"repo:octo/exp:*", "repo:octo/exp:pull_request", true},
		{"repo:octo/exp:*", "repo:octo/exp2:pull_request", false},
		{"repo:octo/exp:*", "repo:octo@1001/exp@2002:pull_request", false},
		{"repo:octo@1001/exp@2002:*", "repo:octo@1001/exp@2002:ref:refs/heads/main", true},
		{"repo:octo@*/exp@*:ref:refs/heads/main", "repo:octo@1001/exp@2002:ref:refs/heads/main", true},
		{"repo:octo/exp:ref:refs/heads/v?", "repo:octo/exp:ref:refs/heads/v2", true},
		{"repo:octo/exp:ref:refs/heads/v?", "repo:octo/exp:ref:refs/heads/v10", false},
		{"repo:Octo/exp:*", "repo:octo/exp:pull_request", false}, // case-sensitive
		{"*", "", true},
		{"", "", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"repo:octo/exp:pull_request", "repo:octo/exp:pull_request", true},
	}
	for _, tc := range tests {
		if got := stringLike(tc.pattern, tc.s); got != tc.want {
			t.Errorf("stringLike(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestTrustWithoutConditions(t *testing.T) {
	t.Parallel()
	if !(Trust{}).allows("sts.amazonaws.com", "repo:any/thing:pull_request") {
		t.Error("absent conditions should not be enforced")
	}
	if (Trust{Audience: "sts.amazonaws.com"}).allows("other", "repo:any/thing:pull_request") {
		t.Error("audience condition not enforced")
	}
}
