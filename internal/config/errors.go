package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration file, at a position a user can
// jump to. Its string form, file:line:col: message, is what editors and
// GitHub annotations understand.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem concerns the whole file
	Col  int // 1-based; 0 when unknown
	Msg  string
	// Source is the offending line as it stands in the file, used by Pretty
	// to point at the problem.
	Source string
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Col == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Pretty returns the error followed by the offending line and a caret under
// the column, the way compilers show it.
func (e *Error) Pretty() string {
	if e.Line == 0 || e.Source == "" {
		return e.Error()
	}
	var b strings.Builder
	b.WriteString(e.Error())
	fmt.Fprintf(&b, "\n %4d | %s\n", e.Line, expandTabs(e.Source))
	if e.Col > 0 {
		pad := caretPad(e.Source, e.Col)
		fmt.Fprintf(&b, "      | %s^", pad)
	} else {
		b.WriteString("      |")
	}
	return b.String()
}

// expandTabs keeps the caret aligned under lines that contain tabs.
func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", "    ") }

// caretPad is the blank prefix that puts a caret under rune column col.
func caretPad(src string, col int) string {
	var b strings.Builder
	i := 1
	for _, r := range src {
		if i >= col {
			break
		}
		if r == '\t' {
			b.WriteString("    ")
		} else {
			b.WriteByte(' ')
		}
		i++
	}
	return b.String()
}

// Errors is every problem found in one or more files. Validation never stops
// at the first problem: a user fixes them all in one round trip.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Pretty renders every error with its source line and caret.
func (es Errors) Pretty() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Pretty()
	}
	return strings.Join(parts, "\n")
}

// sorted orders errors by file and position so output is stable however the
// checks were run.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return es
}

// orNil turns an empty list into a nil error, so callers can test err != nil.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}
