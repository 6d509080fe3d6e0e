package run

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry is one tar entry a node sends: a file with body, or, by
// Typeflag, a directory, a link to Link, a fifo.
type entry struct {
	Name, Body, Link string
	Type             byte
}

// tarStream writes entries in order, as a node's tar would.
func tarStream(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Mode: 0o644, Typeflag: e.Type, Linkname: e.Link}
		if e.Type == 0 {
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.Body))
		}
		if e.Type == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.Body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

// outputDir makes base/out with a sibling base/escape, which stands for
// anything outside the output directory (the repository's .git/hooks).
func outputDir(t *testing.T) (out, escape string) {
	t.Helper()
	base := t.TempDir()
	out, escape = filepath.Join(base, "out"), filepath.Join(base, "escape")
	for _, d := range []string{out, escape} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return out, escape
}

func mustNotExist(t *testing.T, path, why string) {
	t.Helper()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists: %s", path, why)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Threat: a pull request commits `sear-output/x -> ../.git/hooks`, and the
// job (which the pull request also controls) writes x/post-checkout: the
// file lands in .git/hooks and a later step's git runs it. Defence: a
// symlink already in the output directory is never followed: the link is
// replaced by a real directory, and the file lands in it.
func TestExtractDoesNotFollowACommittedDirectorySymlink(t *testing.T) {
	t.Parallel()
	for _, link := range []string{"../escape", "../../escape/.."} {
		out, escape := outputDir(t)
		if err := os.Symlink(link, filepath.Join(out, "x")); err != nil {
			t.Fatal(err)
		}
		files, err := extractTo(tarStream(t, entry{Name: "x/hook", Body: "#!/bin/sh\nevil\n"}), out)
		if err != nil {
			t.Fatalf("link %s: %v", link, err)
		}
		mustNotExist(t, filepath.Join(escape, "hook"), "the output was written through the committed symlink, outside the output directory")
		if fi, err := os.Lstat(filepath.Join(out, "x")); err != nil || !fi.IsDir() {
			t.Errorf("link %s: out/x is %v (%v), want the link replaced by a directory", link, fi, err)
		}
		if got := readString(t, filepath.Join(out, "x", "hook")); got != "#!/bin/sh\nevil\n" || len(files) != 1 {
			t.Errorf("link %s: out/x/hook = %q, files %v", link, got, files)
		}
	}
}

// Threat: a symlink that stays inside the output directory (sub -> kept)
// still leads a write to a file the job did not write, such as a file a
// later step reads or runs. Defence: os.Root alone would follow it; the
// extractor replaces it instead, for a directory on the way.
func TestExtractDoesNotWriteThroughASymlinkedDirectoryInside(t *testing.T) {
	t.Parallel()
	out, _ := outputDir(t)
	os.Mkdir(filepath.Join(out, "kept"), 0o755)
	os.WriteFile(filepath.Join(out, "kept", "f"), []byte("committed"), 0o644)
	os.Symlink("kept", filepath.Join(out, "sub"))
	if _, err := extractTo(tarStream(t, entry{Name: "sub/f", Body: "from the node"}), out); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, filepath.Join(out, "kept", "f")); got != "committed" {
		t.Errorf("kept/f = %q: written through the symlink sub", got)
	}
	if got := readString(t, filepath.Join(out, "sub", "f")); got != "from the node" {
		t.Errorf("sub/f = %q", got)
	}
}

// Threat: a committed metrics.json -> report.json (or -> ../../.ssh/config)
// and a job that writes metrics.json: the write lands on the link's target.
// Defence: the link is removed and the file made with O_EXCL, which fails
// rather than follows a link.
func TestExtractDoesNotWriteThroughAFileSymlink(t *testing.T) {
	t.Parallel()
	out, escape := outputDir(t)
	os.WriteFile(filepath.Join(out, "report.json"), []byte("committed"), 0o644)
	os.WriteFile(filepath.Join(escape, "config"), []byte("outside"), 0o644)
	os.Symlink("report.json", filepath.Join(out, "metrics.json"))
	os.Symlink("../escape/config", filepath.Join(out, "log.txt"))
	if _, err := extractTo(tarStream(t, entry{Name: "metrics.json", Body: `{"a":1}`}, entry{Name: "log.txt", Body: "log"}), out); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, filepath.Join(out, "report.json")); got != "committed" {
		t.Errorf("report.json = %q: written through the symlink metrics.json", got)
	}
	if got := readString(t, filepath.Join(escape, "config")); got != "outside" {
		t.Errorf("escape/config = %q: written through the symlink log.txt", got)
	}
	for name, want := range map[string]string{"metrics.json": `{"a":1}`, "log.txt": "log"} {
		fi, err := os.Lstat(filepath.Join(out, name))
		if err != nil || !fi.Mode().IsRegular() || readString(t, filepath.Join(out, name)) != want {
			t.Errorf("%s: %v %v, want a regular file holding %q", name, fi, err, want)
		}
	}
}

// Threat: the node (which runs the pull request's code) sends a symlink
// entry, then a file through it (`d -> /home/runner/.ssh`, `d/authorized_keys`),
// or a hard link or a fifo. Defence: such entries are never created,
// and are reported as skipped, with why.
func TestExtractSkipsLinksAndDevicesFromTheNode(t *testing.T) {
	t.Parallel()
	out, escape := outputDir(t)
	x := testExtractor(t, out, 0, 0)
	_, err := x.extract(tarStream(t,
		entry{Name: "d", Type: tar.TypeSymlink, Link: escape},
		entry{Name: "d/authorized_keys", Body: "ssh-ed25519 evil"},
		entry{Name: "hard", Type: tar.TypeLink, Link: "d/authorized_keys"},
		entry{Name: "up", Type: tar.TypeSymlink, Link: ".."},
		entry{Name: "pipe", Type: tar.TypeFifo},
		entry{Name: "ok.txt", Body: "ok"},
	))
	if err != nil {
		t.Fatal(err)
	}
	mustNotExist(t, filepath.Join(escape, "authorized_keys"), "written through a symlink the node sent")
	for _, name := range []string{"hard", "up", "pipe"} {
		mustNotExist(t, filepath.Join(out, name), "the node's link or fifo was created")
	}
	if fi, err := os.Lstat(filepath.Join(out, "d")); err != nil || !fi.IsDir() {
		t.Errorf("out/d = %v %v, want a real directory", fi, err)
	}
	var got []string
	for _, s := range x.skipped {
		got = append(got, s.String())
	}
	want := []string{
		"3 links not written (d, hard, up): sear never creates symlinks or hard links, since one could lead a later write, or a later step, outside the output directory",
		"1 devices and fifos not written (pipe): they are not outputs",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(x.files, ",") != "d/authorized_keys,ok.txt" {
		t.Errorf("files %v", x.files)
	}
}

// Threat: with output-dir `out`, the node writes out/.git/config with a
// core.fsmonitor command, or out/.GIT/hooks/x for a case-insensitive file
// system: a later step that runs git in out/ runs it. Defence: entries
// with a .git element are skipped.
func TestExtractSkipsDotGit(t *testing.T) {
	t.Parallel()
	out, _ := outputDir(t)
	x := testExtractor(t, out, 0, 0)
	if _, err := x.extract(tarStream(t,
		entry{Name: ".git/config", Body: "[core]\nfsmonitor = evil\n"},
		entry{Name: "sub/.GIT/hooks/post-checkout", Body: "evil"},
		entry{Name: "sub/git~1/hooks/x", Body: "evil"},
		entry{Name: "sub/.git. /x", Body: "evil"},
		entry{Name: "sub/.github/ok", Body: "ok"},
	)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git", "sub/.GIT", "sub/git~1", "sub/.git. "} {
		mustNotExist(t, filepath.Join(out, p), "a .git directory from the node was written")
	}
	if len(x.skipped) != 1 || x.skipped[0].Count != 4 || x.skipped[0].Kind != ".git entries" {
		t.Errorf("skipped %+v", x.skipped)
	}
	if strings.Join(x.files, ",") != "sub/.github/ok" {
		t.Errorf("files %v", x.files)
	}
}

// Threat: a pull request commits `sear-output -> ..` (or -> .git/hooks),
// so that every output lands in the workspace's root or in .git. Defence:
// an output directory that is a symlink is refused, before the launch
// (CheckOutputDir) and at collection, with the path and the fix; with
// OutputBase, so is a symlink on the way to it.
func TestOutputDirThatIsASymlinkIsRefused(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, ".git", "hooks"), 0o755)
	os.Symlink(".git/hooks", filepath.Join(ws, "sear-output"))
	os.Symlink(".git", filepath.Join(ws, "results"))
	for _, o := range []Options{
		{OutputDir: filepath.Join(ws, "sear-output")},
		{OutputDir: filepath.Join(ws, "sear-output"), OutputBase: ws},
		{OutputDir: filepath.Join(ws, "results", "hooks"), OutputBase: ws},
	} {
		err := o.CheckOutputDir()
		if err == nil || !strings.Contains(err.Error(), "is a symlink") || !strings.Contains(err.Error(), o.OutputDir) {
			t.Errorf("%+v: CheckOutputDir: %v, want a refusal naming the path", o, err)
		}
		if _, err := openOutputDir(o.OutputDir, o.OutputBase, true); err == nil {
			t.Errorf("%+v: collection opened the output directory through a symlink", o)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(ws, ".git", "hooks")); len(entries) != 0 {
		t.Errorf(".git/hooks: %v", entries)
	}
	// What is fine: a real directory, a missing one, one under a symlink
	// above OutputBase (macOS's /var -> /private/var).
	for _, o := range []Options{
		{OutputDir: filepath.Join(ws, "new", "out"), OutputBase: ws},
		{OutputDir: filepath.Join(ws, "new2")},
	} {
		if err := o.CheckOutputDir(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
		r, err := openOutputDir(o.OutputDir, o.OutputBase, true)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		r.Close()
	}
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(ws, link)
	if err := (Options{OutputDir: filepath.Join(link, "new", "out"), OutputBase: link}).CheckOutputDir(); err != nil {
		t.Error(err)
	}
	if err := (Options{OutputDir: filepath.Join(link, "new3")}).CheckOutputDir(); err != nil {
		t.Error(err)
	}
	if err := (Options{OutputDir: filepath.Join(t.TempDir(), "x"), OutputBase: ws}).CheckOutputDir(); err == nil ||
		!strings.Contains(err.Error(), "is not inside") {
		t.Errorf("an output directory outside OutputBase: %v", err)
	}
}

// Threat: a committed sear-output/metrics.json -> ~/.docker/config.json,
// and a job that writes none: the report would show the other file's
// contents, or its keys in the error. Defence: only a regular file is read.
func TestReadMetricsRefusesASymlink(t *testing.T) {
	t.Parallel()
	out, escape := outputDir(t)
	os.WriteFile(filepath.Join(escape, "config.json"), []byte(`{"auths":1}`), 0o644)
	os.Symlink("../escape/config.json", filepath.Join(out, "metrics.json"))
	root, err := os.OpenRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := readMetrics(root, "out/metrics.json")
	if err == nil || m != nil || !strings.Contains(err.Error(), "out/metrics.json is not a regular file") {
		t.Errorf("metrics %v, err %v", m, err)
	}
	os.Remove(filepath.Join(out, "metrics.json"))
	os.WriteFile(filepath.Join(out, "metrics.json"), []byte(`{"acc":0.5}`), 0o644)
	if m, err := readMetrics(root, "out/metrics.json"); err != nil || m["acc"].Value == nil {
		t.Errorf("metrics %v, err %v", m, err)
	}
}
