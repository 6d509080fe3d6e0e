package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seed adds every fixture as a fuzz seed.
func seed(f *testing.F, prefix string) {
	for _, dir := range []string{"ok", "err"} {
		files, _ := filepath.Glob(filepath.Join(goldenDir, dir, prefix+"*.yaml"))
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err == nil {
				f.Add(data)
			}
		}
	}
}

// checkErr holds for every error a parser returns: it is ours, it points
// inside the file, and its pretty form shows the line it names.
func checkErr(t *testing.T, data []byte, err error) {
	var es Errors
	var e *Error
	switch {
	case errors.As(err, &es):
		if len(es) == 0 {
			t.Fatal("empty Errors returned as an error")
		}
		for _, e := range es {
			checkOne(t, data, e)
		}
	case errors.As(err, &e):
		checkOne(t, data, e)
	default:
		t.Fatalf("error of type %T: %v", err, err)
	}
}

func checkOne(t *testing.T, data []byte, e *Error) {
	lines := len(splitLines(string(data)))
	if e.Line < 0 || e.Line > lines+1 || e.Col < 0 {
		t.Fatalf("position %d:%d outside a file of %d lines: %v", e.Line, e.Col, lines, e)
	}
	if e.Msg == "" {
		t.Fatal("error without a message")
	}
	_ = e.Pretty()
}

// bounded fails the fuzz input when parsing takes far longer than it
// should, so a hang is saved as a failing input instead of stalling the
// fuzzer with no report.
func bounded[T any](t *testing.T, data []byte, parse func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := parse()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("parsing %d bytes took over 20s: %q", len(data), data)
	}
	panic("unreachable")
}

func FuzzParseCluster(f *testing.F) {
	seed(f, "cluster_")
	f.Add([]byte(clusterLaughs()))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := bounded(t, data, func() (*Cluster, error) { return ParseCluster("fuzz.yaml", data) })
		if err != nil {
			checkErr(t, data, err)
			return
		}
		if c.Kind != AWS && c.Kind != Local {
			t.Fatalf("accepted a cluster of kind %q", c.Kind)
		}
		if c.MaxDuration <= 0 || c.ReadyTimeout <= 0 || c.FactoriesNum < 0 {
			t.Fatalf("accepted impossible values: %+v", c)
		}
	})
}

func FuzzParseRunnable(f *testing.F) {
	seed(f, "runnable_")
	f.Add([]byte(scriptLaughs()))
	f.Add([]byte(kwargsLaughs()))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := bounded(t, data, func() (*Runnable, error) { return ParseRunnable("fuzz.yaml", data) })
		if err != nil {
			checkErr(t, data, err)
			return
		}
		if r.Kind == KindScript && (r.Script == nil || !pythonModule.MatchString(r.Script.Module)) {
			t.Fatalf("accepted a script without a module: %+v", r.Script)
		}
		if r.Kind != KindScript && r.Kind != KindFlambe {
			t.Fatalf("accepted a runnable of kind %q", r.Kind)
		}
	})
}
