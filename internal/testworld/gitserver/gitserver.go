// Package gitserver builds git repositories with the git command line and
// serves them over smart HTTP with git's own http-backend, so that tests
// clone with go-git exactly as from GitHub, with no network. Tests only.
package gitserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Env is the environment git runs with: the user's and the system's git
// configuration are kept out, so repositories build the same everywhere.
func Env(home string) []string {
	return append(os.Environ(),
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	)
}

// Git runs git with args in dir.
func Git(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = Env(dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// WriteFiles writes each name → body under dir, making directories.
func WriteFiles(dir string, files map[string]string) error {
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Backend serves every bare repository under root (root/org/repo.git is
// http://host/org/repo) with git http-backend. Its errors ("Not a git
// repository" for a missing one) go to stderr; nil discards them.
func Backend(root string, stderr io.Writer) (http.Handler, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("git is needed to serve the test repositories: %w", err)
	}
	if stderr == nil {
		stderr = io.Discard
	}
	return &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=" + root,
		},
		InheritEnv: []string{"PATH"},
		Stderr:     stderr,
	}, nil
}
