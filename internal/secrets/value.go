package secrets

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Remedies for values configparser cannot read back exactly.
const (
	remedyBase64  = "store it base64-encoded and decode it in the job"
	remedyOneLine = "store it on one line or base64-encoded and decode it in the job"
)

// isPySpace reports whether Python's str.isspace() holds for r, which is
// what str.strip() removes and what re's \s matches: Go's unicode.IsSpace
// plus U+001C..U+001F, the separators Python counts as whitespace.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F)
}

// lines splits v where Python reading the file in text mode would: its
// universal newlines turn "\r\n" and "\r" into "\n".
func lines(v string) []string {
	v = strings.ReplaceAll(v, "\r\n", "\n")
	v = strings.ReplaceAll(v, "\r", "\n")
	return strings.Split(v, "\n")
}

// valueProblems says why configparser would not read v back exactly, one
// reason (with its remedy) per kind of problem; nil if it would.
func valueProblems(v string) []string {
	var reasons []string
	if strings.ContainsRune(v, '\r') {
		reasons = append(reasons, "the value contains a carriage return, which Python reads as a line break; store it with LF line endings or base64-encoded and decode it in the job")
	}
	ls := lines(v)
	if len(ls) == 1 {
		return append(reasons, lineProblems(v)...)
	}
	return append(reasons, multiLineProblems(ls)...)
}

// lineProblems covers a one-line value: configparser strip()s it.
func lineProblems(v string) []string {
	var reasons []string
	if startsWithSpace(v) {
		reasons = append(reasons, "the value starts with whitespace, which configparser strips; "+remedyBase64)
	}
	if endsWithSpace(v) {
		reasons = append(reasons, "the value ends with whitespace, which configparser strips; "+remedyBase64)
	}
	return reasons
}

// multiLineProblems covers a value written as continuation lines.
func multiLineProblems(ls []string) []string {
	var starts, ends, comments []int
	for i, l := range ls {
		if startsWithSpace(l) {
			starts = append(starts, i+1)
		}
		if endsWithSpace(l) {
			ends = append(ends, i+1)
		}
		// configparser tests line.strip().startswith('#' or ';') before
		// it looks for a continuation, so such a line is dropped.
		if i > 0 && (strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";")) {
			comments = append(comments, i+1)
		}
	}
	var reasons []string
	if len(starts) > 0 {
		reasons = append(reasons, fmt.Sprintf("the value has whitespace at the start of %s, which configparser strips from every line; %s", lineList(starts), remedyOneLine))
	}
	if len(ends) > 0 {
		reasons = append(reasons, fmt.Sprintf("the value has whitespace at the end of %s, which configparser strips from every line; %s", lineList(ends), remedyOneLine))
	}
	if len(comments) > 0 {
		reasons = append(reasons, fmt.Sprintf("the value has '#' or ';' at the start of %s, which configparser drops as a comment; %s", lineList(comments), remedyOneLine))
	}
	// configparser joins the lines and rstrip()s the result, so blank
	// lines inside survive but a final line break does not.
	if ls[len(ls)-1] == "" {
		reasons = append(reasons, "the value ends with a line break, which configparser strips; store it without the final line break or base64-encoded and decode it in the job")
	}
	return reasons
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isPySpace(r)
}

func endsWithSpace(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isPySpace(r)
}

// lineList names line numbers: "line 3", "lines 2 and 5",
// "lines 1, 2, 3, 4, 5 and 7 more".
func lineList(nums []int) string {
	const shown = 5
	if len(nums) == 1 {
		return fmt.Sprintf("line %d", nums[0])
	}
	words := make([]string, 0, shown)
	for _, n := range nums[:min(len(nums), shown)] {
		words = append(words, fmt.Sprint(n))
	}
	if len(nums) > shown {
		return fmt.Sprintf("lines %s and %d more", strings.Join(words, ", "), len(nums)-shown)
	}
	return fmt.Sprintf("lines %s and %s", strings.Join(words[:len(words)-1], ", "), words[len(words)-1])
}
