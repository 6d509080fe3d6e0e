package redact

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The forms of a secret follow what the GitHub Actions runner masks in a
// job's log, so that sear's reports (which GitHub does not mask) hide at
// least as much as the log does. The runner registers every value with the
// encoders HostContext adds to its SecretMasker (actions/runner,
// src/Runner.Common/HostContext.cs): Base64StringEscape,
// Base64StringEscapeShift1 and 2, CommandLineArgumentEscape,
// ExpressionStringEscape, JsonStringEscape, UriDataEscape, XmlDataEscape,
// TrimDoubleQuotes, PowerShellPreAmpersandEscape and
// PowerShellPostAmpersandEscape, whose bodies are in
// src/Sdk/DTLogging/Logging/ValueEncoders.cs; SecretMasker.AddValue
// refuses only the empty value, and a multi-line secret is also registered
// line by line, each line trimmed. Forms adds what sear itself and Go
// produce (Go's JSON and URL escapes, the unpadded and URL-safe base64
// alphabets) and what a terminal or a report shows of a secret with escape
// sequences or control characters in it.

// minForm is the fewest characters a derived form must have to be masked.
// A one- or two-character form (the last digit of a base64 form, a short
// line of a multi-line key) occurs by chance all over ordinary text, so
// masking it would garble every log and report while hiding at most a few
// bits. The secret itself is masked whatever its length: that is the
// runner's rule, and it is what the user asked for.
const minForm = 3

// Forms returns every string that must be masked for secret: the secret,
// its base64 at each of the three byte offsets it can have inside a longer
// base64 text, its JSON-, URL- and XML-escaped forms, the runner's other
// encodings, the secret as sanitised text shows it (Sanitize, and folded
// onto one line), and each line of a multi-line secret with all of those
// forms too; each also without white space at its ends. Derived forms
// shorter than three characters are left out. It returns nil for the empty
// secret.
func Forms(secret string) []string {
	if secret == "" {
		return nil
	}
	set := map[string]bool{secret: true}
	add := func(s string) {
		// A report trims a field and folds its white space, so a form
		// with white space at an end is also masked without it.
		for _, f := range []string{s, strings.TrimFunc(s, isSpace)} {
			if utf8.RuneCountInString(f) >= minForm {
				set[f] = true
			}
		}
	}
	clean := Sanitize(secret)
	values := []string{secret, clean, fold(clean)}
	for _, v := range []string{secret, clean} {
		if ls := lines(v); len(ls) > 1 {
			values = append(values, ls...)
		}
	}
	for _, v := range values {
		if v == "" {
			continue
		}
		add(v)
		for _, e := range encodings(v) {
			add(e)
		}
	}
	return sorted(set)
}

// Expand returns the forms of every secret, without duplicates and longest
// first (so that a form containing another is masked whole): the list a
// Writer or String masks.
func Expand(secrets []string) []string {
	set := map[string]bool{}
	for _, s := range secrets {
		for _, f := range Forms(s) {
			set[f] = true
		}
	}
	return sorted(set)
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b))
	})
	return out
}

// encodings are the encoded forms of v, some maybe empty or equal to v.
func encodings(v string) []string {
	out := base64Forms([]byte(v))
	return append(out,
		jsonEscape(v), goJSONEscape(v),
		uriDataEscape(v), url.QueryEscape(v), url.PathEscape(v),
		xmlEscape(v), html.EscapeString(v),
		// CommandLineArgumentEscape: how the runner passes values to docker.
		strings.ReplaceAll(v, `"`, `\"`),
		// ExpressionStringEscape: a string literal in a ${{ }} expression.
		strings.ReplaceAll(v, `'`, `''`),
		trimDoubleQuotes(v),
		powerShellPreAmpersand(v), powerShellPostAmpersand(v),
	)
}

// base64Forms are b's base64 forms at the three byte offsets. Inside the
// base64 of a longer text (base64("user:" + password)), b starts at one of
// three positions of a 3-byte group: aligned, or after one or two bytes of
// the group. The runner's Base64StringEscapeShift1 and 2 encode b without
// its first one or two bytes, the ones that share a group with what comes
// before, so that the rest is aligned again; they keep the padding, which
// matches only when b ends the encoded text. So for each offset this also
// gives the form trimmed to the digits b alone determines: no padding, and
// no last digit that holds bits of the byte after b. Every form is also
// given in the URL-safe alphabet (RFC 4648 §5), as newer runners do.
func base64Forms(b []byte) []string {
	var out []string
	for shift := 0; shift <= 2 && shift < len(b); shift++ {
		p := b[shift:]
		full := base64.StdEncoding.EncodeToString(p)
		raw := base64.RawStdEncoding.EncodeToString(p)
		// len(p) bytes are 8·len(p) bits: that many whole 6-bit digits.
		trimmed := raw[:len(p)*8/6]
		for _, f := range []string{full, raw, trimmed} {
			out = append(out, f, strings.NewReplacer("+", "-", "/", "_").Replace(f))
		}
	}
	return out
}

// jsonEscape is the runner's JsonStringEscape: Newtonsoft's
// JsonConvert.ToString without its quotes, which escapes the quote, the
// backslash, the C0 controls (\b \f \n \r \t by name, the rest as \u00xx
// in lower-case hex), U+0085, U+2028 and U+2029.
func jsonEscape(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x85 || r == 0x2028 || r == 0x2029 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// goJSONEscape is v as encoding/json writes it inside a string, which also
// escapes <, > and & (sear's metrics block is written so).
func goJSONEscape(v string) string {
	data, _ := json.Marshal(v) // a string always marshals
	return string(data[1 : len(data)-1])
}

// uriDataEscape is .NET's Uri.EscapeDataString: every byte of the UTF-8
// form but the RFC 3986 unreserved characters as %XX, upper-case.
func uriDataEscape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// xmlEscape is the runner's XmlDataEscape, .NET's SecurityElement.Escape.
var xmlEscape = strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;", "&", "&amp;").Replace

// utf16Len is .NET's String.Length, which the runner's length rules use.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// trimDoubleQuotes is the runner's TrimDoubleQuotes: the inside of a value
// longer than 8 characters in double quotes.
func trimDoubleQuotes(v string) string {
	if utf16Len(v) > 8 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) {
		return v[1 : len(v)-1]
	}
	return ""
}

// powerShellPreAmpersand is the runner's PowerShellPreAmpersandEscape:
// PowerShell prints a failing command's secret in pieces split at '&',
// this being the part up to "&+" or the last '&', if 6 characters or more.
func powerShellPreAmpersand(v string) string {
	var section string
	if i := strings.Index(v, "&+"); i >= 0 {
		section = v[:i+2]
	} else if i := strings.LastIndexByte(v, '&'); i >= 0 {
		section = v[:i+1]
	}
	if utf16Len(section) >= 6 {
		return section
	}
	return ""
}

// powerShellPostAmpersand is the runner's PowerShellPostAmpersandEscape,
// the part after: after "&+" and the one character PowerShell colours, or
// after the last '&'.
func powerShellPostAmpersand(v string) string {
	var section string
	if i := strings.Index(v, "&+"); i >= 0 {
		after := v[i+2:]
		if _, n := utf8.DecodeRuneInString(after); n > 0 {
			section = after[n:]
		}
	} else if i := strings.LastIndexByte(v, '&'); i >= 0 {
		section = v[i+1:]
	}
	if utf16Len(section) >= 6 {
		return section
	}
	return ""
}

// lines are the trimmed, non-empty lines of v. A line ends wherever the
// runner (\r, \n), a terminal or Python's str.splitlines (which Flambé's
// configparser reads secrets with: \v, \f, \x1c-\x1e, U+0085, U+2028,
// U+2029) would end one, so that every way a job can print a multi-line
// secret line by line is covered.
func lines(v string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(v, isLineBreak) {
		if l = strings.TrimFunc(l, isSpace); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// isSpace is .NET's and Python's idea of white space together: Unicode
// White_Space and the separators U+001C..U+001F that str.isspace counts.
func isSpace(r rune) bool { return unicode.IsSpace(r) || 0x1c <= r && r <= 0x1f }

// fold is s on one line, as a report shows a one-line field: every run of
// white space one space, none at either end.
func fold(s string) string { return strings.Join(strings.FieldsFunc(s, isSpace), " ") }
