package runner

import (
	"strings"
	"testing"
)

func TestParseKeyValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, content string
		want          map[string]string
		err           string
	}{
		{"empty", "", map[string]string{}, ""},
		{"plain", "a=1\nb=two words\n", map[string]string{"a": "1", "b": "two words"}, ""},
		{"equals in the value", "url=http://x/?a=b\n", map[string]string{"url": "http://x/?a=b"}, ""},
		{"empty value", "a=\n", map[string]string{"a": ""}, ""},
		{"crlf", "a=1\r\nb<<EOF\r\nx\r\nEOF\r\n", map[string]string{"a": "1", "b": "x"}, ""},
		{"heredoc", "m<<ghadelimiter_1\nl1\n\nl3\nghadelimiter_1\n", map[string]string{"m": "l1\n\nl3"}, ""},
		{"empty heredoc", "m<<D\nD\n", map[string]string{"m": ""}, ""},
		{"delimiter with =", "m<<a=b\nv\na=b\n", map[string]string{"m": "v"}, ""},
		{"= before <<", "m=a<<b\n", map[string]string{"m": "a<<b"}, ""},
		{"later wins", "a=1\na=2\n", map[string]string{"a": "2"}, ""},
		{"blank lines skipped", "\n\na=1\n\n", map[string]string{"a": "1"}, ""},
		{"no delimiter", "m<<EOF\nv\n", nil, `matching delimiter "EOF" not found`},
		{"no name", "=v\n", nil, "has no name"},
		{"neither", "just text\n", nil, "neither NAME=VALUE nor NAME<<DELIMITER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseKeyValues("GITHUB_OUTPUT", tc.content)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || !equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzParseKeyValues: a value written as a heredoc, as go-githubactions writes outputs, reads back
// exactly, and no content makes the parser panic.
func FuzzParseKeyValues(f *testing.F) {
	f.Add("metrics", "{\"loss\": 0.1}\n\nx=y", "ghadelimiter_0f")
	f.Add("a", "", "EOF")
	f.Fuzz(func(t *testing.T, name, value, delim string) {
		content := name + "<<" + delim + "\n" + value + "\n" + delim + "\n"
		got, err := parseKeyValues("GITHUB_OUTPUT", content)
		valid := name != "" && delim != "" && !strings.ContainsAny(name+delim, "\n\r=") &&
			strings.Index(name+"<<", "<<") == len(name) && !strings.Contains(value, "\r")
		for _, l := range strings.Split(value, "\n") {
			valid = valid && l != delim
		}
		if valid && (err != nil || len(got) != 1 || got[name] != value) {
			t.Errorf("%q: got %q, %v; want %s=%q", content, got, err, name, value)
		}
	})
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	got := parsePath("/opt/a\n\n /opt/b \n")
	if strings.Join(got, ",") != "/opt/a,/opt/b" {
		t.Errorf("got %q", got)
	}
}
