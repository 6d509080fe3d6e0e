package run

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// The job's checkpoint directory, SEAR_CHECKPOINT_DIR: a directory on
// every node, made empty before the job starts, where a job saves what it
// needs to resume. When a spot interruption ends the job and the cluster
// has spot_retry, the orchestrator's is saved on this machine, through the
// same extractor as the outputs (no links, nothing outside it, the output
// caps), and restored on the orchestrator of the on-demand retry before
// its job starts. Factories get the variable too, for a job that keeps
// something there while it runs, but only the orchestrator's is kept.

// prepareCheckpoints makes every node's checkpoint directory, and fills
// the orchestrator's from Options.RestoreCheckpoint on a retry.
func (st *state) prepareCheckpoints(ctx context.Context) error {
	err := st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		dir := st.layout[n.Rank].Checkpoint
		return st.conns[n.Rank].Run(ctx, "rm -rf "+shell.Quote(dir)+" && mkdir -p "+shell.Quote(dir), remote.RunOptions{})
	})
	if err != nil || st.opts.RestoreCheckpoint == "" {
		return err
	}
	return st.restoreCheckpoint(ctx)
}

// restoreCheckpoint uploads Options.RestoreCheckpoint into the
// orchestrator's checkpoint directory.
func (st *state) restoreCheckpoint(ctx context.Context) error {
	dir := st.opts.RestoreCheckpoint
	names, err := walkFiles(dir)
	if err != nil {
		return fmt.Errorf("read the saved checkpoint %s: %w", dir, err)
	}
	if len(names) == 0 {
		st.logf("sear: the interrupted run saved no checkpoint: the job starts from the beginning")
		return nil
	}
	entries := make([]tarEntry, len(names))
	for i, f := range names {
		entries[i] = tarEntry{name: f, root: dir, rel: f}
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, entries)) }()
	l := st.layout[0]
	if err := unpack(ctx, st.conns[0], l.Checkpoint, pr, 0); err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("restore the checkpoint on %s: %w", st.nodes[0].Name, err)
	}
	st.result.CheckpointFiles = len(names)
	st.logf("sear: restored the interrupted run's checkpoint (%s) into SEAR_CHECKPOINT_DIR on %s", files(len(names)), st.nodes[0].Name)
	return nil
}

// saveCheckpoint brings the orchestrator's checkpoint directory back into
// Options.SaveCheckpoint, for the retry. A node already gone (EC2 ended
// it) is a warning: the retry then starts from the beginning.
func (st *state) saveCheckpoint(ctx context.Context) {
	dir := st.opts.SaveCheckpoint
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		st.logf("sear: warning: could not save the job's checkpoint: %v", err)
		return
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		st.logf("sear: warning: could not save the job's checkpoint: %v", err)
		return
	}
	x := newExtractor(root, st.opts.MaxOutputBytes, st.opts.MaxOutputFiles)
	defer x.close()
	l, c := st.layout[0], st.conns[0]
	err = fetch(ctx, func(ctx context.Context, w io.Writer) error { return c.Download(ctx, l.Checkpoint, []string{"."}, w) }, x)
	if err != nil {
		st.logf("sear: warning: could not save the job's checkpoint from %s (the retry starts from the beginning): %v", st.nodes[0].Name, err)
		return
	}
	st.result.CheckpointFiles = len(x.files)
	if cut := x.cutReport(); cut != "" {
		st.logf("sear: checkpoint: %s", cut)
	}
	st.logf("sear: saved the job's checkpoint from %s: %s", st.nodes[0].Name, files(len(x.files)))
}

// files is "1 file" or "n files".
func files(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}
