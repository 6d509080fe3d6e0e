package extensions

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// target is what to clone: a branch or tag, and the directory inside it
// that is the extension ("" for the whole repository).
type target struct {
	Ref    plumbing.ReferenceName
	Subdir string
	// nearest lists the branches most like the tree path, for an error
	// about Subdir: a missing directory may really be a mistyped branch
	// that a shorter branch or tag happened to prefix.
	nearest string
}

// refSet is the remote's advertised references.
type refSet struct {
	head     plumbing.ReferenceName // the default branch, or "" if not advertised
	branches []string               // short names, sorted
	tags     []string
}

func newRefSet(refs []*plumbing.Reference) refSet {
	var rs refSet
	for _, r := range refs {
		switch {
		case r.Name() == plumbing.HEAD && r.Type() == plumbing.SymbolicReference:
			rs.head = r.Target()
		case r.Name().IsBranch():
			rs.branches = append(rs.branches, r.Name().Short())
		case r.Name().IsTag() && !strings.HasSuffix(string(r.Name()), "^{}"):
			rs.tags = append(rs.tags, r.Name().Short())
		}
	}
	sort.Strings(rs.branches)
	sort.Strings(rs.tags)
	return rs
}

var commitHash = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// errNoDefault means the remote advertised no HEAD to clone.
var errNoDefault = errors.New("the remote does not say which branch is its default")

// resolve splits a tree path into a ref and a directory. A branch may
// contain "/" (release/2024.1), so the ref is the longest branch or tag
// name that is the whole tree path or a prefix of it ending at a "/";
// Flambé took only the first segment and cloned the wrong thing. A branch
// wins over a tag of the same name, as GitHub's tree/ pages do.
func (rs refSet) resolve(tree string) (target, error) {
	if tree == "" {
		if rs.head == "" {
			return target{}, errNoDefault
		}
		return target{Ref: rs.head}, nil
	}
	best, bestLen := plumbing.ReferenceName(""), -1
	consider := func(name string, ref plumbing.ReferenceName) {
		if (tree == name || strings.HasPrefix(tree, name+"/")) && len(name) > bestLen {
			best, bestLen = ref, len(name)
		}
	}
	for _, t := range rs.tags {
		consider(t, plumbing.NewTagReferenceName(t))
	}
	for _, b := range rs.branches {
		// Equal length replaces the tag: the branch wins.
		if tree == b || strings.HasPrefix(tree, b+"/") {
			if len(b) >= bestLen {
				best, bestLen = plumbing.NewBranchReferenceName(b), len(b)
			}
		}
	}
	if bestLen < 0 {
		return target{}, rs.notFound(tree)
	}
	t := target{Ref: best, Subdir: strings.TrimPrefix(tree[bestLen:], "/")}
	for _, b := range rs.branches {
		if strings.HasPrefix(b, best.Short()+"/") {
			t.nearest = rs.closest(tree, 5)
			break
		}
	}
	return t, nil
}

// notFound explains a tree path that starts with no branch or tag, listing
// the branches most like it so a typo is easy to see.
func (rs refSet) notFound(tree string) error {
	first, _, _ := strings.Cut(tree, "/")
	if commitHash.MatchString(first) {
		return fmt.Errorf("%q starts with what looks like a commit hash; sear clones branches and tags (shallow), so push a branch or tag at that commit and use its name", tree)
	}
	if len(rs.branches) == 0 {
		return fmt.Errorf("no branch or tag of the repository starts %q; it has no branches at all", tree)
	}
	return fmt.Errorf("no branch or tag of the repository starts %q; the part after tree/ must begin with one; branches: %s", tree, rs.closest(tree, 5))
}

// closest lists up to n branch names, those sharing the longest prefix with
// tree first, then the rest by name, and says how many more exist.
func (rs refSet) closest(tree string, n int) string {
	names := append([]string(nil), rs.branches...)
	sort.SliceStable(names, func(i, j int) bool {
		return commonPrefix(names[i], tree) > commonPrefix(names[j], tree)
	})
	more := ""
	if len(names) > n {
		more = fmt.Sprintf(" and %d more", len(names)-n)
		names = names[:n]
	}
	q := make([]string, len(names))
	for i, b := range names {
		q[i] = fmt.Sprintf("%q", b)
	}
	return strings.Join(q, ", ") + more
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}
