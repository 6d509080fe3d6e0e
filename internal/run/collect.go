package run

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sear-ci/sear/internal/report"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Metrics are the job's metrics.json, in the report's model: the run
// reads them, the report shows them, one type for both.
type (
	Metrics = report.Metrics
	Metric  = report.Metric
)

// collect brings the output directory and the cluster's outputs globs back
// to this machine, then reads metrics.json.
func collect(ctx context.Context, st *state) error {
	if err := os.MkdirAll(st.opts.OutputDir, 0o755); err != nil {
		return fmt.Errorf("make the output directory: %w", err)
	}
	l, c := st.layout[0], st.conns[0]
	if err := st.fetch(ctx, func(w io.Writer) error { return c.Download(ctx, l.Output, []string{"."}, w) }, ""); err != nil {
		return fmt.Errorf("bring back %s: %w", l.Output, err)
	}
	if globs := st.opts.Cluster.Outputs; len(globs) > 0 {
		if err := st.fetch(ctx, func(w io.Writer) error { return c.Download(ctx, l.Work, globs, w) }, ""); err != nil {
			return fmt.Errorf("bring back the outputs %v: %w", globs, err)
		}
	}
	m, err := ReadMetrics(filepath.Join(st.opts.OutputDir, "metrics.json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	st.result.Metrics = m
	return nil
}

func (st *state) fetch(ctx context.Context, download func(io.Writer) error, prefix string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(download(pw)) }()
	files, err := extract(pr, filepath.Join(st.opts.OutputDir, prefix))
	pr.CloseWithError(err)
	st.result.Outputs = append(st.result.Outputs, files...)
	return err
}

// extract unpacks a tar stream under dir, refusing any entry that would
// land outside it: the node is not trusted to write anywhere else.
func extract(r io.Reader, dir string) ([]string, error) {
	tr := tar.NewReader(r)
	var files []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return files, err
		}
		name := filepath.Clean(filepath.FromSlash(hdr.Name))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return files, fmt.Errorf("refusing output %q outside the output directory", hdr.Name)
		}
		if name == "." {
			continue
		}
		dst := filepath.Join(dir, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, 0o755)
		case tar.TypeReg:
			err = writeOutput(dst, tr, hdr.FileInfo().Mode().Perm())
			files = append(files, filepath.ToSlash(name))
		default:
			// Symlinks and devices from a node are not followed or made.
			continue
		}
		if err != nil {
			return files, err
		}
	}
}

func writeOutput(dst string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	// Remove first: an existing symlink at dst must not redirect the write.
	os.Remove(dst)
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode|0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}

// ReadMetrics reads a metrics.json. A malformed file is an error that says
// what the format is.
func ReadMetrics(path string) (Metrics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
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
