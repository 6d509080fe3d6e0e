package run

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testExtractor(t *testing.T, dir string, maxBytes int64, maxFiles int) *extractor {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := newExtractor(root, maxBytes, maxFiles)
	t.Cleanup(x.close)
	return x
}

func countFiles(t *testing.T, dir string) (n int) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			n++
		}
		return nil
	})
	return n
}

// Threat: a job (or a node) that writes a dataset, a virtualenv or an
// endless stream into its outputs fills the runner's disk and inodes.
// Defence: past max files nothing more is written, and the result says
// what was kept of how much, and which input to raise.
func TestExtractStopsAtMaxFiles(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	var entries []entry
	entries = append(entries, entry{Name: "logs", Type: tar.TypeDir})
	for i := range 11 {
		entries = append(entries, entry{Name: fmt.Sprintf("logs/%02d.txt", i), Body: "0123456789"})
	}
	x := testExtractor(t, out, 0, 10)
	stopped, err := x.extract(tarStream(t, entries...))
	if err != nil || stopped {
		t.Fatalf("stopped %v, err %v", stopped, err)
	}
	if n := countFiles(t, out); n != 10 {
		t.Errorf("%d files and directories written, want 10", n)
	}
	if len(x.files) != 9 {
		t.Errorf("files %v", x.files)
	}
	want := "kept 10 of 12 files and directories, 90 B of 110 B; raise max-output-files (10)"
	if got := x.cutReport(); got != want {
		t.Errorf("cut:\n%s\nwant:\n%s", got, want)
	}
}

// Defence, for bytes: a file that does not fit in what is left of max
// bytes is not written, and smaller ones after it (the metrics) still are.
func TestExtractStopsAtMaxBytes(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	big := strings.Repeat("x", 3000)
	x := testExtractor(t, out, 4096, 0)
	stopped, err := x.extract(tarStream(t,
		entry{Name: "a.ckpt", Body: big}, entry{Name: "b.ckpt", Body: big}, entry{Name: "metrics.json", Body: `{"acc":1}`}))
	if err != nil || stopped {
		t.Fatalf("stopped %v, err %v", stopped, err)
	}
	if strings.Join(x.files, ",") != "a.ckpt,metrics.json" {
		t.Errorf("files %v", x.files)
	}
	mustNotExist(t, filepath.Join(out, "b.ckpt"), "written past max bytes")
	want := "kept 2 of 3 files and directories, 2.9 KiB of 5.9 KiB; raise max-output-bytes (4.0 KiB)"
	if got := x.cutReport(); got != want {
		t.Errorf("cut:\n%s\nwant:\n%s", got, want)
	}
	if got := testExtractor(t, out, 0, 0).cutReport(); got != "" {
		t.Errorf("nothing was cut, and cutReport says %q", got)
	}
}

// endlessTar writes tar entries of size bytes each until its writer fails
// or ctx ends, as a hostile node could, and counts what it wrote.
func endlessTar(size int, written *atomic.Int64) func(context.Context, io.Writer) error {
	return func(ctx context.Context, w io.Writer) error {
		tw := tar.NewWriter(w)
		body := []byte(strings.Repeat("x", size))
		for i := 0; ; i++ {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%d", i), Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := tw.Write(body); err != nil {
				return err
			}
			written.Add(int64(size))
		}
	}
}

// Threat: a node that sends without end keeps collection (and the run's
// teardown after it) waiting forever. Defence: past the caps the stream
// is read only so far, then the download is cancelled, and the result
// says the totals are lower bounds.
func TestFetchCancelsAnEndlessStream(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1000, 0} {
		out := t.TempDir()
		x := testExtractor(t, out, 100_000, 50)
		var written atomic.Int64
		done := make(chan error, 1)
		go func() { done <- fetch(context.Background(), endlessTar(size, &written), x) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("fetch still reads an endless stream")
		}
		if n := written.Load(); n > 300_000 {
			t.Errorf("size %d: read %d bytes past caps of 100000", size, n)
		}
		if n := countFiles(t, out); n > 50 {
			t.Errorf("size %d: %d files written, more than max files", size, n)
		}
		cut := x.cutReport()
		if !strings.Contains(cut, "of at least") || !strings.Contains(cut, "raise max-output-files (50)") {
			t.Errorf("size %d: cut %q", size, cut)
		}
	}
}

// An extraction that ends at the stream's end returns the download's
// error only when it cut the stream short.
func TestFetchPassesTheDownloadsError(t *testing.T) {
	t.Parallel()
	x := testExtractor(t, t.TempDir(), 0, 0)
	boom := errors.New("tar: cannot open")
	err := fetch(context.Background(), func(context.Context, io.Writer) error { return boom }, x)
	if !errors.Is(err, boom) {
		t.Errorf("err %v", err)
	}
	// tar's padding after the end is not read: that the download then
	// fails writing it is no error.
	err = fetch(context.Background(), func(_ context.Context, w io.Writer) error {
		if _, err := io.Copy(w, tarStream(t, entry{Name: "a", Body: "a"})); err != nil {
			return err
		}
		_, err := w.Write(make([]byte, 10240))
		return err
	}, x)
	if err != nil || strings.Join(x.files, ",") != "a" {
		t.Errorf("files %v, err %v", x.files, err)
	}
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1 << 30: "1.0 GiB", 1395864371: "1.3 GiB", 5 << 40: "5.0 TiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
