package extensions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/sear-ci/sear/internal/config"
)

// DefaultNodeDir is where extensions go on the nodes when Options.NodeDir
// is empty: inside the uploaded workspace, under sear's own directory.
const DefaultNodeDir = "./.sear/extensions"

// Options configures Fetch.
type Options struct {
	// Dir is the directory on the runner that receives the clones, one
	// Dir/<name> per git extension. It is created if missing; use a fresh
	// one per run, since Fetch replaces Dir/<name> without asking.
	Dir string
	// NodeDir is where the run puts Dir's extensions on the nodes, as the
	// job sees it from its working directory, e.g. "./.sear/extensions".
	// Each git location becomes NodeDir/<name>. Start a relative NodeDir
	// with "./": Flambé and sear take a location that does not exist and
	// does not start with "/", "./" or "~" for a pip requirement. Empty
	// means DefaultNodeDir.
	NodeDir string
	// Runnable is the runnable file's text. When set, Set.Runnable is this
	// text with each git location replaced by its NodeDir path.
	Runnable []byte
	// Token is sent, as GitHub expects an Actions token, to TokenHost and
	// nowhere else. Empty means no token.
	Token string
	// TokenHost is the host the token belongs to, as GITHUB_SERVER_URL
	// gives it (https://github.com) or as host[:port].
	TokenHost string
	// SSHAgentSocket is the SSH agent's socket (SSH_AUTH_SOCK); ssh:// and
	// git@host:path locations need it.
	SSHAgentSocket string
	// Logf reports each clone; nil is silent. Nothing logged holds a
	// credential.
	Logf func(format string, args ...any)
}

// Set is the outcome of Fetch.
type Set struct {
	// Clones are the git extensions, in the runnable's order. Upload each
	// Dir to NodePath (relative to the job's working directory).
	Clones []Clone
	// Runnable is Options.Runnable with each git location replaced by its
	// clone's NodePath; upload it in place of the original. It is nil when
	// Options.Runnable was nil.
	Runnable []byte
}

// Clone is one git extension, cloned and ready to upload.
type Clone struct {
	Name     string
	Location Location // the parsed location, without credentials
	Ref      string   // what was cloned, e.g. refs/heads/release/2024.1
	Commit   string   // the commit's hash
	Subdir   string   // the repository directory the extension is, "" for all of it
	Dir      string   // the extension on the runner: Options.Dir/<name>, without .git
	NodePath string   // the extension on the nodes: Options.NodeDir/<name>
}

// Locations maps each cloned extension's name to its NodePath, the
// argument Rewrite takes.
func (s *Set) Locations() map[string]string {
	m := make(map[string]string, len(s.Clones))
	for _, c := range s.Clones {
		m[c.Name] = c.NodePath
	}
	return m
}

// safeName is a directory name that cannot escape Dir; config already
// requires a Python module name, so this only guards callers that build
// extensions by hand.
var safeName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Fetch clones every git extension of exts (shallow, one branch) into
// opts.Dir and rewrites opts.Runnable to point at the clones. Local paths
// and pip requirements are left as they are: the first are uploaded with
// the workspace, the second are for Flambé's -i to install on the
// orchestrator. Every extension is tried, and all failures are reported
// together.
func Fetch(ctx context.Context, exts []config.Extension, opts Options) (*Set, error) {
	if opts.NodeDir == "" {
		opts.NodeDir = DefaultNodeDir
	}
	set := &Set{}
	var errs []error
	seen := map[string]bool{}
	for _, e := range exts {
		if e.Kind != config.ExtGit {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("clone the extensions: %w", err))
			break
		}
		c, err := opts.fetchChecked(ctx, e, seen)
		if err != nil {
			errs = append(errs, at(e.Pos, opts.redact(err, e.Location)))
			continue
		}
		set.Clones = append(set.Clones, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Runnable != nil {
		out, err := Rewrite(opts.Runnable, set.Locations())
		if err != nil {
			return nil, fmt.Errorf("point the runnable at the cloned extensions: %w", err)
		}
		set.Runnable = out
	}
	return set, nil
}

// fetchChecked refuses what would make Dir/<name> ambiguous or unsafe
// before cloning.
func (o *Options) fetchChecked(ctx context.Context, e config.Extension, seen map[string]bool) (Clone, error) {
	switch {
	case o.Dir == "":
		return Clone{}, fmt.Errorf("extension %q: no directory to clone into (Options.Dir is empty)", e.Name)
	case !safeName.MatchString(e.Name) || seen[e.Name]:
		return Clone{}, fmt.Errorf("extension %q: the name must be a Python module name, given once", e.Name)
	}
	seen[e.Name] = true
	return o.fetchOne(ctx, e)
}

// at puts the extension's place in the runnable before err, as
// file:line:col, so the user knows which line to change.
func at(p config.Pos, err error) error {
	if p.File == "" || p.Line == 0 {
		return err
	}
	return &posError{pos: fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col), err: err}
}

type posError struct {
	pos string
	err error
}

func (e *posError) Error() string { return e.pos + ": " + e.err.Error() }
func (e *posError) Unwrap() error { return e.err }

func (o *Options) fetchOne(ctx context.Context, e config.Extension) (Clone, error) {
	loc, err := ParseLocation(e.Location)
	if err != nil {
		return Clone{}, fmt.Errorf("extension %q: %w", e.Name, err)
	}
	creds, err := o.credentialsFor(ctx, loc)
	if err != nil {
		return Clone{}, fmt.Errorf("extension %q: %w", e.Name, err)
	}
	defer creds.Close()
	refs, err := listRefs(ctx, loc, creds)
	if err != nil {
		return Clone{}, o.describe(e.Name, loc, creds, err)
	}
	t, err := refs.resolve(loc.Tree)
	if errors.Is(err, errNoDefault) {
		return Clone{}, fmt.Errorf("extension %q: %s: %w; name the branch as .../tree/BRANCH", e.Name, loc.Repo, err)
	} else if err != nil {
		return Clone{}, fmt.Errorf("extension %q: %s: %w", e.Name, loc.Repo, err)
	}
	c := Clone{Name: e.Name, Location: loc, Ref: string(t.Ref), Subdir: t.Subdir,
		Dir: filepath.Join(o.Dir, e.Name), NodePath: nodePath(o.NodeDir, e.Name)}
	if c.Commit, err = o.clone(ctx, loc, creds, t, c.Dir); err != nil {
		return Clone{}, o.describe(e.Name, loc, creds, err)
	}
	o.logf("sear: extension %s: cloned %s (%s at %.12s)%s", c.Name, loc.Repo, t.Ref.Short(), c.Commit, subdirNote(t.Subdir))
	return c, nil
}

func subdirNote(dir string) string {
	if dir == "" {
		return ""
	}
	return ", directory " + dir
}

// nodePath joins without path.Join's cleaning, which would drop the "./"
// that keeps a relative location from reading as a pip requirement.
func nodePath(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}

func listRefs(ctx context.Context, loc Location, creds credentials) (refSet, error) {
	r := git.NewRemote(memory.NewStorage(), &gitconfig.RemoteConfig{Name: "origin", URLs: []string{loc.Repo}})
	refs, err := r.ListContext(ctx, &git.ListOptions{Auth: creds.auth})
	if err != nil {
		return refSet{}, err
	}
	return newRefSet(refs), nil
}

// clone fetches one commit of one ref into a scratch directory next to
// dest, then moves the extension's directory to dest. Only the files
// travel on: the nodes never run git, and .git would double the upload.
func (o *Options) clone(ctx context.Context, loc Location, creds credentials, t target, dest string) (string, error) {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return "", fmt.Errorf("make the extensions directory: %w", err)
	}
	scratch, err := os.MkdirTemp(o.Dir, ".clone-")
	if err != nil {
		return "", fmt.Errorf("make a scratch directory for the clone: %w", err)
	}
	defer os.RemoveAll(scratch)
	repo, err := git.PlainCloneContext(ctx, scratch, false, &git.CloneOptions{
		URL: loc.Repo, Auth: creds.auth, ReferenceName: t.Ref,
		SingleBranch: true, Depth: 1, Tags: git.NoTags,
	})
	if err != nil {
		return "", err
	}
	head, err := repo.Head()
	if err != nil {
		return "", fmt.Errorf("read the cloned commit: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(scratch, ".git")); err != nil {
		return "", fmt.Errorf("remove .git from the clone: %w", err)
	}
	src, err := subdir(scratch, t)
	if err != nil {
		return "", err
	}
	if err := os.RemoveAll(dest); err != nil {
		return "", fmt.Errorf("replace %s: %w", dest, err)
	}
	if err := os.Rename(src, dest); err != nil {
		return "", fmt.Errorf("move the clone into place: %w", err)
	}
	return head.Hash().String(), nil
}

// subdir finds the extension's directory in the clone. Every step is
// checked with Lstat: a symlink in the repository must not lead the move
// outside the clone.
func subdir(root string, t target) (string, error) {
	p := root
	if t.Subdir == "" {
		return p, nil
	}
	segs := strings.Split(t.Subdir, "/")
	for i, seg := range segs {
		p = filepath.Join(p, seg)
		info, err := os.Lstat(p)
		switch {
		case err != nil:
			return "", fmt.Errorf("directory %q does not exist on %s (%s)%s", t.Subdir, t.Ref.Short(), topDirs(root), branchHint(t))
		case info.Mode()&os.ModeSymlink != 0:
			return "", fmt.Errorf("%q is a symbolic link on %s, not a directory; give the directory it points to", strings.Join(segs[:i+1], "/"), t.Ref.Short())
		case !info.IsDir():
			return "", fmt.Errorf("%q is not a directory on %s (%s); the extension must be a directory, the one holding its setup.py", t.Subdir, t.Ref.Short(), topDirs(root))
		}
	}
	return p, nil
}

// branchHint suggests the longer branches the user may have meant when a
// shorter branch or tag took the start of the tree path.
func branchHint(t target) string {
	if t.nearest == "" {
		return ""
	}
	return fmt.Sprintf("; the location was read as %s and directory %q; if the branch is longer, the nearest branches are %s", t.Ref.Short(), t.Subdir, t.nearest)
}

// topDirs lists the clone's top-level directories, to show what is there.
func topDirs(root string) string {
	var dirs []string
	if entries, err := os.ReadDir(root); err == nil {
		for _, d := range entries {
			if d.IsDir() && d.Name() != ".git" {
				dirs = append(dirs, d.Name())
			}
		}
	}
	if len(dirs) == 0 {
		return "it has no directories at the top"
	}
	if len(dirs) > 8 {
		dirs = append(dirs[:8], "…")
	}
	return "its top-level directories are " + strings.Join(dirs, ", ")
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}
