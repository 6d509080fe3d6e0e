package redact

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestWriterMasksAcrossWrites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		writes  []string
		secrets []string
		want    string
	}{
		{"whole line", []string{"token=s3cr3t\n"}, []string{"s3cr3t"}, "token=***\n"},
		{"split across writes", []string{"token=s3", "cr3t and more\n"}, []string{"s3cr3t"}, "token=*** and more\n"},
		{"longest first", []string{"ab abc\n"}, []string{"ab", "abc"}, "*** ***\n"},
		{"partial line flushed", []string{"no newline s3cr3t"}, []string{"s3cr3t"}, "no newline ***"},
		{"empty secret ignored", []string{"plain\n"}, []string{""}, "plain\n"},
		{"many lines", []string{"a s\nb s\nc"}, []string{"s"}, "a ***\nb ***\nc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			w := NewWriter(&out, tt.secrets)
			for _, s := range tt.writes {
				if _, err := w.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestWriterDoesNotHoldForever(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := NewWriter(&out, []string{"x"})
	w.Write([]byte(strings.Repeat("a", maxLine+1)))
	if out.Len() == 0 {
		t.Fatal("a line longer than the bound is never written")
	}
}

func FuzzWriter(f *testing.F) {
	f.Add([]byte("key=value\nother"), "value", 3)
	f.Fuzz(func(t *testing.T, data []byte, secret string, split int) {
		if strings.Trim(secret, "*") == "" || strings.Contains(secret, "\n") {
			return
		}
		var out bytes.Buffer
		w := NewWriter(&out, []string{secret})
		if split < 0 || split > len(data) {
			split = len(data) / 2
		}
		w.Write(data[:split])
		w.Write(data[split:])
		w.Flush()
		if strings.Contains(out.String(), secret) {
			t.Fatalf("secret %q escaped in %q", secret, out.String())
		}
	})
}

func TestAddMasksFromThenOn(t *testing.T) {
	var out strings.Builder
	w := NewWriter(&out, []string{"first"})
	w.Write([]byte("first token-abc\n"))
	w.Add("token-abc")
	w.Add("")
	w.Write([]byte("first token-abc token-abcdef\n"))
	w.Flush()
	want := "*** token-abc\n*** *** ***def\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	// Added values are masked in all their forms, as the runner masks them.
	got := w.Secrets()
	for _, s := range []string{"token-abc", "first", "dG9rZW4tYWJj"} {
		if !slices.Contains(got, s) {
			t.Errorf("Secrets() = %q, lacks %q", got, s)
		}
	}
	if got[len(got)-1] != "first" || len(got[0]) < len(got[1]) {
		t.Errorf("Secrets() = %q, not longest first", got)
	}
}

// TestBytesMasksOverlapsWhole: secrets that overlap are masked as one
// stretch, as the runner's SecretMasker merges them, so no piece of
// either is left.
func TestBytesMasksOverlapsWhole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		secrets []string
		want    string
	}{
		{"x abcdef y", []string{"abcd", "cdef"}, "x *** y"},
		{"ababa", []string{"aba"}, "***"},
		{"ab|cd", []string{"ab", "|cd"}, "***"},
		{"*00", []string{"*0"}, "*****"},
		{"a***b", []string{"***"}, "a***b"},
	} {
		if got := String(tc.in, tc.secrets); got != tc.want {
			t.Errorf("String(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
		}
	}
}
