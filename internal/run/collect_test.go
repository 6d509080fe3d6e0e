package run

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tarOf(t *testing.T, entries map[string]string) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for name, body := range entries {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if strings.HasPrefix(body, "->") {
			hdr = &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: body[2:]}
		}
		tw.WriteHeader(hdr)
		if hdr.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return &b
}

// extractTo unpacks r into dir as collection does, with the default caps,
// and returns the files written.
func extractTo(r io.Reader, dir string) ([]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	x := newExtractor(root, 0, 0)
	defer x.close()
	_, err = x.extract(r)
	return x.files, err
}

func TestExtractStaysInside(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"../escape.txt", "/etc/evil", "a/../../b"} {
		dir := t.TempDir()
		if _, err := extractTo(tarOf(t, map[string]string{bad: "x"}), dir); err == nil {
			t.Errorf("%q: extracted outside the directory", bad)
		}
	}
	dir := t.TempDir()
	files, err := extractTo(tarOf(t, map[string]string{"ok/metrics.json": "{}", "link": "->/etc/passwd"}), dir)
	if err != nil || len(files) != 1 || files[0] != "ok/metrics.json" {
		t.Fatalf("files %v, err %v", files, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "link")); !os.IsNotExist(err) {
		t.Error("a symlink from a node was created")
	}
}

func TestReadMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"loss":[0.9,0.5,0.25],"acc":0.91}`), 0o644)
	m, err := ReadMetrics(good)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m["loss"].Last(); v != 0.25 {
		t.Errorf("loss last = %v", v)
	}
	if v, _ := m["acc"].Last(); v != 0.91 {
		t.Errorf("acc = %v", v)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"loss":"low","acc":[1,"x"],"ok":1}`), 0o644)
	if _, err := ReadMetrics(bad); err == nil || !strings.Contains(err.Error(), "acc, loss must be a number or a list of numbers") {
		t.Errorf("got %v", err)
	}
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte(`[1,2]`), 0o644)
	if _, err := ReadMetrics(notJSON); err == nil || !strings.Contains(err.Error(), "is not a JSON object") {
		t.Errorf("got %v", err)
	}
}

// TestWorkspaceFilesHonoursGitignore: with git (a work tree) and without it
// (walkFiles, what the action's image does: it has no git), the same files.
func TestWorkspaceFilesHonoursGitignore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{".gitignore": "data/\n*.ckpt\n", "sub/.gitignore": "scratch.txt\n",
		"train.py": "x", "data/big.bin": "x", "model.ckpt": "x", "sub/keep.txt": "x", "sub/scratch.txt": "x", "sear-output/old.json": "x"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	if out, err := gitInit(dir); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	files, err := workspaceFiles(dir, filepath.Join(dir, "sear-output"))
	if err != nil {
		t.Fatal(err)
	}
	walked, err := walkFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"git ls-files": strings.Join(files, ","), "walk": strings.Join(walked, ",")} {
		for _, want := range []string{".gitignore", "train.py", "sub/keep.txt", "sub/.gitignore"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %s not uploaded: %s", name, want, got)
			}
		}
		for _, not := range []string{"data/big.bin", "model.ckpt", "scratch.txt", ".git/"} {
			if strings.Contains(got, not) {
				t.Errorf("%s: %s uploaded: %s", name, not, got)
			}
		}
	}
	if strings.Contains(strings.Join(files, ","), "sear-output") {
		t.Errorf("the output directory is uploaded: %v", files)
	}
}
