package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLoadRefusesWhatIsNotAConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 100 MB file: the size check must refuse it without reading it.
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	latin1 := filepath.Join(dir, "latin1.yaml")
	os.WriteFile(latin1, []byte("!LocalCluster\nname: caf\xe9\n"), 0o644)

	tests := []struct {
		name, path, want string
	}{
		{"directory", dir, "is a directory; give the path of a YAML file inside it"},
		{"missing file", filepath.Join(dir, "nope.yaml"), "does not exist"},
		{"100 MB file", big, "is 100.0 MiB, larger than the 4.0 MiB"},
		{"not UTF-8", latin1, "latin1.yaml:2:10: is not valid UTF-8 text"},
		{"device", "/dev/null", "is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, load := range []func(string) error{
				func(p string) error { _, err := LoadCluster(p); return err },
				func(p string) error { _, err := LoadRunnable(p); return err },
			} {
				err := load(tt.path)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got %v, want it to contain %q", err, tt.want)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("got %T, want *Error", err)
				}
			}
		})
	}
}

func TestLoadReadsExamples(t *testing.T) {
	t.Parallel()
	c, err := LoadCluster("../../testdata/config/ok/cluster_sear_fields.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Nodes() != 5 || c.Engine != EngineDask || !c.Spot || c.MaxDuration.String() != "3h0m0s" {
		t.Errorf("unexpected cluster: %+v", c)
	}
}

func TestAliasBombIsNotExpanded(t *testing.T) {
	t.Parallel()
	// Ten levels of nine aliases each would be 9^10 nodes if expanded.
	var b strings.Builder
	b.WriteString("a0: &a0 [!g [1, 2]]\n")
	for i := 1; i <= 10; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]\n")
	}
	doc := "!Experiment\nname: bomb\npipeline:\n  s: !Trainer\n    x:\n" + indent(b.String(), "      ")
	if _, err := ParseRunnable("bomb.yaml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	// A !Script's arguments are expanded (Flambé passes str() of them), so
	// there the expansion is bounded and reported.
	script := strings.ReplaceAll(b.String(), "!g [1, 2]", "1")
	doc = "!Script\nscript: train\nkwargs:\n  x:\n" + indent(script, "    ") + "  y: *a10\n"
	_, err := ParseRunnable("bomb.yaml", []byte(doc))
	if err == nil || !strings.Contains(err.Error(), "past 1.0 MiB, the most sear expands") {
		t.Fatalf("want the expansion refused, got %v", err)
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestNearest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"factory_num", "factories_num", true},
		{"volume_typ", "volume_type", true},
		{"enigne", "engine", true},
		{"region", "", false},
		{"zzzzzz", "", false},
	}
	known := append(append([]string(nil), flambeAWSFields...), searFields...)
	for _, tt := range tests {
		got, ok := nearest(tt.in, known)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("nearest(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
