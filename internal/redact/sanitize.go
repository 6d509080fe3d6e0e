package redact

import (
	"strings"
	"unicode/utf8"
)

// Sanitize returns s as text that shows what it says: valid UTF-8, without
// terminal escape sequences (CSI such as colours and cursor moves, also in
// its 8-bit spelling U+009B; OSC such as titles and hyperlinks; DCS, SOS,
// PM and APC strings; the two- and three-byte escapes), and without C0 and
// C1 control characters and DEL, except tab and line feed. A carriage return becomes a line feed, or goes when a line
// feed follows it: removed, it would join the text on either side into
// something no terminal showed; kept, it is a line break to the runner's
// masker (which splits lines at it) as to a report.
//
// Text must be sanitised before it is masked, not after: a secret written
// with an escape inside it ("s3c\x1b[0mr3t") is not matched by its value,
// and removing the escape afterwards would put the secret back together.
func Sanitize(s string) string {
	if isPlain(s) {
		return s // the common case, with no allocation
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case 0x80 <= r && r <= 0x9f:
			i += n + c1Len(r, s[i+n:])
			continue
		case r == '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte('\n')
			}
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			// dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isPlain says s is valid UTF-8 with no character Sanitize changes.
func isPlain(s string) bool { return utf8.ValidString(s) && !hasSpecial(s) }

func hasSpecial(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || 0x7f <= r && r <= 0x9f {
			return true
		}
	}
	return false
}

// escapeLen is the length of the escape sequence that starts s with ESC
// (ECMA-48): ESC [ starts a CSI sequence; ESC ], P, X, ^ and _ a control
// string; ESC, intermediates (0x20-0x2F) and a final byte (0x30-0x7E) any
// other escape. An unfinished sequence is as long as what there is of it,
// and an ESC followed by nothing it could start is the ESC alone.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch c := s[1]; {
	case c == '[':
		return 2 + csiLen(s[2:])
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return 2 + stringLen(s[2:])
	case 0x20 <= c && c <= 0x2f:
		n := 2
		for n < len(s) && 0x20 <= s[n] && s[n] <= 0x2f {
			n++
		}
		if n < len(s) && 0x30 <= s[n] && s[n] <= 0x7e {
			n++
		}
		return n
	case 0x30 <= c && c <= 0x7e:
		return 2
	}
	return 1
}

// c1Len is how much of s, after the C1 control r, belongs to its sequence:
// U+009B is CSI, whose parameters end at its final byte. The C1 controls
// that start control strings (DCS, SOS, OSC, PM, APC) go alone: a string
// runs to a terminator, so what it would hide depends on the text after
// it, and in UTF-8 text a lone C1 character is more often a mis-decoded
// Windows-1252 byte than a terminal command.
func c1Len(r rune, s string) int {
	if r == 0x9b {
		return csiLen(s)
	}
	return 0
}

// csiLen is the length of a CSI sequence's parameters (0x30-0x3F),
// intermediates (0x20-0x2F) and final byte (0x40-0x7E) at the start of s.
func csiLen(s string) int {
	n := 0
	for n < len(s) && 0x30 <= s[n] && s[n] <= 0x3f {
		n++
	}
	for n < len(s) && 0x20 <= s[n] && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && 0x40 <= s[n] && s[n] <= 0x7e {
		n++
	}
	return n
}

// stringLen is the length of a control string's body and terminator at the
// start of s: it ends at BEL (which xterm accepts for OSC), ST (ESC \ or
// U+009C), or before a line break or another ESC, so that an unterminated
// hyperlink cannot swallow the lines after it.
func stringLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0x07:
			return i + 1
		case 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		case '\n', '\r':
			return i
		case 0xc2:
			if i+1 < len(s) && s[i+1] == 0x9c {
				return i + 2
			}
		}
	}
	return len(s)
}
