package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// nodeTree is what a node has under its workspace directory.
type nodeTree struct {
	files map[string]nodeFile
	// verified is when (the runner's clock, Unix ns) the last upload that
	// sent files to the node began; 0 if unknown. Every file the node has
	// was read from the workspace, or found equal to it, after that.
	verified int64
	// unknown: the node could not say what it has; its directory is
	// emptied and everything is sent.
	unknown bool
}

// nodeFile is one file a node has.
type nodeFile struct {
	kind  byte // find's %y: 'f' regular file, 'l' symlink, others
	mode  fs.FileMode
	size  int64
	mtime int64 // Unix seconds; -1 if not a whole second, which tar never sets
	link  string
	sum   string // sha256, hex, when asked for
}

// listScript lists the files under the workspace directory with find
// (type, permissions, size, modification time, path, link target, each
// NUL-terminated, since a path may hold any other byte), then an empty
// field, the verified stamp the last upload left, a NUL, and sha256sum's
// lines for the files named in %[3]s: the upload's data (the runnable),
// which has no time to vouch for it (/dev/null follows them, so that with
// none sha256sum does not read stdin). GNU find is on every Linux image a
// cluster boots (Ubuntu, Debian, Amazon Linux). A directory that does not
// exist yet is an empty listing. Listing reads no other file: what else
// the node must hash is asked for separately, and only for the files whose
// times cannot vouch for them.
const listScript = `cd -- %[1]s 2>/dev/null || exit 0
find . -mindepth 1 ! -type d -printf '%%y\0%%m\0%%s\0%%T@\0%%P\0%%l\0' || exit
printf '\0'
cat -- %[2]s 2>/dev/null
printf '\0'
sha256sum -- %[3]s /dev/null 2>/dev/null
exit 0`

// sumScript hashes the files named on stdin (NUL-separated, relative to
// the directory) with coreutils' sha256sum. A file it cannot read only
// lacks a hash, and is sent again.
const sumScript = `cd -- %s || exit
xargs -0 -r sha256sum -- 2>/dev/null
exit 0`

// verifiedPath is where a node keeps the stamp of the last upload that
// sent it files, beside (not in) the workspace directory.
func verifiedPath(work string) string { return work + ".verified" }

// survey asks node n what it has, and then the hashes of the files whose
// times cannot vouch for them but whose size and mode match the entry of
// the same name. A node that cannot say (no GNU find, a listing that does
// not parse) is marked unknown and gets a clean upload.
func (st *state) survey(ctx context.Context, n cloud.Node, entries []tarEntry) (nodeTree, error) {
	c, dir := st.conns[n.Rank], st.layout[n.Rank].Work
	var data []string
	for _, e := range entries {
		if e.data != nil {
			data = append(data, "./"+e.name)
		}
	}
	out, err := c.Output(ctx, fmt.Sprintf(listScript, shell.Quote(dir), shell.Quote(verifiedPath(dir)), shell.Join(data)))
	var ee *remote.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nodeTree{}, fmt.Errorf("list what the node has in %s: %w", dir, err)
	}
	var tree nodeTree
	if err == nil {
		tree, err = parseListing(out)
	}
	if err != nil {
		st.logf("sear: %s: could not list what the node already has (%v); sending everything", n.Name, err)
		return nodeTree{unknown: true}, nil
	}
	names := tree.toHash(entries)
	if len(names) == 0 {
		return tree, nil
	}
	var sums bytes.Buffer
	list := strings.Join(names, "\x00") + "\x00"
	err = c.Run(ctx, fmt.Sprintf(sumScript, shell.Quote(dir)), remote.RunOptions{Stdin: strings.NewReader(list), Stdout: &sums})
	if err != nil {
		return nodeTree{}, fmt.Errorf("hash %d files on the node: %w", len(names), err)
	}
	tree.addSums(sums.Bytes())
	return tree, nil
}

// addSums records sha256sum's lines as the hashes of the files they name.
func (t nodeTree) addSums(out []byte) {
	for line := range strings.SplitSeq(string(out), "\n") {
		name, sum, ok := parseSumLine(line)
		if f, found := t.files[strings.TrimPrefix(name, "./")]; ok && found {
			f.sum = sum
			t.files[strings.TrimPrefix(name, "./")] = f
		}
	}
}

// parseListing reads listScript's output.
func parseListing(out []byte) (nodeTree, error) {
	tree := nodeTree{files: map[string]nodeFile{}}
	if len(out) == 0 {
		return tree, nil // no directory yet
	}
	next := func() (string, bool) {
		i := bytes.IndexByte(out, 0)
		if i < 0 {
			return "", false
		}
		f := string(out[:i])
		out = out[i+1:]
		return f, true
	}
	for {
		kind, ok := next()
		if !ok {
			return nodeTree{}, errors.New("the listing ends early")
		}
		if kind == "" {
			break
		}
		mode, _ := next()
		size, _ := next()
		mtime, _ := next()
		name, _ := next()
		link, ok := next()
		m, merr := strconv.ParseUint(mode, 8, 32)
		s, serr := strconv.ParseInt(size, 10, 64)
		if !ok || len(kind) != 1 || name == "" || merr != nil || serr != nil {
			return nodeTree{}, fmt.Errorf("malformed listing entry %q", name)
		}
		tree.files[name] = nodeFile{kind: kind[0], mode: fs.FileMode(m), size: s, mtime: wholeSeconds(mtime), link: link}
	}
	stamp, sums, _ := bytes.Cut(out, []byte{0})
	// A stamp that does not parse is no stamp: times then vouch for nothing.
	tree.verified, _ = strconv.ParseInt(strings.TrimSpace(string(stamp)), 10, 64)
	tree.addSums(sums)
	return tree, nil
}

// wholeSeconds reads find's %T@ ("1700000000.0000000000"): the seconds if
// the fraction is zero, as tar leaves it; -1 otherwise.
func wholeSeconds(t string) int64 {
	sec, frac, _ := strings.Cut(t, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || strings.Trim(frac, "0") != "" {
		return -1
	}
	return s
}

// parseSumLine reads one line of sha256sum: "<64 hex>  <name>". A name
// holding a backslash or a line break is escaped, and its line starts
// with a backslash (coreutils' "escaped file names"). A line that does
// not parse leaves its file without a hash, and the file is sent again.
func parseSumLine(line string) (name, sum string, ok bool) {
	escaped := strings.HasPrefix(line, `\`)
	if escaped {
		line = line[1:]
	}
	if len(line) < 66 || line[64] != ' ' {
		return "", "", false
	}
	sum, name = line[:64], line[66:]
	if escaped {
		name = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\r`, "\r").Replace(name)
	}
	return name, sum, true
}

// vouchedByTime says the node's file is the entry without reading either:
// the same size, permissions and modification time (rsync's quick check),
// on one condition, git's answer to "racy" timestamps. A file changed
// again after an upload read it could keep its size and, within the same
// second, its time. So times vouch only for a file whose time is more
// than a second older than the last upload that sent files (its stamp):
// any change since then gives a time at least a second later. All these
// times are the runner's clock: tar sets the node's times from the
// archive, and the stamp is taken here. A file whose times differ (a
// fresh checkout of the same tree) is compared by content. What defeats
// it defeats rsync too: a tool that rewrites a file and sets its time
// back to the second the node's copy has, keeping its size (touch -r,
// cp -p of another version).
func vouchedByTime(e tarEntry, f nodeFile, verified int64) bool {
	return e.kind == 'f' && f.kind == 'f' && e.mtime != 0 && e.mtime == f.mtime &&
		e.size == f.size && e.mode == f.mode && f.mtime*1e9 < verified-1e9
}

// toHash are the names of the files the node must hash: regular, with
// the size and permissions of the entry of the same name, and not vouched
// for by their times.
func (t nodeTree) toHash(entries []tarEntry) []string {
	var names []string
	for _, e := range entries {
		if f, ok := t.files[e.name]; ok && comparable(e, f) && f.sum == "" && !vouchedByTime(e, f, t.verified) {
			names = append(names, e.name)
		}
	}
	return names
}

// comparable says whether only the content can tell entry and file apart.
func comparable(e tarEntry, f nodeFile) bool {
	return e.kind == 'f' && f.kind == 'f' && f.size == e.size && f.mode == e.mode
}

// hashWhereNeeded hashes the local files that some node hashed too. A
// first upload, to empty nodes, hashes nothing.
func hashWhereNeeded(entries []tarEntry, trees []nodeTree) error {
	var need []int
	for i, e := range entries {
		if slices.ContainsFunc(trees, func(t nodeTree) bool { return t.files[e.name].sum != "" }) {
			need = append(need, i)
		}
	}
	// One reader per core: hashing is CPU-bound where SHA-NI is missing,
	// and small files are mostly waiting on the disk.
	work := make(chan int)
	errs := make([]error, len(need))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(need)) {
		wg.Go(func() {
			for k := range work {
				errs[k] = entries[need[k]].hash()
			}
		})
	}
	for k := range need {
		work <- k
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// uploadPlan is what one node needs sent and removed for its workspace
// to match the one uploaded.
type uploadPlan struct {
	send   []int    // indexes into the entries
	remove []string // what the node has and the workspace does not
	clean  bool     // its tree is unknown: empty its directory first
}

// planNode compares the entries with what a node has.
func planNode(entries []tarEntry, t nodeTree) uploadPlan {
	p := uploadPlan{clean: t.unknown}
	keep := make(map[string]bool, len(entries))
	for i, e := range entries {
		keep[e.name] = true
		if f, ok := t.files[e.name]; !ok || !same(e, f, t.verified) {
			p.send = append(p.send, i)
		}
	}
	for name := range t.files {
		if !keep[name] {
			p.remove = append(p.remove, name)
		}
	}
	slices.Sort(p.remove)
	return p
}

// same says whether the node's file is the entry: for a symlink the same
// target; for a regular file, vouched for by its times or with the same
// content.
func same(e tarEntry, f nodeFile, verified int64) bool {
	switch {
	case e.kind == 'l' && f.kind == 'l':
		return e.link == f.link
	case vouchedByTime(e, f, verified):
		return true
	}
	return comparable(e, f) && e.sum != "" && e.sum == f.sum
}

// pruneScript deletes the files named on stdin (NUL-separated, relative to
// the directory, from the node's own listing), then the directories left
// empty, so a renamed directory does not linger.
const pruneScript = `cd -- %s || exit
xargs -0 -r rm -f -- || exit
find . -mindepth 1 -depth -type d -empty -delete`

// prune removes from the node what the workspace no longer has, before
// the changes land: a file that became a directory must go first.
func prune(ctx context.Context, c *remote.Client, dir string, p uploadPlan) error {
	if p.clean {
		if err := c.Run(ctx, "rm -rf -- "+shell.Quote(dir), remote.RunOptions{}); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
		return nil
	}
	if len(p.remove) == 0 {
		return nil
	}
	list := strings.Join(p.remove, "\x00") + "\x00"
	if err := c.Run(ctx, fmt.Sprintf(pruneScript, shell.Quote(dir)), remote.RunOptions{Stdin: strings.NewReader(list)}); err != nil {
		return fmt.Errorf("remove %d files the workspace no longer has: %w", len(p.remove), err)
	}
	return nil
}
