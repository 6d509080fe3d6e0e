package secrets

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// write serializes options the way configparser reads them back, sections
// sorted and keys sorted within a section so the output is deterministic.
func write(options []option) ([]byte, []Section) {
	slices.SortFunc(options, func(a, b option) int {
		return cmp.Or(cmp.Compare(a.section, b.section), cmp.Compare(a.key, b.key))
	})
	var b bytes.Buffer
	var sections []Section
	for _, o := range options {
		if len(sections) == 0 || sections[len(sections)-1].Name != o.section {
			if len(sections) > 0 {
				b.WriteByte('\n')
			}
			b.WriteString("[" + o.section + "]\n")
			sections = append(sections, Section{Name: o.section})
		}
		s := &sections[len(sections)-1]
		s.Keys = append(s.Keys, o.key)
		b.WriteString(encodeOption(o.key, o.value))
	}
	return b.Bytes(), sections
}

// encodeOption writes one "key = value" line and its continuation lines.
// It does not check value: valueProblems says what would not survive.
func encodeOption(key, value string) string {
	var b strings.Builder
	b.WriteString(key + " =")
	// BasicInterpolation reads "%%" as "%" and rejects any other '%'.
	value = strings.ReplaceAll(value, "%", "%%")
	for i, line := range strings.Split(value, "\n") {
		switch {
		case i > 0 && line != "":
			// A line indented deeper than its key continues the value.
			b.WriteString("\n\t")
		case i > 0:
			// A blank line inside a value is kept (empty_lines_in_values);
			// leave it empty rather than write trailing whitespace.
			b.WriteString("\n")
		case line != "":
			b.WriteString(" ")
		}
		b.WriteString(line)
	}
	b.WriteString("\n")
	return b.String()
}
