package action

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readOutputFile reads a GITHUB_OUTPUT file the way the runner does
// (actions/runner, SetOutputFileCommand): "name=value" lines, or
// "name<<delimiter" followed by lines up to a line equal to the delimiter.
func readOutputFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var value []string
			for sc.Scan() && sc.Text() != delim {
				value = append(value, sc.Text())
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, _ := strings.Cut(line, "=")
		out[name] = value
	}
	return out
}

// fixedRandom yields the same bytes over and over, standing in for a
// random source whose draws an attacker guessed.
type fixedRandom struct{ draws [][]byte }

func (f *fixedRandom) Read(p []byte) (int, error) {
	d := f.draws[0]
	if len(f.draws) > 1 {
		f.draws = f.draws[1:]
	}
	return copy(p, d), nil
}

func TestDelimiterIsRedrawnWhenTheValueHoldsIt(t *testing.T) {
	t.Parallel()
	first, second := bytes.Repeat([]byte{0xaa}, 16), bytes.Repeat([]byte{0xbb}, 16)
	d1 := "ghadelimiter_" + strings.Repeat("aa", 16)
	value := "x\n" + d1 + "\nconclusion=success"
	var b strings.Builder
	if err := encodeOutputs(&b, []Output{{"metrics", value}}, &fixedRandom{draws: [][]byte{first, second}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out")
	os.WriteFile(path, []byte(b.String()), 0o644)
	got := readOutputFile(t, path)
	if got["metrics"] != value || got["conclusion"] != "" {
		t.Fatalf("the value ended its own block: read back %q", got)
	}

	err := encodeOutputs(&b, []Output{{"metrics", value}}, &fixedRandom{draws: [][]byte{first}})
	if err == nil || !strings.Contains(err.Error(), `output "metrics": every random delimiter drawn occurs in its value`) {
		t.Fatalf("a value holding every draw: %v", err)
	}
	err = encodeOutputs(&b, []Output{{"a\nb", "v"}}, &fixedRandom{draws: [][]byte{first}})
	if err == nil || !strings.Contains(err.Error(), "cannot be written to GITHUB_OUTPUT") {
		t.Fatalf("a two-line name: %v", err)
	}
}

// TestWriteOutputs: outputs are appended to what the file holds, each in
// a block of its own that a value of several lines cannot end early.
func TestWriteOutputs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "github_output")
	if err := os.WriteFile(path, []byte("earlier=kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outs := []Output{
		{"conclusion", "success"}, {"metrics", `{"loss":[1,0.5]}`},
		{"multi", "line one\nconclusion=failure\nline three"}, {"empty", ""},
	}
	if err := WriteOutputs(path, outs); err != nil {
		t.Fatal(err)
	}
	got := readOutputFile(t, path)
	want := map[string]string{"earlier": "kept", "conclusion": "success", "metrics": `{"loss":[1,0.5]}`,
		"multi": "line one\nconclusion=failure\nline three", "empty": ""}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("output %s = %q, want %q", k, g, v)
		}
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "<<ghadelimiter_"); n != len(outs) {
		t.Errorf("%d outputs written with a random delimiter, want %d", n, len(outs))
	}
	if err := WriteOutputs(filepath.Join(t.TempDir(), "missing", "out"), outs); err == nil ||
		!strings.Contains(err.Error(), "open the file for the action's outputs") {
		t.Errorf("writing under a missing directory: %v", err)
	}
}
