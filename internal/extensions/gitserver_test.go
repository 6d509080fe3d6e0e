package extensions

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sear-ci/sear/internal/testworld/gitserver"
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
		func() error { return gitserver.Git(work, "init", "-q", "-b", "main") },
		func() error {
			return gitserver.WriteFiles(work, map[string]string{"README.md": "on main\n", "top/setup.py": "# main's setup\n"})
		},
		func() error { return os.Symlink("/", filepath.Join(work, "escape")) },
		func() error { return gitserver.Git(work, "add", "-A") },
		func() error { return gitserver.Git(work, "commit", "-q", "-m", "main") },
		func() error { return gitserver.Git(work, "tag", "release") },
		func() error { return gitserver.Git(work, "tag", "-a", "v1.0", "-m", "v1.0") },
		func() error { return gitserver.Git(work, "checkout", "-q", "-b", "release/2024.1") },
		func() error {
			return gitserver.WriteFiles(work, map[string]string{
				"sst_ext/setup.py":            "from setuptools import setup\nsetup(name='sst_ext')\n",
				"sst_ext/sst_ext/__init__.py": "BRANCH = 'release/2024.1'\n",
			})
		},
		func() error { return gitserver.Git(work, "add", "-A") },
		func() error { return gitserver.Git(work, "commit", "-q", "-m", "release") },
		func() error { return gitserver.Git(work, "checkout", "-q", "main") },
		func() error { return gitserver.Git(root, "clone", "-q", "--bare", work, "org/public.git") },
		func() error {
			return gitserver.Git(filepath.Join(root, "org/public.git"), "symbolic-ref", "HEAD", "refs/heads/main")
		},
		func() error {
			return gitserver.Git(root, "clone", "-q", "--bare", "--branch", "main", "--single-branch", work, "org/private.git")
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
	backend, err := gitserver.Backend(root, nil)
	if err != nil {
		t.Fatal(err)
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
