package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A mis-indented key is reported on its own line and column, not at the
// start of the mapping it broke, as yaml.v3 reports it.
func TestMisindentedKeyIsReportedWhereItIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      string
	}{
		{"a key one space in", "!Script\nscript: train\nkwargs:\n  epochs: 3\n  lr: 0.1\n args:\n  - 1\n",
			`r.yaml:6:2: invalid YAML: "args" is indented by 1 space, which lines up with no block above it (0 spaces or 2 spaces)`},
		{"under a deeper block", "!Script\nscript: train\nkwargs:\n    epochs: 3\n    lr: 0.1\n  args:\n    - 1\n",
			`r.yaml:6:3: invalid YAML: "args" is indented by 2 spaces`},
		{"after a list", "!Script\nscript: train\nargs:\n  - a\n  - b\n kwargs:\n   x: 1\n",
			`r.yaml:6:2: invalid YAML: "kwargs" is indented by 1 space, which lines up with no block above it (0 spaces or 2 spaces)`},
		{"past a block scalar", "!Script\nscript: train\nkwargs:\n  note: |\n      free\n    text\n  lr: 1\n x: 2\n",
			`r.yaml:8:2: invalid YAML: "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRunnable("r.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// Valid YAML has no mis-indented line: the scan must never move an error
// yaml.v3 places rightly. Every YAML file in the repository is valid.
func TestNoMisindentInValidYAML(t *testing.T) {
	t.Parallel()
	var files []string
	filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) && !strings.Contains(p, "/err/") && !strings.Contains(p, "/fuzz/") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 10 {
		t.Fatalf("found only %d YAML files", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if m, ok := findMisindent(strings.Split(string(data), "\n"), 1); ok {
			t.Errorf("%s:%d:%d: reported as mis-indented (%s)", f, m.line, m.col, m.message())
		}
	}
}

func FuzzFindMisindent(f *testing.F) {
	f.Add("a:\n  b: 1\n c: 2\n", 1)
	f.Add("- x: |\n    y\n  z: [1,\n 2]\n", 2)
	f.Fuzz(func(t *testing.T, src string, from int) {
		lines := strings.Split(src, "\n")
		if m, ok := findMisindent(lines, from); ok && (m.line < 1 || m.line > len(lines) || m.col < 1) {
			t.Fatalf("position %d:%d outside the source", m.line, m.col)
		}
	})
}
