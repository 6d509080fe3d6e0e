package config

import (
	"fmt"
	"strings"
)

// misindent is a line whose indentation matches no enclosing block: the
// line a reader must fix.
type misindent struct {
	line, col int    // 1-based; col is the line's first character
	levels    []int  // the indentations it could have had
	first     string // the line's first word, for the message
}

// findMisindent scans YAML source for the first line, at or after line
// from, that is indented less than the block it follows but more than the
// block that encloses that one. yaml.v3 reports such a line as "did not
// find expected key" at the start of the enclosing mapping, lines
// earlier, and with no column: a mis-indented key on line 6 comes out as
// line 1. The scan follows block structure only as far as indentation
// tells it; block scalars and multi-line flow collections are stepped
// over, since their lines' indentation is content, not structure.
func findMisindent(lines []string, from int) (misindent, bool) {
	var levels []int // open block indentations, innermost last
	opens := false   // the previous line opens a block (ends in ':' or is a bare '-')
	scalar := -1     // inside a block scalar whose key is indented this much
	flow := 0        // depth of an unclosed [ or { spanning lines
	for i, raw := range lines {
		text := strings.TrimRight(raw, " \t\r")
		content := strings.TrimLeft(text, " ")
		indent := len(text) - len(content)
		if content == "" || strings.HasPrefix(content, "#") {
			continue
		}
		if scalar >= 0 {
			if indent > scalar {
				continue
			}
			scalar = -1
		}
		if flow > 0 {
			flow = max(0, flow+flowDepth(content))
			continue
		}
		if strings.HasPrefix(content, "---") || strings.HasPrefix(content, "...") {
			levels, opens = nil, false
			continue
		}
		switch top := len(levels) - 1; {
		case top < 0 || indent > levels[top]:
			if top >= 0 && !opens && i+1 >= from {
				// A deeper line under a scalar value: yaml.v3 names this
				// one itself ("mapping values are not allowed").
				return misindent{}, false
			}
			levels = append(levels, indent)
		case indent < levels[top]:
			open := append([]int(nil), levels...)
			for len(levels) > 0 && levels[len(levels)-1] > indent {
				levels = levels[:len(levels)-1]
			}
			if len(levels) == 0 || levels[len(levels)-1] != indent {
				if i+1 >= from {
					return misindent{line: i + 1, col: indent + 1, levels: open, first: firstWord(content)}, true
				}
				levels = append(levels, indent)
			}
		}
		opens = strings.HasSuffix(stripComment(content), ":") || content == "-"
		if rest, ok := strings.CutPrefix(content, "- "); ok {
			rest = stripComment(rest)
			if strings.HasSuffix(rest, ":") || strings.Contains(rest, ": ") {
				// A sequence item's mapping continues at the item's content.
				levels = append(levels, indent+2)
				opens = strings.HasSuffix(rest, ":")
			}
		}
		value := stripComment(content)
		if j := strings.Index(value, ": "); j >= 0 {
			value = strings.TrimSpace(value[j+2:])
		} else if strings.HasPrefix(value, "- ") {
			value = strings.TrimSpace(value[2:])
		}
		if strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") {
			scalar = indent
		}
		flow = max(0, flowDepth(value))
	}
	return misindent{}, false
}

// flowDepth is how many [ and { a line leaves open, outside quotes and
// its comment.
func flowDepth(s string) int {
	depth := 0
	unquoted(stripComment(s), func(_ int, r rune) bool {
		switch r {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		}
		return true
	})
	return depth
}

// stripComment drops a trailing " # comment" outside quotes.
func stripComment(s string) string {
	end := len(s)
	unquoted(s, func(i int, r rune) bool {
		if r == '#' && (i == 0 || s[i-1] == ' ') {
			end = i
			return false
		}
		return true
	})
	return strings.TrimRight(s[:end], " ")
}

// unquoted calls f with each rune of s outside '...' and "..." (and its
// byte offset) until f returns false.
func unquoted(s string, f func(int, rune) bool) {
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case !f(i, r):
			return
		}
	}
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " :"); i > 0 {
		return s[:i]
	}
	return s
}

// message says what is wrong with the line and how to fix it.
func (m misindent) message() string {
	spaces := func(n int) string {
		if n == 1 {
			return "1 space"
		}
		return fmt.Sprintf("%d spaces", n)
	}
	var could []string
	for _, l := range m.levels {
		could = append(could, spaces(l))
	}
	msg := fmt.Sprintf("invalid YAML: %q is indented by %s, which lines up with no block above it", m.first, spaces(m.col-1))
	if len(could) > 0 {
		msg += " (" + strings.Join(could, " or ") + ")"
	}
	return msg + "; indent it as the key it belongs beside"
}
