// Package extensions clones a runnable's git extensions on the runner and
// rewrites the runnable to point at the copies that are uploaded with the
// workspace, so the cluster's nodes never need git credentials.
//
// Locations are what Flambé users write, with Flambé's limitations removed:
//
//	https://github.com/OWNER/REPO                      the default branch (HEAD), not "master"
//	https://github.com/OWNER/REPO/tree/BRANCH[/PATH]   BRANCH may contain "/"
//	https://gitlab.example/GROUP/SUB/REPO/-/tree/BRANCH[/PATH]
//	ssh://git@host[:port]/OWNER/REPO.git
//	ssh://git@host:OWNER/REPO.git                      Flambé's form: the scp-style path after a colon
//	git@host:OWNER/REPO.git
//
// The tree/ form is recognised on every host, not only github.com: GitHub
// Enterprise, Gitea and Forgejo use it too, and the tests serve repositories
// from a loopback address. On hosts other than github.com, whose repository
// paths may be deeper than OWNER/REPO, the first "tree" segment after at least
// two path segments starts the branch; a repository under a group that is
// itself named "tree" needs GitLab's unambiguous /-/tree/ form.
package extensions

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Location is a parsed git extension location.
type Location struct {
	// Repo is the URL to clone, without credentials, query or tree/ suffix:
	// https://host/OWNER/REPO, ssh://user@host/PATH or user@host:PATH.
	Repo string
	// Scheme is "https", "http" (loopback only) or "ssh" (also for the
	// scp-style form).
	Scheme string
	// Host is the lower-cased host, with its port unless it is the scheme's
	// default; the token is sent only when it equals the token host.
	Host string
	// Tree is what follows tree/ in a browser URL: a branch or tag, then
	// optionally a directory. It is split only once the remote's refs are
	// known, because a branch may contain "/". Empty means the default
	// branch.
	Tree string

	// userinfo holds credentials written into an https URL. They are sent
	// only to that URL's own host and never shown.
	userinfo *url.Userinfo
}

// String is the location without credentials, for messages.
func (l Location) String() string {
	if l.Tree == "" {
		return l.Repo
	}
	return strings.TrimSuffix(l.Repo, "/") + "/tree/" + l.Tree
}

// scpLike is git's scp-style address, user@host:path (the same shape
// config accepts as a git location).
var scpLike = regexp.MustCompile(`^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(.+)$`)

// sshColon is the form Flambé documents for ssh, ssh://git@host:owner/repo.git:
// an scp-style path after a colon, inside an ssh:// URL. url.Parse reads the
// path as a bad port and git itself cannot resolve "host:owner"; Flambé
// strips the "ssh://" and clones the scp-style rest, and so does sear. It is
// tried only where url.Parse fails, so ssh://host:2222/path keeps its port.
// The path holds no "@" or ":", so user information with a password in it
// never becomes a host or a path.
var sshColon = regexp.MustCompile(`^(?i:ssh)://(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+):([^@:]+)$`)

// ParseLocation parses a git extension location. Its errors quote the
// location with any credentials removed.
func ParseLocation(loc string) (Location, error) {
	if m := scpLike.FindStringSubmatch(loc); m != nil && !strings.Contains(loc, "://") {
		return parseSCP(loc, m[1], m[2], m[3])
	}
	u, err := url.Parse(loc)
	if m := sshColon.FindStringSubmatch(loc); err != nil && m != nil {
		user := m[1]
		if user == "" {
			user = "git"
		}
		return parseSCP(loc, user, m[2], m[3])
	}
	if err != nil || u.Scheme == "" || u.Hostname() == "" {
		return Location{}, fmt.Errorf("%q is not a git location; write https://host/OWNER/REPO[/tree/BRANCH[/PATH]], ssh://git@host/OWNER/REPO.git or git@host:OWNER/REPO.git", Redact(loc))
	}
	switch u.Scheme {
	case "https", "http":
		return parseHTTP(loc, u)
	case "ssh":
		return parseSSH(loc, u)
	case "git":
		return Location{}, fmt.Errorf("%q uses git://, which is neither encrypted nor authenticated, so anyone on the way could change the code the cluster runs; use the https:// or ssh:// address of the same repository", Redact(loc))
	case "file":
		return Location{}, fmt.Errorf("%q is a file:// URL; write the directory as a local path instead (it is uploaded with the workspace)", Redact(loc))
	}
	return Location{}, fmt.Errorf("%q uses %s://; sear clones https://, ssh:// and git@host:path locations", Redact(loc), u.Scheme)
}

func parseSCP(loc, user, host, path string) (Location, error) {
	if err := checkPath(loc, strings.TrimPrefix(path, "/")); err != nil {
		return Location{}, err
	}
	// Git treats user@host:path as ssh://user@host/path, with path relative
	// to the login directory unless it starts with "/".
	return Location{Repo: user + "@" + strings.ToLower(host) + ":" + path, Scheme: "ssh", Host: strings.ToLower(host)}, nil
}

func parseSSH(loc string, u *url.URL) (Location, error) {
	if _, ok := u.User.Password(); ok {
		return Location{}, fmt.Errorf("%q has a password in it; sear authenticates SSH with the keys of your SSH agent, so remove the password (and change it: it was written into a file)", Redact(loc))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Location{}, fmt.Errorf("%q has a query or fragment, which an ssh:// repository address cannot have; remove it", Redact(loc))
	}
	if err := checkPath(loc, strings.TrimPrefix(u.Path, "/")); err != nil {
		return Location{}, err
	}
	user := "git" // what GitHub, GitLab and Gitea all expect
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	r := url.URL{Scheme: "ssh", User: url.User(user), Host: strings.ToLower(u.Host), Path: u.Path}
	return Location{Repo: r.String(), Scheme: "ssh", Host: hostKey("ssh", u.Host)}, nil
}

func parseHTTP(loc string, u *url.URL) (Location, error) {
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return Location{}, fmt.Errorf("%q uses plain http://, which lets anyone on the way read the token and change the code the cluster runs; use https:// (plain http is accepted only for loopback test servers)", Redact(loc))
	}
	if u.RawQuery != "" {
		return Location{}, fmt.Errorf("%q has a query string; write the repository's address without it (a token belongs in the action's token, not in the URL)", Redact(loc))
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if err := checkPath(loc, strings.Trim(u.Path, "/")); err != nil {
		return Location{}, err
	}
	host := hostKey(u.Scheme, u.Host)
	n, tree, err := splitTree(loc, host, segs)
	if err != nil {
		return Location{}, err
	}
	r := url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: "/" + strings.Join(segs[:n], "/")}
	return Location{Repo: r.String(), Scheme: u.Scheme, Host: host, Tree: tree, userinfo: u.User}, nil
}

// splitTree finds where the repository's path ends: at GitLab's "-/tree",
// or at a "tree" segment after OWNER/REPO, whichever comes first. It returns
// the number of repository segments and the tree path after the marker.
func splitTree(loc, host string, segs []string) (int, string, error) {
	github := host == "github.com" || host == "www.github.com"
	for i := 2; i < len(segs); i++ {
		switch {
		case segs[i] == "-" && i+2 < len(segs) && segs[i+1] == "tree":
			return i, strings.Join(segs[i+2:], "/"), nil
		case segs[i] == "tree" && i+1 < len(segs):
			return i, strings.Join(segs[i+1:], "/"), nil
		case github:
			// github.com has exactly OWNER/REPO, so anything else after it
			// (blob/, a path without tree/) cannot be cloned.
			return 0, "", fmt.Errorf("%q is not a repository or tree address on GitHub; write https://github.com/OWNER/REPO or https://github.com/OWNER/REPO/tree/BRANCH[/PATH]", Redact(loc))
		}
	}
	if len(segs) < 2 || (github && len(segs) != 2) {
		return 0, "", fmt.Errorf("%q names no repository; write https://%s/OWNER/REPO[/tree/BRANCH[/PATH]]", Redact(loc), host)
	}
	return len(segs), "", nil
}

// checkPath refuses empty, "." and ".." segments: they cannot be part of a
// repository path or a branch, and a ".." in the directory part would point
// outside the clone.
func checkPath(loc, p string) error {
	if p == "" {
		return fmt.Errorf("%q names no repository", Redact(loc))
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" || s == "." || s == ".." {
			return fmt.Errorf("%q has an empty, \".\" or \"..\" path segment; write the repository's address as the host shows it", Redact(loc))
		}
	}
	return nil
}

// hostKey is a host as compared with the token host: lower-case, without
// the scheme's default port.
func hostKey(scheme, host string) string {
	host = strings.ToLower(host)
	def := map[string]string{"https": ":443", "http": ":80", "ssh": ":22"}[scheme]
	if def != "" {
		host = strings.TrimSuffix(host, def)
	}
	return host
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Redact removes what may be a secret from a location, for messages: an
// https URL's user information (GitHub tokens are often written as the user
// name alone) and its query string. An ssh user name ("git") is kept.
func Redact(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" {
		// Not a URL; an scp-style address has no place for a password.
		// Still cut anything that looks like user information behind a
		// scheme, in case the URL failed to parse for another reason.
		if i := strings.Index(loc, "://"); i >= 0 {
			rest := loc[i+3:]
			if j := strings.LastIndex(rest, "@"); j >= 0 {
				return loc[:i+3] + "***@" + rest[j+1:]
			}
		}
		return loc
	}
	if u.RawQuery != "" {
		u.RawQuery = "***"
	}
	if u.User == nil {
		return u.String()
	}
	if u.Scheme == "ssh" {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	// Built by hand: url.User would print "***" as %2A%2A%2A.
	u.User = nil
	return strings.Replace(u.String(), "://", "://***@", 1)
}
