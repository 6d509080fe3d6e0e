package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The repository is served as files, and an instance's sources.list names it as a flat,
// trusted repository.
func TestPackageServer(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Packages"), []byte("Package: python3-venv\n"), 0o644)
	ps, err := servePackages(context.Background(), dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer ps.close(context.Background())
	resp, err := http.Get(ps.url + "Packages")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Package: python3-venv\n" {
		t.Errorf("GET Packages: %d %q", resp.StatusCode, body)
	}
	data, err := etcTar(ps.etcFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(data))
	var list string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Name == "apt/sources.list" {
			b, _ := io.ReadAll(tr)
			list = string(b)
		}
	}
	if !strings.Contains(list, "deb [trusted=yes] "+ps.url+" ./\n") {
		t.Errorf("sources.list = %q", list)
	}
	if _, err := servePackages(context.Background(), t.TempDir(), "127.0.0.1"); err == nil {
		t.Error("a directory without a Packages index was served")
	}
}
