package extensions

import (
	"net/url"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestParseLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in                 string
		repo, scheme, host, tree string
	}{
		{"github repository", "https://github.com/example-org/flambe-sst", "https://github.com/example-org/flambe-sst", "https", "github.com", ""},
		{"github with .git and trailing slash", "https://github.com/o/r.git/", "https://github.com/o/r.git", "https", "github.com", ""},
		{"github tree, branch with slashes", "https://github.com/example-org/flambe-sst/tree/release/2024.1/sst_ext", "https://github.com/example-org/flambe-sst", "https", "github.com", "release/2024.1/sst_ext"},
		{"github tree, fragment ignored", "https://github.com/o/r/tree/main#readme", "https://github.com/o/r", "https", "github.com", "main"},
		{"github repository named tree", "https://github.com/o/tree", "https://github.com/o/tree", "https", "github.com", ""},
		{"host lower-cased, default port dropped from Host", "https://GitHub.com:443/o/r", "https://github.com:443/o/r", "https", "github.com", ""},
		{"gitlab subgroups with /-/tree/", "https://gitlab.com/g/sub/r/-/tree/feat/x/ext", "https://gitlab.com/g/sub/r", "https", "gitlab.com", "feat/x/ext"},
		{"other host with tree/", "https://git.example.com:8443/team/r/tree/main/ext", "https://git.example.com:8443/team/r", "https", "git.example.com:8443", "main/ext"},
		{"other host, deep path, no tree", "https://git.example.com/a/b/c/d", "https://git.example.com/a/b/c/d", "https", "git.example.com", ""},
		{"other host, repository named tree", "https://git.example.com/a/b/tree", "https://git.example.com/a/b/tree", "https", "git.example.com", ""},
		{"loopback http", "http://127.0.0.1:8080/org/public/tree/main", "http://127.0.0.1:8080/org/public", "http", "127.0.0.1:8080", "main"},
		{"localhost http", "http://localhost/org/public", "http://localhost/org/public", "http", "localhost", ""},
		{"ssh URL", "ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git", "ssh", "github.com", ""},
		{"ssh URL with port, default user", "ssh://Git.Example.com:2222/o/r.git", "ssh://git@git.example.com:2222/o/r.git", "ssh", "git.example.com:2222", ""},
		// Flambé's documented ssh form: an scp-style path after a colon,
		// which Flambé clones as the scp-style address without "ssh://".
		{"Flambé's ssh://user@host:path", "ssh://git@github.com:user/repo.git", "git@github.com:user/repo.git", "ssh", "github.com", ""},
		{"Flambé's ssh form, no .git", "ssh://git@github.com:user/my_other_extension", "git@github.com:user/my_other_extension", "ssh", "github.com", ""},
		{"Flambé's ssh form, no user", "ssh://GitHub.com:user/repo.git", "git@github.com:user/repo.git", "ssh", "github.com", ""},
		{"Flambé's ssh form, other user and host", "SSH://deploy@git.example.com:team/sub/r.git", "deploy@git.example.com:team/sub/r.git", "ssh", "git.example.com", ""},
		{"ssh URL with a numeric port is still a port", "ssh://git@github.com:22/o/r.git", "ssh://git@github.com:22/o/r.git", "ssh", "github.com", ""},
		{"scp-style", "git@github.com:example-org/flambe-sst.git", "git@github.com:example-org/flambe-sst.git", "ssh", "github.com", ""},
		{"scp-style, absolute path", "deploy@Host.example:/srv/git/r.git", "deploy@host.example:/srv/git/r.git", "ssh", "host.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := ParseLocation(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if l.Repo != tt.repo || l.Scheme != tt.scheme || l.Host != tt.host || l.Tree != tt.tree {
				t.Errorf("ParseLocation(%q) = repo %q scheme %q host %q tree %q\nwant repo %q scheme %q host %q tree %q",
					tt.in, l.Repo, l.Scheme, l.Host, l.Tree, tt.repo, tt.scheme, tt.host, tt.tree)
			}
		})
	}
}

func TestParseLocationRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain http elsewhere", "http://github.com/o/r", "uses plain http://"},
		{"git protocol", "git://github.com/o/r.git", "neither encrypted nor authenticated"},
		{"file URL", "file://localhost/srv/r", "write the directory as a local path"},
		{"unknown scheme", "ftp://example.com/r", "uses ftp://"},
		{"github owner only", "https://github.com/example-org", "names no repository"},
		{"github blob", "https://github.com/o/r/blob/main/setup.py", "not a repository or tree address on GitHub"},
		{"github tree without branch", "https://github.com/o/r/tree", "not a repository or tree address on GitHub"},
		{"dot-dot in the directory", "https://github.com/o/r/tree/main/../../etc", `".."`},
		{"empty segment", "https://example.com/o//r", "empty"},
		{"query string", "https://example.com/o/r?private_token=abc", "query string"},
		{"ssh password", "ssh://git:hunter2@example.com/o/r.git", "has a password in it"},
		{"ssh password, Flambé's colon form", "ssh://git:hunter2@example.com:o/r.git", "is not a git location"},
		{"Flambé's colon form, empty path segment", "ssh://git@example.com:o//r.git", "empty"},
		{"no host", "https:///o/r", "is not a git location"},
		{"port without host", "ssh://:22/o/r", "is not a git location"},
		{"not a URL", "just-words", "is not a git location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseLocation(tt.in)
			if err == nil {
				t.Fatalf("ParseLocation(%q) succeeded", tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			for _, secret := range []string{"hunter2", "private_token=abc"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret: %q", err)
				}
			}
		})
	}
}

func TestParseLocationKeepsCredentialsOutOfSight(t *testing.T) {
	t.Parallel()
	const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
	for _, in := range []string{
		"https://x-access-token:" + token + "@github.com/o/r/tree/main",
		"https://" + token + "@github.com/o/r",
	} {
		l, err := ParseLocation(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{l.Repo, l.String(), Redact(in)} {
			if strings.Contains(s, token) {
				t.Errorf("%q shows the token", s)
			}
		}
		if l.userinfo == nil {
			t.Errorf("the credentials of %q were dropped rather than kept for the request", Redact(in))
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://user:pw@example.com/o/r", "https://***@example.com/o/r"},
		{"https://tok@example.com/o/r?x=1", "https://***@example.com/o/r?***"},
		{"ssh://git:pw@example.com/o/r", "ssh://git@example.com/o/r"},
		{"git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"https://us er:pw@exa mple.com/%zz", "https://***@exa mple.com/%zz"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenHostKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://github.com", "github.com"},
		{"https://github.com/", "github.com"},
		{"github.com", "github.com"},
		{"GitHub.com:443", "github.com"},
		{"https://ghe.example.com:8443", "ghe.example.com:8443"},
		{"http://127.0.0.1:4000", "127.0.0.1:4000"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := tokenHostKey(tt.in); got != tt.want {
			t.Errorf("tokenHostKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestResolveTakesTheLongestRef(t *testing.T) {
	t.Parallel()
	h := plumbing.NewHash("0123456789012345678901234567890123456789")
	rs := newRefSet([]*plumbing.Reference{
		plumbing.NewSymbolicReference(plumbing.HEAD, "refs/heads/main"),
		plumbing.NewHashReference("refs/heads/main", h),
		plumbing.NewHashReference("refs/heads/release/2024.1", h),
		plumbing.NewHashReference("refs/heads/release-2", h),
		plumbing.NewHashReference("refs/tags/release", h),
		plumbing.NewHashReference("refs/tags/v1", h),
		plumbing.NewHashReference("refs/heads/v1", h),
	})
	tests := []struct{ tree, ref, dir string }{
		{"", "refs/heads/main", ""},
		{"main", "refs/heads/main", ""},
		{"release/2024.1/sst_ext", "refs/heads/release/2024.1", "sst_ext"},
		{"release/2024.1", "refs/heads/release/2024.1", ""},
		{"release/2025/x", "refs/tags/release", "2025/x"}, // the tag is the longest that fits
		{"release-2/a/b", "refs/heads/release-2", "a/b"},
		{"v1/x", "refs/heads/v1", "x"}, // a branch wins over a tag of the same name
	}
	for _, tt := range tests {
		got, err := rs.resolve(tt.tree)
		if err != nil {
			t.Errorf("resolve(%q): %v", tt.tree, err)
			continue
		}
		if string(got.Ref) != tt.ref || got.Subdir != tt.dir {
			t.Errorf("resolve(%q) = %s %q, want %s %q", tt.tree, got.Ref, got.Subdir, tt.ref, tt.dir)
		}
	}
	if _, err := rs.resolve("mainline/x"); err == nil || !strings.Contains(err.Error(), `"main"`) {
		t.Errorf(`resolve("mainline/x") = %v, want an error listing "main"`, err)
	}
	if _, err := (refSet{}).resolve(""); err != errNoDefault {
		t.Errorf("a remote without HEAD: %v, want errNoDefault", err)
	}
}

// FuzzParseLocation checks that no input panics the parser and that what
// it accepts is consistent: credentials and queries never reach Repo, the tree path has no empty, "." or ".." segment, and parsing the
// repository address again gives the same repository with no tree.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{
		"https://github.com/example-org/flambe-sst/tree/release/2024.1/sst_ext",
		"https://gitlab.com/g/sub/r/-/tree/feat/x/ext",
		"https://u:p@example.com/a/b/tree/main",
		"http://127.0.0.1:8080/org/public",
		"ssh://git@github.com:22/o/r.git",
		"git@github.com:o/r.git",
		"ssh://git@github.com:o/r.git",
		"https://github.com/o/r/tree/main/../x",
		"https://[::1]:443/a/b/-/tree/x",
		"https://example.com/a/b/tree/-/tree/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ParseLocation(in)
		if err != nil {
			return
		}
		if l.Repo == "" || l.Host == "" || l.Host != strings.ToLower(l.Host) {
			t.Fatalf("ParseLocation(%q) = %+v: empty repo or host, or host not lower-case", in, l)
		}
		if l.Scheme != "ssh" {
			if u, err := url.Parse(l.Repo); err != nil || u.User != nil || u.RawQuery != "" {
				t.Fatalf("ParseLocation(%q): Repo %q keeps user information or a query", in, l.Repo)
			}
		}
		if l.Tree != "" {
			if l.Scheme == "ssh" {
				t.Fatalf("ParseLocation(%q): an ssh address got a tree %q", in, l.Tree)
			}
			for _, seg := range strings.Split(l.Tree, "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("ParseLocation(%q): tree %q has segment %q", in, l.Tree, seg)
				}
			}
		}
		again, err := ParseLocation(l.Repo)
		if err != nil {
			t.Fatalf("ParseLocation(%q) gave Repo %q, which does not parse: %v", in, l.Repo, err)
		}
		if again.Repo != l.Repo || again.Tree != "" || again.Host != l.Host || again.Scheme != l.Scheme {
			t.Fatalf("ParseLocation(%q).Repo = %q parses as %+v", in, l.Repo, again)
		}
	})
}
