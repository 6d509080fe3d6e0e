package config

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// pythonStr renders a YAML value the way Flambé's Script passes it on:
// Python's str() of the loaded value ("True", "None", "0.001", "[1, 2]").
func (s *source) pythonStr(n *yaml.Node) (string, bool) {
	n = resolve(n)
	if tag := customTag(n); tag != "" {
		// Search options get their own error from the walker.
		if tag != "!g" && tag != "!s" {
			s.errorAt(n, "a !Script argument must be a plain value, not %s", describe(n))
		}
		return "", false
	}
	budget := maxArgNodes
	v, ok := pyValue(n, false, &budget)
	switch {
	case budget < 0:
		s.errorAt(n, "a !Script argument may hold at most %d values (aliases count each time they are used)", maxArgNodes)
	case !ok:
		s.errorAt(n, "a !Script argument must be a plain value, not %s", describe(n))
	}
	return v, ok
}

// maxArgNodes bounds one argument's size in values: aliases are expanded
// here. boundExpansion has already bounded what they add in bytes, for the
// whole document, before any argument is rendered.
const maxArgNodes = 10000

// pyValue renders n as str() (top level) or repr() (inside a container),
// spending one unit of budget per node.
func pyValue(n *yaml.Node, inner bool, budget *int) (string, bool) {
	n = resolve(n)
	if *budget--; *budget < 0 || customTag(n) != "" {
		return "", false
	}
	switch n.Kind {
	case yaml.SequenceNode:
		parts := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			p, ok := pyValue(c, true, budget)
			if !ok {
				return "", false
			}
			parts = append(parts, p)
		}
		return "[" + strings.Join(parts, ", ") + "]", true
	case yaml.MappingNode:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok1 := pyValue(n.Content[i], true, budget)
			v, ok2 := pyValue(n.Content[i+1], true, budget)
			if !ok1 || !ok2 {
				return "", false
			}
			parts = append(parts, k+": "+v)
		}
		return "{" + strings.Join(parts, ", ") + "}", true
	case yaml.ScalarNode:
		return pyScalar(n, inner), true
	}
	return "", false
}

func pyScalar(n *yaml.Node, inner bool) string {
	switch n.ShortTag() {
	case "!!null":
		return "None"
	case "!!bool":
		if b := strings.ToLower(n.Value); b == "true" || b == "yes" || b == "on" || b == "y" {
			return "True"
		}
		return "False"
	case "!!int":
		if i, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 0); ok {
			return i.String()
		}
	case "!!float":
		if f, ok := yamlFloat(n.Value); ok {
			return pyFloat(f)
		}
	}
	if inner {
		return pyRepr(n.Value)
	}
	return n.Value
}

func yamlFloat(v string) (float64, bool) {
	switch strings.ToLower(strings.TrimLeft(v, "+")) {
	case ".inf":
		return math.Inf(1), true
	case "-.inf":
		return math.Inf(-1), true
	case ".nan":
		return math.NaN(), true
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
	return f, err == nil
}

// pyFloat is Python's repr of a float: the shortest digits that round-trip,
// fixed notation for exponents from -4 to 15, always with a fraction part.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return mant + "e" + sign + leftPad2(exp)
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(out, ".") {
		out += ".0"
	}
	return out
}

func leftPad2(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 2 {
		return "0" + s
	}
	return s
}

// pyRepr is Python's repr of a str: single quotes unless the text holds a
// single quote and no double quote, with Python's escapes.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + hex2(int(r)))
		case r < 0x100 && !unicode.IsPrint(r) || r >= 0x100 && !unicode.IsPrint(r) && r != ' ':
			b.WriteString(pyEscape(r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func hex2(n int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>4&0xf], digits[n&0xf]})
}

func pyEscape(r rune) string {
	switch {
	case r < 0x100:
		return `\x` + hex2(int(r))
	case r < 0x10000:
		return `\u` + hex2(int(r>>8)) + hex2(int(r&0xff))
	}
	return `\U` + hex2(int(r>>24)) + hex2(int(r>>16&0xff)) + hex2(int(r>>8&0xff)) + hex2(int(r&0xff))
}
