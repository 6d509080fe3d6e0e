package extensions

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// logBuffer collects Logf output from parallel code.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, format+"\n", args...)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func gitExt(name, loc string) config.Extension {
	return config.Extension{Name: name, Location: loc, Kind: config.ExtGit}
}

func fetchOne(t *testing.T, loc string, opts Options) (*Set, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var log logBuffer
	opts.Logf = log.logf
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.NodeDir == "" {
		opts.NodeDir = "./.sear/extensions"
	}
	set, err := Fetch(ctx, []config.Extension{gitExt("sst_ext", loc)}, opts)
	return set, log.String(), err
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFetchClonesTheRightRefAndDirectory(t *testing.T) {
	t.Parallel()
	gs := newGitServer(t)
	tests := []struct {
		name, path  string
		ref, subdir string
		file, want  string // a file of the extension and its content
	}{
		{"default branch is main, not master", "/org/public", "refs/heads/main", "", "README.md", "on main\n"},
		{"with .git suffix", "/org/public.git", "refs/heads/main", "", "top/setup.py", "# main's setup\n"},
		{"branch with a slash and a directory", "/org/public/tree/release/2024.1/sst_ext", "refs/heads/release/2024.1", "sst_ext", "sst_ext/__init__.py", "BRANCH = 'release/2024.1'\n"},
		{"branch with a slash, trailing slash", "/org/public/tree/release/2024.1/", "refs/heads/release/2024.1", "", "sst_ext/setup.py", "from setuptools import setup\nsetup(name='sst_ext')\n"},
		{"GitLab's /-/tree/", "/org/public/-/tree/release/2024.1/sst_ext", "refs/heads/release/2024.1", "sst_ext", "setup.py", "from setuptools import setup\nsetup(name='sst_ext')\n"},
		{"tag", "/org/public/tree/v1.0/top", "refs/tags/v1.0", "top", "setup.py", "# main's setup\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, log, err := fetchOne(t, gs.URL+tt.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := set.Clones[0]
			if c.Ref != tt.ref || c.Subdir != tt.subdir {
				t.Errorf("cloned %s directory %q, want %s directory %q", c.Ref, c.Subdir, tt.ref, tt.subdir)
			}
			if got := readFile(t, filepath.Join(c.Dir, tt.file)); got != tt.want {
				t.Errorf("%s holds %q, want %q", tt.file, got, tt.want)
			}
			if _, err := os.Stat(filepath.Join(c.Dir, ".git")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf(".git was left in the extension (%v); the nodes do not need it", err)
			}
			if c.NodePath != "./.sear/extensions/sst_ext" || len(c.Commit) != 40 {
				t.Errorf("NodePath %q, Commit %q", c.NodePath, c.Commit)
			}
			if !strings.Contains(log, "sear: extension sst_ext: cloned") {
				t.Errorf("log does not report the clone:\n%s", log)
			}
			entries, _ := os.ReadDir(filepath.Dir(c.Dir))
			if len(entries) != 1 {
				t.Errorf("the extensions directory holds %d entries, want only the extension (scratch clone left behind?)", len(entries))
			}
		})
	}
}

// TestFetchIsShallow checks what go-git asks the server for: one branch
// (one "want") and one commit ("deepen 1"), not the whole history.
func TestFetchIsShallow(t *testing.T) {
	t.Parallel()
	gs := newGitServer(t)
	if _, _, err := fetchOne(t, gs.URL+"/org/public/tree/release/2024.1/sst_ext", Options{}); err != nil {
		t.Fatal(err)
	}
	packs := gs.uploadPacks()
	if len(packs) == 0 {
		t.Fatal("the server saw no git-upload-pack request")
	}
	for _, body := range packs {
		if n := bytes.Count(body, []byte("want ")); n != 1 {
			t.Errorf("the fetch wants %d refs, want 1 (single branch):\n%s", n, body)
		}
		if !bytes.Contains(body, []byte("deepen 1")) {
			t.Errorf("the fetch is not shallow (no \"deepen 1\"):\n%s", body)
		}
	}
}

func TestFetchPrivateRepository(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		onOther   bool // the repository is on a host that is not the token host
		token     string
		serverURL bool // the token host is given as GITHUB_SERVER_URL gives it
		wantErr   string
	}{
		{"right token for the token host", false, privateToken, false, ""},
		{"token host given as GITHUB_SERVER_URL", false, privateToken, true, ""},
		{"no token", false, "", false, "sear had no token to send"},
		{"wrong token", false, "ghs_wrongWrongWrongWrongWrongWrong12", false, "the workflow's token for {repo} cannot read it"},
		{"token for another host", true, privateToken, false, "sear sends the workflow's token only to {home}, never to {repo}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home, other := newGitServer(t), newGitServer(t)
			repo, tokenHost := home, home.Host
			if tt.onOther {
				repo = other
			}
			if tt.serverURL {
				tokenHost = home.URL
			}
			set, log, err := fetchOne(t, repo.URL+"/org/private", Options{Token: tt.token, TokenHost: tokenHost})
			assertNoSecret(t, err, log, privateToken, tt.token)
			if auths := other.authorizations(); len(auths) > 0 {
				t.Errorf("a host that is not the token host received %d Authorization headers", len(auths))
			}
			if tt.token != "" && !tt.onOther && len(home.authorizations()) == 0 {
				t.Error("the token host received no Authorization header")
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := readFile(t, filepath.Join(set.Clones[0].Dir, "README.md")); got != "on main\n" {
					t.Errorf("README.md = %q", got)
				}
				return
			}
			if err == nil {
				t.Fatal("the clone succeeded; want an error")
			}
			want := []string{strings.NewReplacer("{repo}", repo.Host, "{home}", home.Host).Replace(tt.wantErr), `extension "sst_ext"`, repo.URL + "/org/private", "make the repository public"}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// TestFetchTokenDoesNotFollowARedirect: the token host redirects (as
// GitHub does for a renamed repository) to a host that is not the token
// host; that host must never see the token.
func TestFetchTokenDoesNotFollowARedirect(t *testing.T) {
	t.Parallel()
	home, other := newGitServer(t), newGitServer(t)
	home.movedTo = other.URL
	_, log, err := fetchOne(t, home.URL+"/org/moved", Options{Token: privateToken, TokenHost: home.Host})
	if err == nil {
		t.Fatal("the clone succeeded, so the private repository on the other host got the token")
	}
	if auths := other.authorizations(); len(auths) > 0 {
		t.Errorf("the redirect target received %d Authorization headers", len(auths))
	}
	if len(home.authorizations()) == 0 {
		t.Error("the token host received no Authorization header")
	}
	t.Log(err)
	assertNoSecret(t, err, log, privateToken)
}

func TestFetchMasksCredentialsAServerEchoes(t *testing.T) {
	t.Parallel()
	gs := newGitServer(t)
	const inURL = "urlPassw0rdThatMustNotShow"
	for _, tc := range []struct {
		loc  string
		opts Options
	}{
		{gs.URL + "/org/echo", Options{Token: privateToken, TokenHost: gs.Host}},
		{"http://someone:" + inURL + "@" + gs.Host + "/org/echo", Options{}},
	} {
		_, log, err := fetchOne(t, tc.loc, tc.opts)
		if err == nil {
			t.Fatal("Fetch succeeded against a server that refuses everything")
		}
		if !strings.Contains(err.Error(), "denied: Basic ***") {
			t.Errorf("the server's reason is not in the error, or not masked: %q", err)
		}
		assertNoSecret(t, err, log, privateToken, inURL)
		if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte("someone:"+inURL))) {
			t.Errorf("the URL's credentials leaked in basic-auth form: %q", err)
		}
	}
}

// assertNoSecret fails if any secret, or its basic-auth encoding, shows in
// the error or the log.
func assertNoSecret(t *testing.T, err error, log string, secrets ...string) {
	t.Helper()
	text := log
	if err != nil {
		text += err.Error() + fmt.Sprintf("%v %+v %q", err, err, err)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(tokenUser + ":" + s))} {
			if strings.Contains(text, form) {
				t.Errorf("a secret leaked into the error or log:\n%s", text)
			}
		}
	}
}

func TestFetchErrorsSayWhatToFix(t *testing.T) {
	t.Parallel()
	gs := newGitServer(t)
	closed := closedPort(t)
	tests := []struct {
		name, loc string
		opts      Options
		want      []string
	}{
		{"repository not found", gs.URL + "/org/missing", Options{Token: privateToken, TokenHost: gs.Host},
			[]string{`extension "sst_ext"`, gs.URL + "/org/missing", "was not found", "give sear a token that can read", "make the repository public"}},
		{"branch not found", gs.URL + "/org/public/tree/releases/2024.1/sst_ext", Options{},
			[]string{`no branch or tag of the repository starts "releases/2024.1/sst_ext"`, `branches: "release/2024.1", "main"`}},
		{"branch not found behind a shorter tag", gs.URL + "/org/public/tree/release/2025.1/sst_ext", Options{},
			[]string{`directory "2025.1/sst_ext" does not exist on release`, `read as release and directory "2025.1/sst_ext"`, `nearest branches are "release/2024.1", "main"`}},
		{"commit hash", gs.URL + "/org/public/tree/0123abcd/sst_ext", Options{},
			[]string{"looks like a commit hash", "push a branch or tag"}},
		{"directory not on the branch", gs.URL + "/org/public/tree/main/sst_ext", Options{},
			[]string{`directory "sst_ext" does not exist on main`, "its top-level directories are top"}},
		{"directory through a symlink", gs.URL + "/org/public/tree/main/escape/etc", Options{},
			[]string{`"escape" is a symbolic link on main`}},
		{"host unreachable", "http://" + closed + "/org/public", Options{},
			[]string{"cannot reach " + closed, "check the host name"}},
		{"ssh without an agent", "git@github.com:example-org/flambe-sst.git", Options{},
			[]string{"git@github.com:example-org/flambe-sst.git is an SSH address", "SSH_AUTH_SOCK is not set", "https:// address"}},
		{"Flambé's ssh://git@host:owner/repo form goes the SSH way", "ssh://git@github.com:example-org/flambe-sst.git", Options{},
			[]string{"git@github.com:example-org/flambe-sst.git is an SSH address", "SSH_AUTH_SOCK is not set"}},
		{"ssh URL with an agent that is gone", "ssh://git@127.0.0.1:1/org/public.git", Options{SSHAgentSocket: filepath.Join(t.TempDir(), "no-agent.sock")},
			[]string{"ssh://git@127.0.0.1:1/org/public.git is an SSH address", "SSH agent at SSH_AUTH_SOCK cannot be reached"}},
		{"plain http elsewhere", "http://example.com/org/public", Options{},
			[]string{`"http://example.com/org/public" uses plain http://`, "use https://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, log, err := fetchOne(t, tt.loc, tt.opts)
			if err == nil {
				t.Fatal("Fetch succeeded; want an error")
			}
			t.Log(err) // what the user reads; go test -v shows them all
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			assertNoSecret(t, err, log, privateToken)
		})
	}
}

func closedPort(t *testing.T) string { return world.RefusedAddr(t) }

func TestFetchReportsEveryFailingExtension(t *testing.T) {
	t.Parallel()
	gs := newGitServer(t)
	exts := []config.Extension{
		gitExt("good", gs.URL+"/org/public"),
		{Name: "missing", Location: gs.URL + "/org/missing", Kind: config.ExtGit, Pos: config.Pos{File: "runnable.yaml", Line: 2, Col: 1}},
		{Name: "local_ext", Location: "./ext", Kind: config.ExtLocal},
		{Name: "pip_ext", Location: "flambe-sst==1.0", Kind: config.ExtPip},
		gitExt("nobranch", gs.URL+"/org/public/tree/nope"),
	}
	_, err := Fetch(context.Background(), exts, Options{Dir: t.TempDir(), NodeDir: "./x"})
	if err == nil {
		t.Fatal("Fetch succeeded")
	}
	for _, w := range []string{`runnable.yaml:2:1: extension "missing"`, `extension "nobranch"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
	if strings.Contains(err.Error(), `"good"`) || strings.Contains(err.Error(), "local_ext") || strings.Contains(err.Error(), "pip_ext") {
		t.Errorf("error mentions an extension that is fine: %q", err)
	}
}

func TestFetchRefusesUnsafeNames(t *testing.T) {
	t.Parallel()
	exts := []config.Extension{gitExt("../up", "https://example.com/o/r"), gitExt("a", "https://example.com/o/r"), gitExt("a", "https://example.com/o/r2")}
	_, err := Fetch(context.Background(), exts[:1], Options{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `extension "../up": the name must be a Python module name`) {
		t.Errorf("a name with a path in it: %v", err)
	}
	if _, err := Fetch(context.Background(), exts[1:2], Options{}); err == nil || !strings.Contains(err.Error(), "Options.Dir is empty") {
		t.Errorf("no Dir: %v", err)
	}
}

func TestFetchLeavesLocalAndPipAlone(t *testing.T) {
	t.Parallel()
	exts := []config.Extension{
		{Name: "local_ext", Location: "./ext", Kind: config.ExtLocal},
		{Name: "pip_ext", Location: "flambe-sst==1.0", Kind: config.ExtPip},
	}
	src := []byte("local_ext: ./ext\npip_ext: flambe-sst==1.0\n---\n!Script\nscript: train\n")
	set, err := Fetch(context.Background(), exts, Options{Dir: t.TempDir(), Runnable: src})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Clones) != 0 || !bytes.Equal(set.Runnable, src) {
		t.Errorf("Clones %v, Runnable %q; want none and the runnable unchanged", set.Clones, set.Runnable)
	}
}

func TestFetchHonoursCancellation(t *testing.T) {
	t.Parallel()
	gs := newGitServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Fetch(ctx, []config.Extension{gitExt("sst_ext", gs.URL+"/org/public")}, Options{Dir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled in the chain", err)
	}
}

// TestFetchRewritesTheRunnable runs the whole path on the example
// experiment: clone from the local server, rewrite, and parse the result
// with config, which must see a local extension at the clone.
func TestFetchRewritesTheRunnable(t *testing.T) {
	t.Parallel()
	gs := newGitServer(t)
	example, err := os.ReadFile("../../examples/flambe-experiment/runnable.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const github = "https://github.com/example-org/flambe-sst/tree/release/2024.1/sst_ext"
	local := gs.URL + "/org/public/tree/release/2024.1/sst_ext"
	src := bytes.Replace(example, []byte(github), []byte(local), 1)
	if bytes.Equal(src, example) {
		t.Fatalf("the example no longer holds %s; update this test", github)
	}
	orig, err := config.ParseRunnable("runnable.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The node path is absolute here only so that config, run from this
	// directory, finds the clone; the run passes a path relative to the
	// job's working directory.
	set, err := Fetch(context.Background(), orig.Extensions, Options{Dir: dir, NodeDir: dir, Runnable: src})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(src, []byte(local), []byte(filepath.Join(dir, "sst_ext")), 1)
	if !bytes.Equal(set.Runnable, want) {
		t.Errorf("rewritten runnable:\n%s\nwant:\n%s", set.Runnable, want)
	}
	got, err := config.ParseRunnable("runnable.yaml", set.Runnable)
	if err != nil {
		t.Fatalf("the rewritten runnable does not parse: %v", err)
	}
	if len(got.Extensions) != 1 || got.Extensions[0].Kind != config.ExtLocal || got.Extensions[0].Location != filepath.Join(dir, "sst_ext") {
		t.Errorf("extensions after the rewrite: %+v", got.Extensions)
	}
	if got.Name != orig.Name || got.Tag != orig.Tag || got.Search != orig.Search {
		t.Errorf("the runnable changed: %s %s %v, was %s %s %v", got.Name, got.Tag, got.Search, orig.Name, orig.Tag, orig.Search)
	}
	if _, err := os.Stat(filepath.Join(dir, "sst_ext", "setup.py")); err != nil {
		t.Errorf("the extension's setup.py is not at the rewritten path: %v", err)
	}
}
