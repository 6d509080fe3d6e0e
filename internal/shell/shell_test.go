package shell

import (
	"os/exec"
	"testing"
)

// The shell itself is the oracle: each quoted word reads back as itself.
func TestQuoteReadsBack(t *testing.T) {
	words := []string{"", "plain", "it's", "a b", `$HOME`, "`id`", "\"q\"", "new\nline", `back\slash`, "'''", "ü ∂ ✓"}
	script := "printf '%s\\0' " + Join(words)
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, w := range words {
		want += w + "\x00"
	}
	if string(out) != want {
		t.Errorf("sh read %q, want %q", out, want)
	}
}
