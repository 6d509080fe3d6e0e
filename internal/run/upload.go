package run

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// upload sends the workspace to every node (factories import the job's
// code too, as Dask workers and Flambé's remote stages do) and the secrets
// INI to a RAM-backed file only its user can read.
//
// Each node first says what it already has (survey), and gets only the
// files that differ; files it has that the workspace no longer does are
// deleted, so its tree ends up the workspace's. Nodes that need the same
// files share one tar stream: the workspace is read once, however many
// nodes there are.
func upload(ctx context.Context, st *state) error {
	// Taken before any file is read: see vouchedByTime.
	started := time.Now().UnixNano()
	entries, err := st.uploadEntries()
	if err != nil {
		return err
	}
	st.logf("sear: uploading %d files from %s", len(entries), st.opts.Workspace)
	trees := make([]nodeTree, len(st.nodes))
	err = st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		var err error
		trees[n.Rank], err = st.survey(ctx, n, entries)
		return err
	})
	if err != nil {
		return err
	}
	if err := hashWhereNeeded(entries, trees); err != nil {
		return err
	}
	plans := make([]uploadPlan, len(st.nodes))
	for i := range st.nodes {
		plans[i] = planNode(entries, trees[i])
	}
	streams := st.startStreams(entries, plans)
	return st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		var stream io.Reader // nil, not a nil *castReader, when nothing is sent
		if r := streams[n.Rank]; r != nil {
			defer r.stop() // a node that gave up no longer holds the others back
			stream = r
		}
		return st.syncNode(ctx, n, plans[n.Rank], stream, started)
	})
}

// uploadEntries lists what goes to the nodes, described as the nodes'
// listings describe what they have.
func (st *state) uploadEntries() ([]tarEntry, error) {
	files, err := workspaceFiles(st.opts.Workspace, st.opts.OutputDir)
	if err != nil {
		return nil, err
	}
	extra, err := st.extraEntries()
	if err != nil {
		return nil, err
	}
	entries := make([]tarEntry, 0, len(files)+len(extra))
	for _, f := range files {
		if f == uploadedRunnable {
			continue // ours wins: it is the runnable this run was given
		}
		entries = append(entries, tarEntry{name: f, root: st.opts.Workspace, rel: filepath.FromSlash(f)})
	}
	entries = append(entries, extra...)
	for i := range entries {
		if err := entries[i].describe(); err != nil {
			return nil, fmt.Errorf("read the workspace: %w", err)
		}
	}
	return entries, nil
}

// syncNode brings one node's tree in line with its plan, then writes the
// secrets INI.
func (st *state) syncNode(ctx context.Context, n cloud.Node, p uploadPlan, stream io.Reader, started int64) error {
	c, l := st.conns[n.Rank], st.layout[n.Rank]
	if err := prune(ctx, c, l.Work, p); err != nil {
		return err
	}
	if stream != nil {
		if err := unpack(ctx, c, l.Work, stream, started); err != nil {
			return fmt.Errorf("upload the workspace: %w", err)
		}
	}
	if len(st.opts.SecretsINI) == 0 {
		return nil
	}
	dir := path.Dir(l.Secrets)
	if err := c.Run(ctx, "umask 077 && mkdir -p "+shell.Quote(dir), remote.RunOptions{}); err != nil {
		return fmt.Errorf("make the secrets directory: %w", err)
	}
	if err := c.WriteFile(ctx, l.Secrets, 0o600, st.opts.SecretsINI); err != nil {
		return fmt.Errorf("write the secrets INI: %w", err)
	}
	return nil
}

// extractScript unpacks the tar stream on stdin into the directory, then
// stamps it with the upload's start (see vouchedByTime), only once every
// file is in place. Permissions are the archive's: tar run by anyone but
// root would mask them with the login's umask, and a file sent as 0664
// would land as 0644 and never match its source again.
const extractScript = `mkdir -p -- %[1]s && tar -x --no-same-owner --same-permissions -f - -C %[1]s || exit
printf '%%s\n' %[3]d > %[2]s.tmp && mv -f -- %[2]s.tmp %[2]s`

// unpack extracts the tar stream into dir on the node, in the same
// session as its stamp: no round trip beyond the stream's.
func unpack(ctx context.Context, c *remote.Client, dir string, stream io.Reader, started int64) error {
	// Run's error carries the last line tar wrote to stderr, the reason.
	script := fmt.Sprintf(extractScript, shell.Quote(dir), shell.Quote(verifiedPath(dir)), started)
	return c.Run(ctx, script, remote.RunOptions{Stdin: stream})
}

// removeSecrets deletes the INI from every node; on EC2 the node is about
// to go too, but a local node is this machine, and /dev/shm outlives us.
func removeSecrets(ctx context.Context, st *state) error {
	if st.terminating() {
		return nil // it was in the RAM of instances that no longer exist
	}
	return st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		if n.Rank >= len(st.conns) || st.conns[n.Rank] == nil {
			return nil
		}
		dir := path.Dir(st.layout[n.Rank].Secrets)
		err := st.conns[n.Rank].Run(ctx, "rm -rf "+shell.Quote(dir), remote.RunOptions{})
		if err != nil && st.reclaimed(n.Rank) {
			// EC2 reclaimed the node: the INI was in the RAM of an
			// instance that is gone or going, not on a disk it leaves.
			st.logf("sear: %s, which EC2 interrupted, could not be reached to remove the secrets INI; it was in the instance's RAM, which went with it", n.Name)
			return nil
		}
		return err
	})
}

// reclaimed says whether EC2 interrupted the node of rank while the job
// ran.
func (st *state) reclaimed(rank int) bool {
	for _, in := range st.result.Interruptions {
		if in.Rank == rank {
			return true
		}
	}
	return false
}

// workspaceFiles lists what to upload: in a git work tree, the files git
// would commit (tracked, and untracked but not ignored), so .gitignore is
// honoured; elsewhere every regular file and symlink. The output directory
// is never uploaded back.
func workspaceFiles(root, outputDir string) ([]string, error) {
	skip := ""
	if rel, err := filepath.Rel(root, outputDir); err == nil && !strings.HasPrefix(rel, "..") {
		skip = filepath.ToSlash(rel)
	}
	files, err := gitFiles(root)
	if err != nil {
		files, err = walkFiles(root)
	}
	if err != nil {
		return nil, fmt.Errorf("list the workspace %s: %w", root, err)
	}
	out := files[:0]
	for _, f := range files {
		if skip != "" && skip != "." && (f == skip || strings.HasPrefix(f, skip+"/")) {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

func gitFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range bytes.Split(out, []byte{0}) {
		if len(f) > 0 {
			if _, err := os.Lstat(filepath.Join(root, string(f))); err == nil {
				files = append(files, string(f))
			}
		}
	}
	return files, nil
}

// walkFiles lists every file under root but what its .gitignore files
// (and .git/info/exclude) ignore, read with go-git: where git itself is
// missing (the action's image has none) or root is no work tree, the
// ignore list still holds, the big datasets it names included.
func walkFiles(root string) ([]string, error) {
	patterns, err := gitignore.ReadPatterns(osfs.New(root), nil)
	if err != nil {
		return nil, fmt.Errorf("read the .gitignore files: %w", err)
	}
	ignored := gitignore.NewMatcher(patterns)
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		if ignored.Match(strings.Split(filepath.ToSlash(rel), "/"), d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// tarEntry is one file of the upload: a file under root, or data.
type tarEntry struct {
	name      string // the path in the archive, slash-separated
	root, rel string // the file on this machine, if data is nil
	data      []byte

	// What describe found, in the terms of nodeFile.
	kind  byte // 'f' regular file, 'l' symlink, '?' anything else
	mode  fs.FileMode
	size  int64
	mtime int64 // Unix seconds, rounded as the archive stores them; 0 for data
	link  string
	sum   string // sha256 of the content, hex; set only where a node hashed its copy
}

// describe fills in the entry's kind, permissions, size and link target.
func (e *tarEntry) describe() error {
	if e.data != nil {
		e.kind, e.mode, e.size = 'f', 0o644, int64(len(e.data))
		return nil
	}
	p := filepath.Join(e.root, e.rel)
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	e.kind, e.mode, e.size, e.mtime = '?', info.Mode().Perm(), info.Size(), info.ModTime().Round(time.Second).Unix()
	switch {
	case info.Mode().IsRegular():
		e.kind = 'f'
	case info.Mode()&fs.ModeSymlink != 0:
		e.kind = 'l'
		e.link, err = os.Readlink(p)
	}
	return err
}

// hash sets the entry's content hash.
func (e *tarEntry) hash() error {
	h := sha256.New()
	if e.data != nil {
		h.Write(e.data)
	} else {
		f, err := os.Open(filepath.Join(e.root, e.rel))
		if err != nil {
			return err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", e.name, err)
		}
	}
	e.sum = hex.EncodeToString(h.Sum(nil))
	return nil
}

// writeTar streams the entries as a tar archive. Parent directories are
// made by the extracting tar itself.
func writeTar(w io.Writer, entries []tarEntry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		var err error
		if e.data != nil {
			err = addData(tw, e.name, e.data)
		} else {
			err = addFile(tw, filepath.Join(e.root, e.rel), e.name)
		}
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

func addData(tw *tar.Writer, name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func addFile(tw *tar.Writer, p, name string) error {
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	// Permission bits only: setuid and setgid would be kept by the
	// extracting tar, which preserves modes, and a workspace has no use
	// for them on a node. Whole seconds, as describe records them: a
	// sub-second time would make tar.Writer use PAX, 1 KiB more a file.
	hdr.Mode &= 0o777
	hdr.ModTime = info.ModTime().Round(time.Second)
	hdr.Name, hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = name, "", "", 0, 0
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// streamChunk is the size of the pieces the tar stream is cut into: each
// becomes a few full SSH packets, where tar's own writes (a 512-byte
// header per file) would each become a packet of their own.
const streamChunk = 256 << 10

// startStreams starts one tar stream per set of nodes that need the same
// files, and returns each node's reader (nil for a node that needs
// nothing).
func (st *state) startStreams(entries []tarEntry, plans []uploadPlan) []*castReader {
	groups := map[string][]int{} // the files sent → the ranks that need them
	var order []string
	for rank, p := range plans {
		if len(p.send) == 0 {
			continue
		}
		key := fmt.Sprint(p.send)
		if groups[key] == nil {
			order = append(order, key)
		}
		groups[key] = append(groups[key], rank)
	}
	readers := make([]*castReader, len(plans))
	if len(order) == 0 {
		st.logf("sear: nothing to send: every node has these files already")
	}
	for _, key := range order {
		ranks := groups[key]
		send := plans[ranks[0]].send
		picked := make([]tarEntry, len(send))
		var size int64
		for i, k := range send {
			picked[i] = entries[k]
			size += entries[k].size
		}
		st.logf("sear: sending %d of %d files (%s) to %d node(s)", len(send), len(entries), byteSize(size), len(ranks))
		b := newBroadcast(len(ranks))
		for i, rank := range ranks {
			readers[rank] = b.readers[i]
		}
		go func() {
			w := bufio.NewWriterSize(b, streamChunk)
			err := writeTar(w, picked)
			if err == nil {
				err = w.Flush()
			}
			b.closeWithError(err)
		}()
	}
	return readers
}

// byteSize is n in the largest binary unit under 1024 of it.
func byteSize(n int64) string {
	const units = "KMGT"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
