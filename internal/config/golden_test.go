package config

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/config")

// goldenDir is relative to this package; paths in error messages are
// written from the repository root so the golden text reads as a user sees it.
const goldenDir = "../../testdata/config"

// load parses a fixture as a cluster or a runnable, by its name's prefix.
func load(t *testing.T, path string) (any, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(path, "../../")
	if strings.HasPrefix(filepath.Base(path), "cluster_") {
		return ParseCluster(name, data)
	}
	return ParseRunnable(name, data)
}

func TestGoldenOK(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "ok", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/config/ok")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v, err := load(t, f)
			if err != nil {
				var es Errors
				if errors.As(err, &es) {
					t.Fatalf("want no error, got:\n%s", es.Pretty())
				}
				t.Fatalf("want no error, got: %v", err)
			}
			if r, ok := v.(*Runnable); ok {
				r.Root, r.ExtensionsDoc = nil, nil
			}
			got, _ := json.MarshalIndent(v, "", "  ")
			compareGolden(t, strings.TrimSuffix(f, ".yaml")+".json", append(got, '\n'))
		})
	}
}

func TestGoldenErr(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "err", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/config/err")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := load(t, f)
			if err == nil {
				t.Fatal("want an error, got none")
			}
			compareGolden(t, strings.TrimSuffix(f, ".yaml")+".out", []byte(pretty(err)+"\n"))
		})
	}
}

func pretty(err error) string {
	var es Errors
	if errors.As(err, &es) {
		return es.Pretty()
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Pretty()
	}
	return err.Error()
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/config -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
