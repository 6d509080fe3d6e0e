package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud/local"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// tiny is what an upload of an unchanged tree may send: the survey
// request and SSH's own traffic (channel requests, window adjustments,
// a keepalive), nowhere near a file of the workspace.
const tiny = 16 << 10

const bigFile = 1 << 20

// fillWorkspace makes a git work tree with a big file, a few dozen small
// ones, an executable, a symlink, an ignored directory and a name with a
// line break, and returns its total size.
func fillWorkspace(t *testing.T, ws string) int64 {
	t.Helper()
	if out, err := gitInit(ws); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	writeFile(t, ws, "data/big.bin", random(bigFile), 0o644)
	for i := range 40 {
		writeFile(t, ws, fmt.Sprintf("src/pkg%d/mod%02d.py", i%4, i), random(2000+i), 0o644)
	}
	writeFile(t, ws, "job.py", []byte("print('hi')\n"), 0o644)
	writeFile(t, ws, "run.sh", []byte("#!/bin/sh\necho run\n"), 0o755)
	writeFile(t, ws, "shared.cfg", []byte("group-writable\n"), 0o664)
	writeFile(t, ws, "odd \\name\nwith break.txt", []byte("odd\n"), 0o644)
	writeFile(t, ws, ".gitignore", []byte("ignored/\n*.tmp\n"), 0o644)
	writeFile(t, ws, "ignored/cache.bin", random(4096), 0o644)
	writeFile(t, ws, "scratch.tmp", []byte("tmp\n"), 0o644)
	if err := os.Symlink("data/big.bin", filepath.Join(ws, "latest")); err != nil {
		t.Fatal(err)
	}
	// An hour old, as a tree is that was not just edited: its times can
	// vouch for it (see vouchedByTime).
	hourAgo := time.Now().Add(-time.Hour)
	var total int64
	filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
			os.Chtimes(p, hourAgo, hourAgo)
		}
		return nil
	})
	return total
}

// hashedOnNode is how many files node rank would be asked to hash if the
// workspace were uploaded now.
func (r *uploadRig) hashedOnNode(t *testing.T, rank int) int {
	t.Helper()
	entries, err := r.st.uploadEntries()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := r.st.survey(context.Background(), r.st.nodes[rank], entries)
	if err != nil {
		t.Fatal(err)
	}
	return len(tree.toHash(entries))
}

// testIncrementalUpload is the sequence both backends go through: the
// first upload sends everything; after it, each upload sends what changed
// and removes what went, and every node ends up with exactly the
// workspace.
func testIncrementalUpload(t *testing.T, rig *uploadRig) {
	ws := rig.ws
	total := fillWorkspace(t, ws)
	nodes := len(rig.st.nodes)

	sent := rig.upload(t)
	t.Logf("first upload: %v bytes on the wire per node, workspace %d bytes", sent, total)
	for rank, n := range sent {
		if n < bigFile {
			t.Errorf("node %d: first upload sent %d bytes, less than its big file", rank, n)
		}
	}
	rig.checkSame(t)
	for _, name := range []string{"ignored/cache.bin", "scratch.tmp"} {
		if _, ok := rig.nodeTree(t, 0)[name]; ok {
			t.Errorf("%s uploaded, although .gitignore names it", name)
		}
	}

	t.Run("unchanged tree sends little", func(t *testing.T) {
		before := rig.changeTimes(t, 0)
		sent := rig.upload(t)
		t.Logf("unchanged: %v bytes on the wire per node", sent)
		for rank, n := range sent {
			if n > tiny {
				t.Errorf("node %d: %d bytes sent for an unchanged tree, want at most %d", rank, n, tiny)
			}
		}
		for name, when := range rig.changeTimes(t, 0) {
			if when != before[name] {
				t.Errorf("%q was rewritten: change time %s, then %s", name, before[name], when)
			}
		}
		rig.checkSame(t)
		// The runnable, which has no time of its own, is hashed with
		// the listing; nothing else is read.
		if n := rig.hashedOnNode(t, 0); n != 0 {
			t.Errorf("the node is asked to hash %d files of an unchanged tree, want none", n)
		}
	})

	t.Run("a fresh checkout of the same tree sends little", func(t *testing.T) {
		// New times, same contents: compared by content, nothing sent.
		now := time.Now().Add(-10 * time.Minute)
		for name := range rig.localTree(t) {
			os.Chtimes(filepath.Join(ws, name), now, now)
		}
		sent := rig.upload(t)
		t.Logf("same tree, new times: %v bytes on the wire per node", sent)
		for rank, n := range sent {
			if n > tiny {
				t.Errorf("node %d: %d bytes sent for a tree whose times alone changed", rank, n)
			}
		}
		rig.checkSame(t)
	})

	t.Run("a change within the second of an upload is seen", func(t *testing.T) {
		// git's racy case: the same size and, to the second, the same
		// time as the copy the node got moments ago.
		name := filepath.Join(ws, "src/pkg2/mod06.py")
		writeFile(t, ws, "src/pkg2/mod06.py", random(2006), 0o644)
		info, _ := os.Stat(name)
		when := info.ModTime()
		rig.upload(t)
		writeFile(t, ws, "src/pkg2/mod06.py", random(2006), 0o644)
		os.Chtimes(name, when, when)
		sent := rig.upload(t)
		for rank, n := range sent {
			if n < 2006 {
				t.Errorf("node %d: %d bytes sent, less than the changed file", rank, n)
			}
		}
		rig.checkSame(t)
	})

	t.Run("a changed file alone is sent", func(t *testing.T) {
		before := rig.changeTimes(t, 0)
		// Same size, other content: only the hash tells.
		writeFile(t, ws, "src/pkg1/mod05.py", random(2005), 0o644)
		sent := rig.upload(t)
		t.Logf("one file changed: %v bytes on the wire per node", sent)
		for rank, n := range sent {
			if n < 2005 || n > 2005+tiny {
				t.Errorf("node %d: %d bytes sent for one changed file of 2005 bytes", rank, n)
			}
		}
		after := rig.changeTimes(t, 0)
		for name, when := range after {
			if changed := when != before[name]; changed != (name == "src/pkg1/mod05.py") {
				t.Errorf("%s: change time %s, then %s", name, before[name], when)
			}
		}
		rig.checkSame(t)
	})

	t.Run("deleted files are removed", func(t *testing.T) {
		os.RemoveAll(filepath.Join(ws, "src/pkg3"))
		os.Remove(filepath.Join(ws, "odd \\name\nwith break.txt"))
		// A file the job left in its working directory goes too: the
		// node's tree is the workspace.
		if err := rig.st.conns[0].Run(context.Background(), "echo leftover > "+shell.Quote(rig.st.layout[0].Work+"/result.txt"), remote.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		sent := rig.upload(t)
		for rank, n := range sent {
			if n > tiny {
				t.Errorf("node %d: %d bytes sent to delete files", rank, n)
			}
		}
		rig.checkSame(t)
	})

	t.Run("permissions are kept", func(t *testing.T) {
		for name, mode := range map[string]fs.FileMode{"run.sh": 0o700, "job.py": 0o755, "src/pkg0/mod00.py": 0o600, "new.cfg": 0o666} {
			if _, err := os.Stat(filepath.Join(ws, name)); err != nil {
				writeFile(t, ws, name, []byte("new\n"), mode)
			}
			if err := os.Chmod(filepath.Join(ws, name), mode); err != nil {
				t.Fatal(err)
			}
		}
		rig.upload(t)
		rig.checkSame(t)
	})

	t.Run("a file becomes a directory, a link moves", func(t *testing.T) {
		os.Remove(filepath.Join(ws, "shared.cfg"))
		writeFile(t, ws, "shared.cfg/inner.cfg", []byte("inner\n"), 0o644)
		os.Remove(filepath.Join(ws, "latest"))
		os.Symlink("job.py", filepath.Join(ws, "latest"))
		sent := rig.upload(t)
		for rank, n := range sent {
			if n > tiny {
				t.Errorf("node %d: %d bytes sent for a small file and a link", rank, n)
			}
		}
		rig.checkSame(t)
	})

	t.Run("the big file changes", func(t *testing.T) {
		writeFile(t, ws, "data/big.bin", random(bigFile), 0o644)
		sent := rig.upload(t)
		for rank, n := range sent {
			if n < bigFile || n > bigFile+bigFile/8 {
				t.Errorf("node %d: %d bytes sent for a changed file of %d", rank, n, bigFile)
			}
		}
		rig.checkSame(t)
	})
	if nodes < 2 {
		t.Errorf("the rig has %d node(s); the shared stream needs two or more to be tested", nodes)
	}
}

// On the local cluster: nodes are SSH servers in this process, running
// this machine's find, sha256sum and tar.
func TestIncrementalUploadLocal(t *testing.T) {
	t.Parallel()
	rig := newUploadRig(t, local.New(), "!LocalCluster\nname: incr\nfactories_num: 2\n")
	testIncrementalUpload(t, rig)
}

// On container instances of the test world: real OpenSSH, and Debian's
// find, sha256sum and tar on the node, as on an EC2 instance.
func TestIncrementalUploadContainers(t *testing.T) {
	t.Parallel()
	rig := newUploadRig(t, containerProvider(t), "!AWSCluster\nname: incr\nfactories_num: 1\nfactories_type: t3.small\norchestrator_type: t3.small\nready_timeout: 3m\n")
	testIncrementalUpload(t, rig)
}

// The listing and the hashes as the node's own tools write them (this
// machine's find and sha256sum stand in for the node's) read back with
// every kind of name.
func TestSurveyReadsRealTools(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	names := []string{"plain.txt", "with space", "back\\slash", "line\nbreak", "tab\there", "ünï", "-dash", "sub/deeper/x"}
	for i, name := range names {
		writeFile(t, dir, name, []byte(strings.Repeat("x", i)), 0o640)
	}
	os.Symlink("plain.txt", filepath.Join(dir, "link"))
	when := time.Unix(1_700_000_000, 0)
	os.Chtimes(filepath.Join(dir, "plain.txt"), when, when)
	os.WriteFile(dir+".verified", []byte("1800000000000000000\n"), 0o600)
	out, err := exec.Command("sh", "-c", fmt.Sprintf(listScript, shell.Quote(dir), shell.Quote(verifiedPath(dir)), shell.Quote("./with space"))).Output()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := parseListing(out)
	if err != nil {
		t.Fatal(err)
	}
	if tree.verified != 1_800_000_000_000_000_000 {
		t.Errorf("stamp %d, want the one written", tree.verified)
	}
	if f := tree.files["with space"]; len(f.sum) != 64 {
		t.Errorf("the file named to the listing was not hashed with it: %+v", f)
	}
	if f := tree.files["plain.txt"]; f.mtime != when.Unix() {
		t.Errorf("plain.txt: mtime %d, want %d", f.mtime, when.Unix())
	}
	sum := exec.Command("sh", "-c", fmt.Sprintf(sumScript, shell.Quote(dir)))
	sum.Stdin = strings.NewReader(strings.Join(names, "\x00") + "\x00")
	sums, err := sum.Output()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(sums), "\n") {
		if name, h, ok := parseSumLine(line); ok {
			f := tree.files[name]
			f.sum = h
			tree.files[name] = f
		}
	}
	for i, name := range names {
		e := tarEntry{name: name, root: dir, rel: name}
		if err := e.describe(); err != nil {
			t.Fatal(err)
		}
		if err := e.hash(); err != nil {
			t.Fatal(err)
		}
		f, ok := tree.files[name]
		if !ok || !same(e, f, 0) || f.size != int64(i) || f.mode != 0o640 {
			t.Errorf("%q: node has %+v (found %v), local %+v", name, f, ok, e)
		}
	}
	if f := tree.files["link"]; f.kind != 'l' || f.link != "plain.txt" {
		t.Errorf("link: %+v", f)
	}
	if len(tree.files) != len(names)+1 {
		t.Errorf("listing has %d files, want %d: %v", len(tree.files), len(names)+1, slices.Sorted(maps.Keys(tree.files)))
	}
	empty, err := exec.Command("sh", "-c", fmt.Sprintf(listScript, shell.Quote(dir+"/missing"), "/nonexistent", "")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if tree, err := parseListing(empty); err != nil || len(tree.files) != 0 || tree.verified != 0 {
		t.Errorf("a missing directory: %+v, %v; want an empty tree", tree, err)
	}
}

func TestParseListingRejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, out := range []string{"f\x00644\x00", "f\x00rw\x0012\x001.0\x00a\x00\x00\x00", "f\x00644\x00x\x001.0\x00a\x00\x00\x00"} {
		if _, err := parseListing([]byte(out)); err == nil {
			t.Errorf("%q parsed", out)
		}
	}
}

// Times vouch for a file only when they are the same and more than a
// second older than the stamp of the last upload that sent files.
func TestVouchedByTime(t *testing.T) {
	t.Parallel()
	const stamp = 1_000_000_000_500_000_000 // 1e9 s and a half
	e := tarEntry{kind: 'f', mode: 0o644, size: 10, mtime: 999_999_990}
	f := nodeFile{kind: 'f', mode: 0o644, size: 10, mtime: 999_999_990}
	tests := []struct {
		name     string
		e        func(*tarEntry)
		f        func(*nodeFile)
		verified int64
		want     bool
	}{
		{"older than the stamp", nil, nil, stamp, true},
		{"no stamp", nil, nil, 0, false},
		{"within a second of the stamp (racy)", func(e *tarEntry) { e.mtime = 1_000_000_000 }, func(f *nodeFile) { f.mtime = 1_000_000_000 }, stamp, false},
		{"a second and a half before the stamp", func(e *tarEntry) { e.mtime = 999_999_999 }, func(f *nodeFile) { f.mtime = 999_999_999 }, stamp, true},
		{"times differ", func(e *tarEntry) { e.mtime++ }, nil, stamp, false},
		{"sizes differ", func(e *tarEntry) { e.size++ }, nil, stamp, false},
		{"modes differ", func(e *tarEntry) { e.mode = 0o755 }, nil, stamp, false},
		{"not a whole second on the node", nil, func(f *nodeFile) { f.mtime = -1 }, stamp, false},
		{"data, not a file", func(e *tarEntry) { e.mtime = 0 }, func(f *nodeFile) { f.mtime = 0 }, stamp, false},
		{"a symlink", func(e *tarEntry) { e.kind = 'l' }, func(f *nodeFile) { f.kind = 'l' }, stamp, false},
	}
	for _, tt := range tests {
		e, f := e, f
		if tt.e != nil {
			tt.e(&e)
		}
		if tt.f != nil {
			tt.f(&f)
		}
		if got := vouchedByTime(e, f, tt.verified); got != tt.want {
			t.Errorf("%s: vouched = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A node that stops reading (its upload failed) does not hold back the
// others, and the stream ends for them as it began.
func TestBroadcastDropsAReaderThatStops(t *testing.T) {
	t.Parallel()
	b := newBroadcast(3)
	data := random(10 * streamChunk)
	go func() {
		_, err := io.Copy(b, bytes.NewReader(data))
		b.closeWithError(err)
	}()
	b.readers[1].stop()
	var wg sync.WaitGroup
	got := make([][]byte, 3)
	for _, i := range []int{0, 2} {
		wg.Go(func() {
			defer b.readers[i].stop()
			got[i], _ = io.ReadAll(b.readers[i])
		})
	}
	wg.Wait()
	for _, i := range []int{0, 2} {
		if !bytes.Equal(got[i], data) {
			t.Errorf("reader %d got %d bytes, want the %d sent", i, len(got[i]), len(data))
		}
	}
}

// A stream that fails locally fails for every reader, which the node's
// tar then refuses as a truncated archive.
func TestBroadcastPassesTheWritersError(t *testing.T) {
	t.Parallel()
	b := newBroadcast(2)
	boom := errors.New("disk gone")
	go func() {
		b.Write([]byte("partial"))
		b.closeWithError(boom)
	}()
	for i, r := range b.readers {
		if _, err := io.ReadAll(r); !errors.Is(err, boom) {
			t.Errorf("reader %d: err = %v, want %v", i, err, boom)
		}
	}
}
