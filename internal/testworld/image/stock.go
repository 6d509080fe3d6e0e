package image

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The stock variant behaves like a stock Ubuntu cloud image for what sear needs on a node
// (docs/node-environment.md): python3 and nothing else, no pip, no python3-venv, no
// distributed. It comes with a local apt repository of the .debs a bootstrap installs
// (python3-venv, python3-pip, python3-distributed and what they need), downloaded while the
// image is built, so that a test proves sear's bootstrap from scratch without an instance
// reaching any mirror: the Docker backend serves the repository on its network
// (docker.Options.PackageRepository) and points the instances' apt at it. Its pip has no index
// (/etc/pip.conf): the world has none.

//go:embed stock.sh all:stock
var stockInputs embed.FS

// RepositoryRoot is where the stock variant's apt repositories are kept, one directory per
// image tag, next to the image in the Docker engine.
const RepositoryRoot = "/var/tmp/sear-testworld-apt"

// stockLockPath serializes stock builds across test binaries.
const stockLockPath = "/tmp/sear-testworld-image-stock.lock"

// Stock is the stock variant: its image and its package repository.
type Stock struct {
	Ref string // the image, Repository:stock-<hash>
	// Repo is a flat apt repository ("deb [trusted=yes] URL ./"): the .debs, Packages,
	// Packages.gz and an unsigned Release.
	Repo string
}

// StockRef is the reference of the stock image the embedded inputs make: a hash of the base
// image's reference (Ref) and of stock.sh and stock/.
func StockRef() string { return Repository + ":stock-" + hashInputs(stockInputs, Ref()+"\n") }

// stockRepo is the repository directory that goes with ref.
func stockRepo(ref string) string {
	return filepath.Join(RepositoryRoot, ref[strings.LastIndexByte(ref, ':')+1:])
}

// EnsureStock returns the stock variant, building the base image (Ensure) and then the variant
// and its repository if the Docker engine or RepositoryRoot lacks either. Concurrent callers
// build it once. The build downloads from the mirror the base image was made from.
func EnsureStock(ctx context.Context, logw io.Writer) (Stock, error) {
	if logw == nil {
		logw = io.Discard
	}
	base, err := Ensure(ctx, logw)
	if err != nil {
		return Stock{}, err
	}
	st := Stock{Ref: StockRef()}
	st.Repo = stockRepo(st.Ref)
	ready := func() (bool, error) {
		ok, err := exists(ctx, st.Ref)
		if err != nil || !ok {
			return false, err
		}
		_, err = os.Stat(filepath.Join(st.Repo, "Release")) // written last
		return err == nil, nil
	}
	if ok, err := ready(); err != nil || ok {
		return st, err
	}
	unlock, err := lock(ctx, stockLockPath, logw)
	if err != nil {
		return Stock{}, err
	}
	defer unlock()
	if ok, err := ready(); err != nil || ok {
		return st, err
	}
	if err := os.MkdirAll(RepositoryRoot, 0o755); err != nil {
		return Stock{}, fmt.Errorf("build the stock test world image: %w", err)
	}
	if err := buildStock(ctx, base, st, logw); err != nil {
		return Stock{}, fmt.Errorf("build the stock test world image %s: %w", st.Ref, err)
	}
	if ok, err := ready(); err != nil || !ok {
		return Stock{}, errors.Join(fmt.Errorf("build the stock test world image %s: image or %s missing after the build", st.Ref, st.Repo), err)
	}
	return st, nil
}

// buildStock writes the embedded inputs (build.sh too: stock.sh reads its package list) to a
// temporary directory and runs stock.sh there.
func buildStock(ctx context.Context, base string, st Stock, logw io.Writer) error {
	dir, err := os.MkdirTemp("", "sear-testworld-stock-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, stockInputs); err != nil {
		return fmt.Errorf("write build inputs: %w", err)
	}
	if err := os.CopyFS(dir, inputs); err != nil {
		return fmt.Errorf("write build inputs: %w", err)
	}
	last, err := runScript(ctx, logw, filepath.Join(dir, "stock.sh"), base, st.Ref, st.Repo)
	if err != nil {
		return err
	}
	if last != st.Ref {
		return fmt.Errorf("stock.sh made %q, want %q", last, st.Ref)
	}
	return nil
}
