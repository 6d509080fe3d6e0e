package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testStock builds (or finds) the stock variant; the build is set-up and may take minutes.
func testStock(t *testing.T) Stock {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	st, err := EnsureStock(ctx, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestStockImageLacksThePythonPackages: the stock variant has python3 and none of what a
// bootstrap installs, and its repository holds every one of them with an index apt reads.
func TestStockImageLacksThePythonPackages(t *testing.T) {
	t.Parallel()
	st := testStock(t)
	out, err := exec.Command("docker", "run", "--rm", "--entrypoint", "/bin/sh", st.Ref, "-c", `
python3 -c 'print("python3 ok")'
python3 -c 'import distributed' 2>/dev/null && echo has distributed
python3 -c 'import ensurepip' 2>/dev/null && echo has venv
python3 -m pip --version >/dev/null 2>&1 && echo has pip
grep -v '^#' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep . && echo has sources
true`).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "python3 ok" {
		t.Errorf("the stock image: %v\n%s\nwant python3 and nothing else", err, out)
	}
	index, err := os.ReadFile(filepath.Join(st.Repo, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"python3-venv", "python3-pip", "python3-distributed", "python3-dask"} {
		if !strings.Contains(string(index), "\nPackage: "+p+"\n") && !strings.HasPrefix(string(index), "Package: "+p+"\n") {
			t.Errorf("the repository's index lacks %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(st.Repo, "Release")); err != nil {
		t.Error(err)
	}
}

func TestStockRefDependsOnTheBaseImage(t *testing.T) {
	t.Parallel()
	if r := StockRef(); !strings.HasPrefix(r, Repository+":stock-") || r == Ref() {
		t.Errorf("StockRef() = %s", r)
	}
}
