package secrets

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// configparserDefaults is configparser's default_section, whose keys are
// returned for every other section too, so no secret may go there. (Not
// DefaultSection: that is sear's section for secrets named without "__".)
const configparserDefaults = "DEFAULT"

// option is one selected secret placed in the file.
type option struct {
	name    string // the secret's name, for errors
	section string
	key     string // lower-cased, as optionxform reads it back
	value   string
}

// checkSection validates the section for names without "__".
func checkSection(section string) (string, []error) {
	if section == "" {
		return DefaultSection, nil
	}
	var errs []error
	if r, ok := badRune(section); ok {
		errs = append(errs, fmt.Errorf("%q: character %q is not allowed in the section for names without \"__\"; use only letters, digits, '_', '.' and '-'", section, r))
	}
	if section == configparserDefaults {
		errs = append(errs, fmt.Errorf("%q: the section for names without \"__\" is configparser's defaults section, whose keys show up in every section; choose another section", section))
	}
	return section, errs
}

// placeAll places every chosen secret, collecting the problems of each.
func placeAll(chosen []entry, section string) ([]option, []problem) {
	var options []option
	var problems []problem
	seen := make(map[string]bool)
	for _, e := range chosen {
		if seen[e.name] {
			problems = append(problems, problem{e.name, fmt.Errorf("%q: the secrets JSON holds this name more than once; keep one", e.name)})
			continue
		}
		seen[e.name] = true
		o, errs := place(e, section)
		for _, err := range errs {
			problems = append(problems, problem{e.name, err})
		}
		if o != nil {
			options = append(options, *o)
		}
	}
	return options, problems
}

// place checks one secret and says where it goes; the option is nil when
// the name cannot be placed, so that no collision is reported for it.
func place(e entry, section string) (*option, []error) {
	var errs []error
	if e.kind != kindString {
		errs = append(errs, fmt.Errorf("%q: the value is %s %s, but secrets are strings; pass ${{ toJSON(secrets) }} or quote the value", e.name, article(e.kind), e.kind))
	}
	if e.mangled {
		errs = append(errs, fmt.Errorf("%q: the value is not valid Unicode (invalid UTF-8 or a lone surrogate escape) and would be changed; %s", e.name, remedyBase64))
	}
	if e.kind == kindString {
		for _, reason := range valueProblems(e.value) {
			errs = append(errs, fmt.Errorf("%q: %s", e.name, reason))
		}
	}
	o, nameErrs := split(e.name, section)
	if o != nil {
		o.value = e.value
	}
	return o, append(nameErrs, errs...)
}

// split turns SECTION__KEY (split at the first "__") or KEY into a section
// and a lower-cased key, checking that configparser reads both back as
// written.
func split(name, section string) (*option, []error) {
	var errs []error
	if name == "" {
		return nil, []error{fmt.Errorf("%q: the secret name is empty; name it KEY or SECTION__KEY", name)}
	}
	if r, ok := badRune(name); ok {
		// configparser would split a key at '=' or ':', drop a line
		// starting with '#' or ';' and end a section name at ']'; allow
		// only what GitHub allows plus '.' and '-'.
		errs = append(errs, fmt.Errorf("%q: character %q is not allowed in a secret name; use only letters, digits, '_', '.' and '-'", name, r))
	}
	before, after, found := strings.Cut(name, "__")
	if !found {
		before, after = section, name
	}
	if before == "" {
		errs = append(errs, fmt.Errorf("%q: the section before \"__\" is empty; name it SECTION__KEY", name))
	}
	if after == "" {
		errs = append(errs, fmt.Errorf("%q: the key after \"__\" is empty; name it SECTION__KEY", name))
	}
	if found && before == configparserDefaults {
		errs = append(errs, fmt.Errorf("%q: section %q is configparser's defaults section, whose keys show up in every section; use another section name", name, before))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &option{name: name, section: before, key: strings.ToLower(after)}, nil
}

// badRune returns the first character of s outside [A-Za-z0-9_.-].
func badRune(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
		default:
			return r, true
		}
	}
	return 0, false
}

// folds reports secrets that configparser would read as one key: its
// optionxform lower-cases keys, while sections stay case-sensitive.
func folds(options []option) []problem {
	type slot struct{ section, key string }
	names := make(map[slot][]string)
	for _, o := range options {
		s := slot{o.section, o.key}
		names[s] = append(names[s], o.name)
	}
	var problems []problem
	for s, group := range names {
		if len(group) < 2 {
			continue
		}
		slices.Sort(group)
		problems = append(problems, problem{group[0], fmt.Errorf("%s: configparser lower-cases keys, so these are all key %q in section [%s]; keep only one of them", quoteAll(group), s.key, s.section)})
	}
	slices.SortFunc(problems, func(a, b problem) int { return cmp.Compare(a.name, b.name) })
	return problems
}

// quoteAll lists names as "A", "B" and "C".
func quoteAll(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	last := len(quoted) - 1
	return strings.Join(quoted[:last], ", ") + " and " + quoted[last]
}
