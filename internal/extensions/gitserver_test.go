package extensions

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The fixture repositories, built once with the git CLI and served by real
// git http-backend processes: go-git speaks the same smart HTTP protocol to
// them as to GitHub.
var (
	fixtureOnce sync.Once
	fixtureRoot string
	fixtureErr  error
)

// privateToken is the only credential the private repository accepts.
const privateToken = "ghs_s3cretT0kenForTheTestsOnly1234567"

// gitEnv keeps the user's and the system's git configuration out of the
// fixtures, so they build the same everywhere.
func gitEnv(home string) []string {
	return append(os.Environ(),
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	)
}

func gitCmd(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func writeFiles(dir string, files map[string]string) error {
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

// buildFixtures makes, under root:
//   - org/public.git: default branch main (not master); branch
//     release/2024.1 with the extension in sst_ext/; a tag "release" on
//     main, so a one-segment reading of release/2024.1/sst_ext finds the
//     wrong ref; a tag v1.0; a file README.md and a symlink escape -> /.
//   - org/private.git: one branch main, served only with privateToken.
func buildFixtures(root string) error {
	work := filepath.Join(root, "work")
	steps := []func() error{
		func() error { return os.MkdirAll(work, 0o755) },
		func() error { return gitCmd(work, "init", "-q", "-b", "main") },
		func() error {
			return writeFiles(work, map[string]string{"README.md": "on main\n", "top/setup.py": "# main's setup\n"})
		},
		func() error { return os.Symlink("/", filepath.Join(work, "escape")) },
		func() error { return gitCmd(work, "add", "-A") },
		func() error { return gitCmd(work, "commit", "-q", "-m", "main") },
		func() error { return gitCmd(work, "tag", "release") },
		func() error { return gitCmd(work, "tag", "-a", "v1.0", "-m", "v1.0") },
		func() error { return gitCmd(work, "checkout", "-q", "-b", "release/2024.1") },
		func() error {
			return writeFiles(work, map[string]string{
				"sst_ext/setup.py":            "from setuptools import setup\nsetup(name='sst_ext')\n",
				"sst_ext/sst_ext/__init__.py": "BRANCH = 'release/2024.1'\n",
			})
		},
		func() error { return gitCmd(work, "add", "-A") },
		func() error { return gitCmd(work, "commit", "-q", "-m", "release") },
		func() error { return gitCmd(work, "checkout", "-q", "main") },
		func() error { return gitCmd(root, "clone", "-q", "--bare", work, "org/public.git") },
		func() error {
			return gitCmd(filepath.Join(root, "org/public.git"), "symbolic-ref", "HEAD", "refs/heads/main")
		},
		func() error {
			return gitCmd(root, "clone", "-q", "--bare", "--branch", "main", "--single-branch", work, "org/private.git")
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func fixtures(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureRoot, fixtureErr = os.MkdirTemp("", "sear-extensions-fixtures-")
		if fixtureErr == nil {
			fixtureErr = buildFixtures(fixtureRoot)
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureRoot != "" {
		os.RemoveAll(fixtureRoot)
	}
	os.Exit(code)
}

// gitServer serves the fixtures over smart HTTP. Paths under /org/private
// need basic auth with privateToken, as GitHub's private repositories
// need a token; every Authorization header is recorded so tests can prove
// where the token went.
type gitServer struct {
	URL  string // http://127.0.0.1:port
	Host string // 127.0.0.1:port

	// movedTo, when set, is where /org/moved/... redirects: another
	// server's /org/private/..., as GitHub redirects a renamed repository.
	movedTo string

	mu    sync.Mutex
	auths []string
	packs [][]byte // bodies of git-upload-pack requests
}

func newGitServer(t *testing.T) *gitServer {
	t.Helper()
	root := fixtures(t)
	backend := &cgi.Handler{
		Path: "git",
		Args: []string{"http-backend"},
		Dir:  root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=" + root,
		},
		InheritEnv: []string{"PATH"},
		Stderr:     io.Discard, // "Not a git repository" for the 404 test
	}
	if p, err := exec.LookPath("git"); err == nil {
		backend.Path = p
	} else {
		t.Fatalf("git is needed to serve the test repositories: %v", err)
	}
	gs := &gitServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		gs.mu.Lock()
		if a := r.Header.Get("Authorization"); a != "" {
			gs.auths = append(gs.auths, a)
		}
		if body != nil {
			gs.packs = append(gs.packs, body)
		}
		gs.mu.Unlock()
		switch rest, ok := strings.CutPrefix(r.URL.Path, "/org/moved"); {
		case ok && gs.movedTo != "":
			http.Redirect(w, r, gs.movedTo+"/org/private"+rest+"?"+r.URL.RawQuery, http.StatusMovedPermanently)
			return
		case strings.HasPrefix(r.URL.Path, "/org/echo"):
			// A server that quotes the request's credentials back, to
			// prove they are masked wherever go-git repeats its reason.
			user, pass, _ := r.BasicAuth()
			http.Error(w, fmt.Sprintf("denied: %s (%s:%s)", r.Header.Get("Authorization"), user, pass), http.StatusForbidden)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/org/private") {
			user, pass, ok := r.BasicAuth()
			if !ok || user != tokenUser || pass != privateToken {
				w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	gs.URL = srv.URL
	gs.Host = strings.TrimPrefix(srv.URL, "http://")
	return gs
}

// uploadPacks returns the bodies of the fetch requests the server received.
func (gs *gitServer) uploadPacks() [][]byte {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return append([][]byte(nil), gs.packs...)
}

// authorizations returns the Authorization headers the server received.
func (gs *gitServer) authorizations() []string {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return append([]string(nil), gs.auths...)
}
