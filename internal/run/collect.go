package run

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/report"
)

// Metrics are the job's metrics.json, in the report's model: the run
// reads them, the report shows them, one type for both.
type (
	Metrics = report.Metrics
	Metric  = report.Metric
)

// The caps on what collection writes into the output directory when
// Options leaves them zero. The node is not trusted, and a job that writes
// a dataset or a virtualenv into its outputs by mistake must not fill the
// runner: a GitHub-hosted runner has about 14 GB of free disk, which the
// later steps need too, and the outputs usually go on to
// actions/upload-artifact. A gibibyte holds metrics, logs, plots and a
// small model (checkpoints belong in the job's own storage); ten thousand
// files and directories is hundreds of times what a run usually brings
// back, and bounds the inodes and the per-file work of the steps after.
const (
	DefaultMaxOutputBytes int64 = 1 << 30
	DefaultMaxOutputFiles       = 10_000
)

// collect brings the output directory and the cluster's outputs globs back
// to this machine, then reads metrics.json. Everything lands through one
// extractor, so the caps hold for both downloads together.
func collect(ctx context.Context, st *state) error {
	root, err := openOutputDir(st.opts.OutputDir, st.opts.OutputBase, true)
	if err != nil {
		return err
	}
	x := newExtractor(root, st.opts.MaxOutputBytes, st.opts.MaxOutputFiles)
	defer x.close()
	err = st.download(ctx, x)
	st.result.Outputs = append(st.result.Outputs, x.files...)
	st.result.OutputsCut, st.result.OutputsSkipped = x.cutReport(), x.skipped
	for _, s := range x.skipped {
		st.logf("sear: outputs: %s", s)
	}
	if st.result.OutputsCut != "" {
		st.logf("sear: outputs: %s", st.result.OutputsCut)
	}
	if err != nil {
		return err
	}
	m, err := readMetrics(root, filepath.Join(st.opts.OutputDir, "metrics.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	st.result.Metrics = m
	return nil
}

func (st *state) download(ctx context.Context, x *extractor) error {
	l, c := st.layout[0], st.conns[0]
	if err := fetch(ctx, func(ctx context.Context, w io.Writer) error { return c.Download(ctx, l.Output, []string{"."}, w) }, x); err != nil {
		return fmt.Errorf("bring back %s: %w", l.Output, err)
	}
	if globs := st.opts.Cluster.Outputs; len(globs) > 0 {
		if err := fetch(ctx, func(ctx context.Context, w io.Writer) error { return c.Download(ctx, l.Work, globs, w) }, x); err != nil {
			return fmt.Errorf("bring back the outputs %v: %w", globs, err)
		}
	}
	return nil
}

// downloadGrace is how long a download that sent its whole tar stream gets
// to end by itself (tar pads its last record, which nobody reads) before
// it is cancelled.
const downloadGrace = 10 * time.Second

// errStopped ends what the node still sends once extraction is done.
var errStopped = errors.New("sear stopped reading the outputs")

// fetch extracts what download writes, and ends the download when
// extraction stops (the stream's end, a cap, an error) and waits for it,
// so the node's tar neither outlives collection nor is drained past the
// caps. The download's own error only matters when it cut the stream
// short, and then extraction reads it from the pipe.
func fetch(ctx context.Context, download func(context.Context, io.Writer) error, x *extractor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(download(ctx, pw))
	}()
	stopped, err := x.extract(pr)
	pr.CloseWithError(errStopped)
	if !stopped && err == nil {
		t := time.NewTimer(downloadGrace)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	cancel()
	<-done
	return err
}

// SkippedOutputs are the node's entries of one kind that collection did
// not write, such as symlinks.
type SkippedOutputs struct {
	Kind  string   // what they are, plural: "links", "devices and fifos"
	Why   string   // why they were not written, for the reader
	Count int      // how many
	Names []string // the first few, slash-separated, relative to the output directory
}

func (s SkippedOutputs) String() string {
	names := strings.Join(s.Names, ", ")
	if more := s.Count - len(s.Names); more > 0 {
		names += fmt.Sprintf(" and %d more", more)
	}
	return fmt.Sprintf("%d %s not written (%s): %s", s.Count, s.Kind, names, s.Why)
}

// The kinds of entry that are never written, with why.
var (
	skipLink    = SkippedOutputs{Kind: "links", Why: "sear never creates symlinks or hard links, since one could lead a later write, or a later step, outside the output directory"}
	skipSpecial = SkippedOutputs{Kind: "devices and fifos", Why: "they are not outputs"}
	skipOther   = SkippedOutputs{Kind: "entries of other types", Why: "only regular files and directories are outputs"}
	skipGit     = SkippedOutputs{Kind: ".git entries", Why: "git runs the hooks and the commands in a .git directory's config, so sear never writes one"}
	skipInWay   = SkippedOutputs{Kind: "entries in the way", Why: "a file or a directory of the same name, of the other kind, is already in the output directory; remove it, or use an output-dir of its own"}
)

// skippedNames is how many names of each kind are kept for the report.
const skippedNames = 5

// skipError says an entry is not written, and of what kind it is.
type skipError struct{ kind *SkippedOutputs }

func (e skipError) Error() string { return e.kind.Kind + ": " + e.kind.Why }

// errFilesCap and errBytesCap cut an entry that does not fit.
var (
	errFilesCap = errors.New("max output files reached")
	errBytesCap = errors.New("max output bytes reached")
)

// extractor writes tar entries into the output directory, through an
// os.Root, and never through a symlink: a link already there (committed
// by a pull request, or left by an earlier step) is replaced, never
// followed, even one that stays inside the root, because following it
// would write a file the job did not write, such as the metrics.json the
// report reads, or a file a later step runs. The node is not trusted
// either: links, devices and .git entries from it are skipped, and
// writing stops at the caps.
type extractor struct {
	root *os.Root // the output directory
	// cur is the directory the last entry went in, relative to the output
	// directory: the node's tar lists a directory's files together.
	cur     *os.Root
	curName string

	maxBytes int64
	maxFiles int
	files    []string // written, slash-separated, relative to the output directory

	kept, cut           int   // files and directories written, and cut by a cap
	keptBytes, cutBytes int64 // their sizes
	ignored             int   // entries cut or skipped: read past, not written
	filesFull           bool  // max files cut something
	bytesFull           bool  // max bytes cut something
	partial             bool  // reading stopped before a stream's end
	skipped             []SkippedOutputs
}

func newExtractor(root *os.Root, maxBytes int64, maxFiles int) *extractor {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxOutputBytes
	}
	if maxFiles <= 0 {
		maxFiles = DefaultMaxOutputFiles
	}
	return &extractor{root: root, maxBytes: maxBytes, maxFiles: maxFiles}
}

func (x *extractor) close() {
	if x.cur != nil {
		x.cur.Close()
	}
	x.root.Close()
}

// extract unpacks a tar stream into the output directory, refusing any
// entry that would land outside it: the node is not trusted to write
// anywhere else. stopped says it quit reading before the stream's end.
func (x *extractor) extract(r io.Reader) (stopped bool, err error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		name := filepath.Clean(filepath.FromSlash(hdr.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return false, fmt.Errorf("refusing output %q outside the output directory", hdr.Name)
		}
		if name == "." || hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		var size int64
		switch {
		case hasDotGit(name):
			err = skipError{&skipGit}
		case hdr.Typeflag == tar.TypeDir:
			_, err = x.dir(name)
		case hdr.Typeflag == tar.TypeReg:
			size = hdr.Size
			err = x.file(name, tr, size, hdr.FileInfo().Mode().Perm())
		case hdr.Typeflag == tar.TypeSymlink, hdr.Typeflag == tar.TypeLink:
			err = skipError{&skipLink}
		case hdr.Typeflag == tar.TypeChar, hdr.Typeflag == tar.TypeBlock, hdr.Typeflag == tar.TypeFifo:
			err = skipError{&skipSpecial}
		default:
			err = skipError{&skipOther}
		}
		var skip skipError
		switch {
		case errors.Is(err, errFilesCap), errors.Is(err, errBytesCap):
			x.filesFull = x.filesFull || errors.Is(err, errFilesCap)
			x.bytesFull = x.bytesFull || errors.Is(err, errBytesCap)
			x.cut++
			x.cutBytes += size
		case errors.As(err, &skip):
			x.skip(*skip.kind, filepath.ToSlash(name))
		case err != nil:
			return false, err
		default:
			continue
		}
		x.ignored++
		if x.pastBudget() {
			return true, nil
		}
	}
}

// pastBudget says reading should stop. Past a cap the stream is still read,
// for the report's totals, but only so far: cut files' bodies up to one
// more max bytes (a body that would go past it is not read at all), and
// entries not written up to ten times max files (their headers are half a
// kilobyte). A node that sends without end is cut off there.
func (x *extractor) pastBudget() bool {
	if x.cutBytes > x.maxBytes || x.ignored > 10*x.maxFiles {
		x.partial = true
	}
	return x.partial
}

func (x *extractor) skip(kind SkippedOutputs, name string) {
	for i := range x.skipped {
		if s := &x.skipped[i]; s.Kind == kind.Kind {
			s.Count++
			if len(s.Names) < skippedNames {
				s.Names = append(s.Names, name)
			}
			return
		}
	}
	kind.Count, kind.Names = 1, []string{name}
	x.skipped = append(x.skipped, kind)
}

// file writes the regular file name from r. Whatever is at its place
// (a file, or a symlink) is removed first, then the file is created with
// O_EXCL, which fails rather than follows a link that appeared there since.
func (x *extractor) file(name string, r io.Reader, size int64, perm fs.FileMode) error {
	if size > x.maxBytes-x.keptBytes {
		return errBytesCap
	}
	d, err := x.dir(filepath.Dir(name))
	if err != nil {
		return err
	}
	if x.kept >= x.maxFiles {
		return errFilesCap
	}
	base := filepath.Base(name)
	fi, err := d.Lstat(base)
	switch {
	case err == nil && fi.IsDir():
		return skipError{&skipInWay}
	case err == nil:
		if err := d.Remove(base); err != nil {
			return fmt.Errorf("replace %s in the output directory: %w", name, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("write %s in the output directory: %w", name, err)
	}
	f, err := d.OpenFile(base, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm|0o600)
	if err != nil {
		return fmt.Errorf("write %s in the output directory: %w", name, err)
	}
	x.kept++
	x.keptBytes += size
	x.files = append(x.files, filepath.ToSlash(name))
	_, err = io.Copy(f, r)
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("write %s in the output directory: %w", name, err)
	}
	return nil
}

// dir opens the directory name, relative to the output directory, making
// what is missing, never through a symlink. It keeps the last one open,
// and starts from it when name is inside it.
func (x *extractor) dir(name string) (*os.Root, error) {
	if name == "." {
		return x.root, nil
	}
	if x.cur != nil && name == x.curName {
		return x.cur, nil
	}
	d, dName := x.root, "."
	rest := name
	if x.cur != nil && strings.HasPrefix(name, x.curName+string(filepath.Separator)) {
		d, dName, rest = x.cur, x.curName, name[len(x.curName)+1:]
	}
	for _, elem := range strings.Split(rest, string(filepath.Separator)) {
		dName = filepath.Join(dName, elem)
		next, err := x.subdir(d, elem, dName)
		if d != x.root && d != x.cur {
			d.Close()
		}
		if err != nil {
			return nil, err
		}
		d = next
	}
	if x.cur != nil {
		x.cur.Close()
	}
	x.cur, x.curName = d, name
	return d, nil
}

// subdir opens elem in parent (name in the output directory), making it if
// it is missing or replacing a symlink at its place. A directory made
// counts against max files.
func (x *extractor) subdir(parent *os.Root, elem, name string) (*os.Root, error) {
	fi, err := parent.Lstat(elem)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if err := parent.Remove(elem); err != nil {
			return nil, fmt.Errorf("replace the symlink %s in the output directory: %w", name, err)
		}
		err = fs.ErrNotExist
	}
	if errors.Is(err, fs.ErrNotExist) {
		if x.kept >= x.maxFiles {
			return nil, errFilesCap
		}
		if err := parent.Mkdir(elem, 0o755); err != nil {
			return nil, fmt.Errorf("make %s in the output directory: %w", name, err)
		}
		x.kept++
		fi, err = parent.Lstat(elem)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s in the output directory: %w", name, err)
	}
	if !fi.IsDir() {
		return nil, skipError{&skipInWay}
	}
	return openSeen(parent, elem, fi)
}

// openSeen opens the directory elem that Lstat saw as fi. Root.OpenRoot
// follows a symlink that stays inside the root; checking that what opened
// is what Lstat saw keeps a link swapped in between from being followed.
func openSeen(parent *os.Root, elem string, fi fs.FileInfo) (*os.Root, error) {
	r, err := parent.OpenRoot(elem)
	if err != nil {
		return nil, err
	}
	if got, err := r.Stat("."); err != nil || !os.SameFile(fi, got) {
		r.Close()
		return nil, fmt.Errorf("%s changed while sear opened it (to a symlink?); sear does not write through one", elem)
	}
	return r, nil
}

// cutReport says, for the reader, what the caps cut and which input
// raises them; empty when nothing was.
func (x *extractor) cutReport() string {
	if !x.filesFull && !x.bytesFull && !x.partial {
		return ""
	}
	if !x.filesFull && !x.bytesFull {
		return fmt.Sprintf("kept %d files and directories, %s, then stopped reading the node's outputs after %d entries that sear does not write",
			x.kept, formatBytes(x.keptBytes), x.ignored)
	}
	atLeast := ""
	if x.partial {
		atLeast = "at least "
	}
	s := fmt.Sprintf("kept %d of %s%d files and directories, %s of %s%s", x.kept, atLeast, x.kept+x.cut,
		formatBytes(x.keptBytes), atLeast, formatBytes(x.keptBytes+x.cutBytes))
	var raise []string
	if x.filesFull {
		raise = append(raise, fmt.Sprintf("max-output-files (%d)", x.maxFiles))
	}
	if x.bytesFull {
		raise = append(raise, fmt.Sprintf("max-output-bytes (%s)", formatBytes(x.maxBytes)))
	}
	return s + "; raise " + strings.Join(raise, " and ")
}

// formatBytes writes n in binary units, as the caps' defaults are.
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, unit := float64(n)/1024, 0
	for f >= 1024 && unit < 3 {
		f, unit = f/1024, unit+1
	}
	return fmt.Sprintf("%.1f %s", f, [...]string{"KiB", "MiB", "GiB", "TiB"}[unit])
}

// hasDotGit says whether a path element names a .git directory on some
// file system sear's outputs may land on: case-insensitively (macOS and
// Windows), with the trailing dots and spaces Windows drops, and as the
// 8.3 short name git~1. action's output-dir check is the same test.
func hasDotGit(name string) bool {
	for _, elem := range strings.Split(filepath.ToSlash(name), "/") {
		elem = strings.TrimRight(elem, ". ")
		if strings.EqualFold(elem, ".git") || strings.EqualFold(elem, "git~1") {
			return true
		}
	}
	return false
}

// openOutputDir opens the output directory as a root, making it (and,
// without base, its parents) if create is set. Neither it nor, with base
// (the workspace, which a pull request fills), a directory between base
// and it may be a symlink: a pull request could commit `sear-output -> ..`
// or a link into .git, and every output would land there.
func openOutputDir(dir, base string, create bool) (*os.Root, error) {
	dir = filepath.Clean(dir)
	var rel string
	if base == "" {
		// The parents are the caller's own choice, not the repository's.
		base, rel = filepath.Dir(dir), filepath.Base(dir)
		if base == dir {
			rel = "."
		}
		if create {
			if err := os.MkdirAll(base, 0o755); err != nil {
				return nil, fmt.Errorf("make %s, where the output directory goes: %w", base, err)
			}
		}
	} else {
		base = filepath.Clean(base)
		r, err := filepath.Rel(base, dir)
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("the output directory %s is not inside %s; give one inside it", dir, base)
		}
		rel = r
	}
	d, err := os.OpenRoot(base)
	if err != nil {
		return nil, fmt.Errorf("open %s, where the output directory goes: %w", base, err)
	}
	if rel == "." {
		return d, nil
	}
	walked := base
	for _, elem := range strings.Split(rel, string(filepath.Separator)) {
		walked = filepath.Join(walked, elem)
		next, err := outputSubdir(d, elem, walked, dir, create)
		d.Close()
		if err != nil {
			return nil, err
		}
		d = next
	}
	return d, nil
}

// outputSubdir opens elem, the directory path on the way to (or at) the
// output directory dir, refusing a symlink.
func outputSubdir(parent *os.Root, elem, path, dir string, create bool) (*os.Root, error) {
	fi, err := parent.Lstat(elem)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err = parent.Mkdir(elem, 0o755); err == nil || errors.Is(err, fs.ErrExist) {
			fi, err = parent.Lstat(elem)
		}
	}
	what := "the output directory " + dir
	if path != dir {
		what = fmt.Sprintf("%s, on the way to the output directory %s,", path, dir)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("open the output directory %s: %w", dir, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s is a symlink, and sear never writes outputs through one, since a pull request can commit a link into .git or out of the workspace: "+
			"remove the link, or, if you made it, give output-dir as the directory it points to", what)
	case !fi.IsDir():
		return nil, fmt.Errorf("%s is not a directory: remove it, or give output-dir as another path", what)
	}
	r, err := openSeen(parent, elem, fi)
	if err != nil {
		return nil, fmt.Errorf("open the output directory %s: %w", dir, err)
	}
	return r, nil
}

// CheckOutputDir refuses, before anything is launched, an output directory
// that collection would refuse (a symlink, or one under a symlink below
// OutputBase), so no job runs for outputs that cannot land. A missing one
// is fine: collection makes it.
func (o Options) CheckOutputDir() error {
	r, err := openOutputDir(o.OutputDir, o.OutputBase, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.Close()
}

// readMetrics reads metrics.json in the output directory, shown as path,
// and only the regular file there: a symlink committed in its place would
// put another file's contents (or, in the error, its keys) in the report.
func readMetrics(root *os.Root, path string) (Metrics, error) {
	fi, err := root.Lstat("metrics.json")
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (a symlink?), and sear reads only the metrics.json the job writes: remove it from the output directory", path)
	}
	f, err := root.Open("metrics.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		return nil, fmt.Errorf("%s changed while sear opened it; sear reads only the metrics.json the job writes", path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseMetrics(path, data)
}

// ReadMetrics reads a metrics.json. A malformed file is an error that says
// what the format is.
func ReadMetrics(path string) (Metrics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseMetrics(path, data)
}

func parseMetrics(path string, data []byte) (Metrics, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object of metric names to numbers or lists of numbers: %w", path, err)
	}
	m := Metrics{}
	var bad []string
	for name, v := range raw {
		metric, ok := parseMetric(v)
		if !ok {
			bad = append(bad, name)
			continue
		}
		m[name] = metric
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return m, fmt.Errorf("%s: metrics %s must be a number or a list of numbers", path, strings.Join(bad, ", "))
	}
	return m, nil
}

func parseMetric(v json.RawMessage) (Metric, bool) {
	// encoding/json leaves a number untouched for a null: a metric the job
	// wrote as null would read as 0, a measurement it never made.
	if string(bytes.TrimSpace(v)) == "null" {
		return Metric{}, false
	}
	var f float64
	if err := json.Unmarshal(v, &f); err == nil && !math.IsNaN(f) {
		return Metric{Value: &f}, true
	}
	var s []float64
	if err := json.Unmarshal(v, &s); err == nil {
		return Metric{Series: s}, true
	}
	return Metric{}, false
}
