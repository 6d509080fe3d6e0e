// Package shell writes POSIX shell words: every command sear sends to a
// node over SSH is a shell command line, and each of its pieces (a path,
// a key, an argument from the runnable) must reach the node as one word.
package shell

import "strings"

// Quote returns s as one POSIX shell word. Inside single quotes every
// byte is literal except the single quote itself, which is closed,
// escaped and reopened:
//
//	it's  ->  'it'\''s'
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes every word of argv and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
