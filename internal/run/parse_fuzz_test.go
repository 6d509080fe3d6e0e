package run

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The parsers of what nodes print: a node runs the pull request's code,
// so its answers are untrusted input. Each fuzzer checks that nothing
// panics and that what does parse means what it says.

// FuzzParseListing feeds listScript's output format: a listing that parses
// holds only entries that were in the input, with a non-empty name and a
// one-byte kind.
func FuzzParseListing(f *testing.F) {
	f.Add([]byte("f\x00644\x003\x001700000000.0000000000\x00a.txt\x00\x00\x00" + "1700000000000000000\x00"))
	f.Add([]byte("l\x00777\x000\x001700000000.5\x00link\x00target\x00\x00\x00" + strings.Repeat("0", 64) + "  ./link\n"))
	f.Add([]byte("f\x00"))
	f.Add([]byte("\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, out []byte) {
		tree, err := parseListing(out)
		if err != nil {
			return
		}
		for name, file := range tree.files {
			if name == "" {
				t.Fatalf("an entry with no name from %q", out)
			}
			if !bytes.Contains(out, []byte(name)) {
				t.Fatalf("entry %q is not in the listing %q", name, out)
			}
			if file.sum != "" && len(file.sum) != 64 {
				t.Fatalf("entry %q has a hash of %d characters", name, len(file.sum))
			}
		}
	})
}

// FuzzParseSumLine: a name escaped as coreutils' sha256sum escapes it
// reads back as itself.
func FuzzParseSumLine(f *testing.F) {
	f.Add("a.txt")
	f.Add("dir/with\\back\nslash")
	f.Add("\r")
	f.Fuzz(func(t *testing.T, name string) {
		sum := strings.Repeat("ab", 32)
		line := sum + "  " + name
		if strings.ContainsAny(name, "\\\n\r") {
			line = `\` + sum + "  " + strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(name)
		}
		got, gotSum, ok := parseSumLine(line)
		if !ok || got != name || gotSum != sum {
			t.Fatalf("parseSumLine(%q) = %q, %q, %v; want %q", line, got, gotSum, ok, name)
		}
		// Whatever a node prints instead, nothing panics.
		parseSumLine(name)
	})
}

// FuzzParseMetrics: metrics.json is the job's; a metric that parses is a
// number or a series of numbers, and never NaN as a value.
func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte(`{"accuracy": 0.9, "loss": [1, 0.5]}`))
	f.Add([]byte(`{"x": "text", "y": null, "z": [1, "a"]}`))
	f.Add([]byte(`[1, 2]`))
	f.Add([]byte(`{"a": 1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMetrics("metrics.json", data)
		if err != nil && m == nil {
			return
		}
		var raw map[string]json.RawMessage
		json.Unmarshal(data, &raw)
		for name, metric := range m {
			if metric.Value != nil && metric.Series != nil {
				t.Fatalf("metric %q is both a value and a series: %+v", name, metric)
			}
			if metric.Value != nil && *metric.Value != *metric.Value {
				t.Fatalf("metric %q is NaN", name)
			}
			// A null is no measurement: it must not read as 0.
			if string(bytes.TrimSpace(raw[name])) == "null" {
				t.Fatalf("metric %q is null, read as %+v", name, metric)
			}
		}
	})
}

// FuzzExtract is the output directory's trust boundary: whatever tar
// stream the node sends, extraction writes nothing outside the output
// directory, makes no link, and leaves alone a link planted in the
// directory before (as a pull request can commit one).
func FuzzExtract(f *testing.F) {
	for _, entries := range [][]tar.Header{
		{{Name: "a.txt", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644}},
		{{Name: "../escape", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644}},
		{{Name: "planted/hook", Typeflag: tar.TypeReg, Size: 2, Mode: 0o755}},
		{{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, {Name: "l/x", Typeflag: tar.TypeReg, Size: 2}},
		{{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "d/.git/config", Typeflag: tar.TypeReg, Size: 2}},
		{{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../outside"}},
	} {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range entries {
			tw.WriteHeader(&h)
			if h.Typeflag == tar.TypeReg {
				tw.Write([]byte("hi"))
			}
		}
		tw.Close()
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		top := t.TempDir()
		outside := filepath.Join(top, "outside")
		out := filepath.Join(top, "out")
		for _, d := range []string{outside, out} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(outside, filepath.Join(out, "planted")); err != nil {
			t.Fatal(err)
		}
		root, err := os.OpenRoot(out)
		if err != nil {
			t.Fatal(err)
		}
		x := newExtractor(root, 1<<20, 100)
		x.extract(bytes.NewReader(stream))
		x.close()
		root.Close()
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Fatalf("extraction wrote %d entries outside the output directory", len(entries))
		}
		if target, err := os.Readlink(filepath.Join(out, "planted")); err == nil && target != outside {
			t.Fatalf("the planted link now points at %q", target)
		}
		err = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if rel, _ := filepath.Rel(top, p); rel != "." && rel != "out" && rel != "outside" && !strings.HasPrefix(rel, "out"+string(filepath.Separator)) {
				return fmt.Errorf("%s was made outside the output directory", rel)
			}
			if d.Type()&fs.ModeSymlink != 0 && p != filepath.Join(out, "planted") {
				return fmt.Errorf("extraction made the link %s", p)
			}
			if strings.EqualFold(d.Name(), ".git") {
				return fmt.Errorf("extraction made %s", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
