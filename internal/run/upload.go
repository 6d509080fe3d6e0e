package run

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"github.com/sear-ci/sear/internal/shell"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/remote"
)

// upload sends the workspace to every node (factories import the job's
// code too, as Dask workers and Flambé's remote stages do) and the secrets
// INI to a RAM-backed file only its user can read.
func upload(ctx context.Context, st *state) error {
	files, err := workspaceFiles(st.opts.Workspace, st.opts.OutputDir)
	if err != nil {
		return err
	}
	extra, err := st.extraEntries()
	if err != nil {
		return err
	}
	entries := make([]tarEntry, 0, len(files)+len(extra))
	for _, f := range files {
		if f == uploadedRunnable {
			continue // ours wins: it is the runnable this run was given
		}
		entries = append(entries, tarEntry{name: f, root: st.opts.Workspace, rel: filepath.FromSlash(f)})
	}
	entries = append(entries, extra...)
	st.logf("sear: uploading %d files from %s", len(files), st.opts.Workspace)
	return st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTar(pw, entries)) }()
		c, l := st.conns[n.Rank], st.layout[n.Rank]
		if err := c.Upload(ctx, l.Work, pr); err != nil {
			pr.CloseWithError(err)
			return fmt.Errorf("upload the workspace: %w", err)
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
	})
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
		return st.conns[n.Rank].Run(ctx, "rm -rf "+shell.Quote(dir), remote.RunOptions{})
	})
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

func walkFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
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
