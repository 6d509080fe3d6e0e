package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// maxExpanded bounds what aliases may add to a document sear decodes into
// values (a cluster file, the extensions document, a !Script). yaml.v3
// keeps an alias as one node, but reading a value through it copies the
// anchored value, so a few lines of anchors nested ten deep become
// gigabytes in the plan, the report, error messages or an SSH command:
// billion laughs. Real files use anchors to avoid repeating a few lines,
// far below this. The bound counts what aliases add, not the file's own
// text, which MaxFileSize already bounds.
const maxExpanded = 1 << 20

// maxCommandLine bounds a !Script's command line, every argument plus the
// NUL execve puts after it. A node could not run anything longer: Linux
// caps argv and the environment at ARG_MAX (2 MiB by default), and sshd
// hands the whole command to the node's shell as one string, capped at
// 128 KiB (MAX_ARG_STRLEN). The bound sits above those so that nothing a
// node could run is refused; it is there so that sear never builds, logs
// or posts a command line of unbounded size.
const maxCommandLine = 1 << 20

// expansion measures what reading a document through its aliases costs.
type expansion struct {
	sizes map[*yaml.Node]int // expanded size of each anchored node seen
}

// boundExpansion reports, at the alias where it happens, a document whose
// aliases expand to more than maxExpanded, and returns false then: the
// caller must not decode the document, which would do the expansion.
// Aliases are counted in document order, so the error always lands on the
// same alias, the first one past the bound.
func (s *source) boundExpansion(root *yaml.Node) bool {
	e := &expansion{sizes: map[*yaml.Node]int{}}
	total := 0
	var bad *yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || bad != nil {
			return
		}
		if n.Kind == yaml.AliasNode {
			if total = sat(total + e.size(n.Alias)); total > maxExpanded {
				bad = n
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	if bad == nil {
		return true
	}
	anchor := "its anchor"
	if t := resolve(bad); t != nil && t != bad {
		anchor = fmt.Sprintf("&%s on line %d", t.Anchor, t.Line)
	}
	s.errorAt(bad, "alias *%s (of %s) brings what this file's aliases expand to past %s, the most sear expands; do not repeat large anchors; put the data in a file the job reads", bad.Value, anchor, byteSize(maxExpanded))
	return false
}

// size is the node's size with every alias in it expanded: its scalars'
// bytes plus one per node, about its length written out in flow style.
// Anchored nodes are measured once, so the cost is linear in the document
// however deeply the anchors nest; sizes saturate just past maxExpanded.
func (e *expansion) size(n *yaml.Node) int {
	if n = resolve(n); n == nil || n.Kind == yaml.AliasNode {
		return 0
	}
	if v, ok := e.sizes[n]; ok {
		return v
	}
	if n.Anchor != "" {
		// yaml.v3 refuses an alias to an anchor still being defined, so
		// there is no cycle; the placeholder is a second line of defence.
		e.sizes[n] = maxExpanded + 1
	}
	total := 1 + len(n.Value)
	for _, c := range n.Content {
		if total = sat(total + e.size(c)); total > maxExpanded {
			break
		}
	}
	if n.Anchor != "" {
		e.sizes[n] = total
	}
	return total
}

// sat keeps a running size from overflowing: past maxExpanded the exact
// figure no longer matters.
func sat(n int) int {
	if n > maxExpanded || n < 0 {
		return maxExpanded + 1
	}
	return n
}
