package run

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/extensions"
)

// uploadedRunnable is where the runnable the job reads lives on the nodes,
// relative to the job's working directory: the rewritten copy when git
// extensions were cloned, the file as given otherwise. A fixed name keeps
// a runnable that lives outside the workspace working too.
const uploadedRunnable = ".sear/runnable.yaml"

// fetchExtensions clones the runnable's git extensions on this machine,
// before anything costs money: a typo in a URL fails in seconds, not
// after the cluster came up. The nodes get the copies and need no git
// credentials.
func fetchExtensions(ctx context.Context, st *state) error {
	src := st.opts.Runnable.Source
	st.runnable = src
	var git int
	for _, e := range st.opts.Runnable.Extensions {
		if e.Kind == config.ExtGit {
			git++
		}
	}
	if git == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "sear-extensions-")
	if err != nil {
		return fmt.Errorf("make a directory for the extensions: %w", err)
	}
	st.extDir = dir
	st.logf("sear: cloning %d git extension(s)", git)
	set, err := extensions.Fetch(ctx, st.opts.Runnable.Extensions, extensions.Options{
		Dir: dir, NodeDir: extensions.DefaultNodeDir, Runnable: src,
		Token: st.opts.GitToken, TokenHost: st.opts.GitTokenHost,
		SSHAgentSocket: st.opts.SSHAgentSocket, Logf: st.logf,
	})
	if err != nil {
		return err
	}
	st.runnable, st.clones = set.Runnable, set.Clones
	return nil
}

func removeExtensions(_ context.Context, st *state) error {
	if st.extDir == "" {
		return nil
	}
	return os.RemoveAll(st.extDir)
}

// extraEntries are what the upload adds to the workspace: the clones
// under their node paths and the runnable under uploadedRunnable.
func (st *state) extraEntries() ([]tarEntry, error) {
	entries := []tarEntry{{name: uploadedRunnable, data: st.runnable}}
	for _, c := range st.clones {
		files, err := walkFiles(c.Dir)
		if err != nil {
			return nil, fmt.Errorf("list extension %s: %w", c.Name, err)
		}
		prefix := strings.TrimPrefix(c.NodePath, "./")
		for _, f := range files {
			entries = append(entries, tarEntry{name: path.Join(prefix, f), root: c.Dir, rel: filepath.FromSlash(f)})
		}
	}
	return entries, nil
}
