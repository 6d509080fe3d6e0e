package secrets

import (
	"fmt"
	"path"
	"strings"
)

// githubToken is the token GitHub adds to every secrets context; it is
// passed on only when Include names it exactly.
const githubToken = "github_token"

// choose selects the entries Include asks for, in input order. GitHub
// secret names are case-insensitive, so matching is too.
func choose(entries []entry, include []string) ([]entry, []string, []error) {
	picked := make([]bool, len(entries))
	var warnings []string
	var errs []error
	if len(include) == 0 {
		for i, e := range entries {
			picked[i] = !strings.EqualFold(e.name, githubToken)
		}
	}
	for _, item := range include {
		var warning string
		var err error
		if isPattern(item) {
			warning, err = pickPattern(entries, item, picked)
		} else {
			err = pickName(entries, item, picked)
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	var chosen []entry
	for i, e := range entries {
		if picked[i] {
			chosen = append(chosen, e)
		}
	}
	return chosen, warnings, errs
}

// isPattern reports whether item uses path.Match syntax.
func isPattern(item string) bool {
	return strings.ContainsAny(item, `*?[\`)
}

// pickName picks the secret item names; a missing one is an error because
// the job would fail later, further from the cause.
func pickName(entries []entry, item string, picked []bool) error {
	if item == "" {
		return fmt.Errorf("%q: an include entry is empty; remove it", item)
	}
	found := false
	for i, e := range entries {
		if strings.EqualFold(e.name, item) {
			picked[i], found = true, true
		}
	}
	if !found {
		return fmt.Errorf("%q: include names a secret that is not in the secrets JSON; check the spelling and that the secret is available to this workflow", item)
	}
	return nil
}

// pickPattern picks the secrets matching the pattern item, except
// github_token; matching nothing is only a warning.
func pickPattern(entries []entry, item string, picked []bool) (string, error) {
	pattern := strings.ToLower(item)
	if _, err := path.Match(pattern, ""); err != nil {
		return "", fmt.Errorf("%q: include pattern is malformed; use path.Match syntax (*, ?, [a-z])", item)
	}
	matched, token := false, false
	for i, e := range entries {
		if ok, _ := path.Match(pattern, strings.ToLower(e.name)); !ok {
			continue
		}
		if strings.EqualFold(e.name, githubToken) {
			token = true
			continue
		}
		picked[i], matched = true, true
	}
	switch {
	case matched:
		return "", nil
	case token:
		return fmt.Sprintf("%q: include pattern matches only github_token, which is passed on only when named exactly", item), nil
	}
	return fmt.Sprintf("%q: include pattern matches no secret", item), nil
}
