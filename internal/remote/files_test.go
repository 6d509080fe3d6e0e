package remote

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.dial(t)
	data := []byte("[SECRETS]\nTOKEN = it's \"quoted\" $(rm -rf /) `id`\n\x00nul\x00\nlast line without newline")
	tests := []struct {
		name string
		path string
		mode os.FileMode
	}{
		{"0600 in the home", filepath.Join(n.dir, "secrets.ini"), 0o600},
		{"0640 in a new directory", filepath.Join(n.dir, "new dir", "it's", "f.ini"), 0o640},
		{"relative to the home", "rel.ini", 0o600},
		{"leading dash", "-dash.ini", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := c.WriteFile(context.Background(), tt.path, tt.mode, data); err != nil {
				t.Fatal(err)
			}
			local := tt.path
			if !filepath.IsAbs(local) {
				local = filepath.Join(n.dir, local)
			}
			fi, err := os.Stat(local)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.mode {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tt.mode)
			}
			if got, _ := os.ReadFile(local); !bytes.Equal(got, data) {
				t.Errorf("content = %q, want %q", got, data)
			}
			if fi, err := os.Stat(filepath.Dir(local)); err == nil && filepath.Dir(local) != n.dir && fi.Mode().Perm() != 0o700 {
				t.Errorf("new parent mode = %v, want 0700", fi.Mode().Perm())
			}
			assertNoTemp(t, local)
		})
	}
}

// assertNoTemp checks WriteFile left no temporary file beside path.
func assertNoTemp(t *testing.T, path string) {
	t.Helper()
	dir := filepath.Dir(path)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+filepath.Base(path)+".sear-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

func TestWriteFileErrorKeepsContentOut(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.dial(t)
	if err := os.WriteFile(filepath.Join(n.dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := c.WriteFile(context.Background(), filepath.Join(n.dir, "file", "under-a-file"), 0o600, []byte("hunter2"))
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *ExitError", err)
	}
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "under-a-file") {
		t.Errorf("err = %v", err)
	}
}

// entry is a tar member as the tests compare them.
type entry struct {
	name, link, body string
	typ              byte
	mode             int64
}

// tree is what TestUploadDownload sends: files, an executable, a symlink,
// an empty directory, a name with a quote and spaces.
var tree = []entry{
	{name: "work", typ: tar.TypeDir, mode: 0o755},
	{name: "work/a.txt", typ: tar.TypeReg, mode: 0o644, body: "alpha\n"},
	{name: "work/empty", typ: tar.TypeDir, mode: 0o755},
	{name: "work/link", typ: tar.TypeSymlink, link: "a.txt"},
	{name: "work/sub", typ: tar.TypeDir, mode: 0o755},
	{name: "work/sub/it's run.sh", typ: tar.TypeReg, mode: 0o755, body: "#!/bin/sh\necho hi\n"},
	{name: "work/sub/deep", typ: tar.TypeDir, mode: 0o755},
	{name: "work/sub/deep/m.json", typ: tar.TypeReg, mode: 0o600, body: `{"loss": 0.5}`},
}

func TestUploadDownload(t *testing.T) {
	t.Parallel()
	n := newNode(t)
	c := n.dial(t)
	ctx := context.Background()
	dest := filepath.Join(n.dir, "job")
	if err := c.Upload(ctx, dest, bytes.NewReader(makeTar(t, tree))); err != nil {
		t.Fatal(err)
	}
	if link, err := os.Readlink(filepath.Join(dest, "work/link")); err != nil || link != "a.txt" {
		t.Errorf("symlink = %q, %v", link, err)
	}
	if fi, err := os.Stat(filepath.Join(dest, "work/empty")); err != nil || !fi.IsDir() {
		t.Errorf("empty dir: %v", err)
	}
	tests := []struct {
		name     string
		patterns []string
		want     []string
	}{
		{"a directory brings its tree", []string{"work"}, names(tree)},
		{"everything", []string{"."}, append([]string{"."}, names(tree)...)},
		{"globstar", []string{"**/*.json", "work/*.txt"}, []string{"work/a.txt", "work/sub/deep/m.json"}},
		{"overlaps stored once (** matches its own directory too)", []string{"work/sub/deep", "work/sub/**"}, []string{"work/sub", "work/sub/deep", "work/sub/deep/m.json", "work/sub/it's run.sh"}},
		{"symlink itself", []string{"work/link"}, []string{"work/link"}},
		{"no match is empty", []string{"nothing/*", "missing.txt"}, nil},
		{"no patterns is empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := c.Download(ctx, dest, tt.patterns, &buf); err != nil {
				t.Fatal(err)
			}
			got := readTar(t, &buf)
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("names = %q, want %q", names(got), tt.want)
			}
			for _, e := range got {
				if want, ok := find(tree, e.name); ok && (e.typ != want.typ || e.body != want.body || e.link != want.link || (e.typ != tar.TypeSymlink && e.mode != want.mode)) {
					t.Errorf("%s = %+v, want %+v", e.name, e, want)
				}
			}
		})
	}
}

func TestDownloadRejectsEscapes(t *testing.T) {
	t.Parallel()
	c := newNode(t).dial(t)
	for _, p := range []string{"/etc/passwd", "../x", "a/../../x", ""} {
		if err := c.Download(context.Background(), ".", []string{p}, io.Discard); err == nil {
			t.Errorf("pattern %q: no error", p)
		}
	}
}

// makeTar builds a tar stream of entries.
func makeTar(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body))}
		if e.typ == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readTar reads a tar stream, names cleaned of "./" and trailing "/".
func readTar(t *testing.T, r io.Reader) []entry {
	t.Helper()
	var out []entry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
		if name == "" {
			name = "."
		}
		out = append(out, entry{name: name, typ: h.Typeflag, link: h.Linkname, body: string(body), mode: h.Mode & 0o777})
	}
}

// names lists entries' names, sorted.
func names(entries []entry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.name)
	}
	slices.Sort(out)
	return out
}

// find returns the entry named name.
func find(entries []entry, name string) (entry, bool) {
	for _, e := range entries {
		if e.name == name {
			return e, true
		}
	}
	return entry{}, false
}
