package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// builtinNamespaces are the lower-case tag namespaces Flambé registers
// itself: PyTorch's modules and optimizers as !torch.X, Ray Tune's
// schedulers and searchers as !tune.X (!ray.X in later releases).
var builtinNamespaces = []string{"torch", "tune", "ray"}

// linkTags hold a reference to another object, written
// root[key][key].attr.attr.
var linkTags = []string{"!@", "!link", "!Link", "!call", "!FunctionCallLink"}

func isLinkTag(tag string) bool { return contains(linkTags, tag) }

// flambeTag is the shape of every other tag Flambé accepts: a class name,
// optionally behind an extension namespace or before a factory method
// (!Embeddings.from_pretrained).
var flambeTag = regexp.MustCompile(`^![A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// link is Flambé's link syntax: a root, then [key] and .attr steps.
var link = regexp.MustCompile(`^[^.\[\]\s]+(\[[^\[\]]+\]|\.[^.\[\]\s]+)*$`)

func linkRoot(v string) string {
	if i := strings.IndexAny(v, ".["); i >= 0 {
		return v[:i]
	}
	return v
}

// walker checks every tagged node of the runnable document.
type walker struct {
	src         *source
	exts        []Extension
	search      bool
	firstSearch *yaml.Node
}

func (w *walker) walk(n *yaml.Node) {
	// Aliases point at nodes checked where their anchor stands; following
	// them again would let a few lines of YAML expand exponentially.
	if n == nil || n.Kind == yaml.AliasNode {
		return
	}
	if tag := customTag(n); tag != "" {
		w.tag(n, tag)
	}
	for _, c := range n.Content {
		w.walk(c)
	}
}

func (w *walker) tag(n *yaml.Node, tag string) {
	switch {
	case tag == "!g":
		w.markSearch(n)
		w.grid(n)
	case tag == "!s":
		w.markSearch(n)
		w.sample(n)
	case isLinkTag(tag):
		w.link(n, tag)
	case tag == "!$" || tag == "!cluster":
		if n.Kind != yaml.ScalarNode {
			w.src.errorAt(n, "%s takes a single value, not %s", tag, describeShape(n))
		}
	case !flambeTag.MatchString(tag):
		w.src.errorAt(n, "%q is not a Flambé tag; tags are class names such as !Trainer, !torch.Adam or !<extension>.<Class>", tag)
	default:
		w.namespace(n, tag)
	}
}

func (w *walker) markSearch(n *yaml.Node) {
	if !w.search {
		w.search, w.firstSearch = true, n
	}
}

func (w *walker) grid(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		w.src.errorAt(n, "!g takes a list of the values to search, like !g [0.1, 0.01], not %s", describeShape(n))
		return
	}
	if len(n.Content) == 0 {
		w.src.errorAt(n, "!g has no values to search; give at least one")
	}
}

// sample checks !s [low, high, k] or [low, high, k, decimals], which
// Flambé's SampledUniformSearchOptions needs (a 2-item list crashes there).
func (w *walker) sample(n *yaml.Node) {
	if n.Kind != yaml.SequenceNode || len(n.Content) < 3 || len(n.Content) > 4 {
		w.src.errorAt(n, "!s takes [low, high, k] or [low, high, k, decimals], k being how many values to sample, not %s", describeLen(n))
		return
	}
	for i, item := range n.Content {
		item = resolve(item)
		t := item.ShortTag()
		switch {
		case i < 2 && t != "!!int" && t != "!!float":
			w.src.errorAt(item, "!s bounds must be numbers, not %s", describe(item))
		case i >= 2 && t != "!!int":
			w.src.errorAt(item, "!s %s must be a whole number, not %s", []string{"", "", "k", "decimals"}[i], describe(item))
		case i == 2:
			if k, err := strconv.ParseInt(item.Value, 0, 64); err != nil || k < 1 {
				w.src.errorAt(item, "!s k (number of samples) must be >= 1, not %s", item.Value)
			}
		}
	}
}

func describeLen(n *yaml.Node) string {
	if n.Kind == yaml.SequenceNode {
		return fmt.Sprintf("a list of %d", len(n.Content))
	}
	return describeShape(n)
}

func (w *walker) link(n *yaml.Node, tag string) {
	switch {
	case n.Kind != yaml.ScalarNode:
		w.src.errorAt(n, "%s takes a reference such as %s trainer.model, not %s", tag, tag, describeShape(n))
	case n.Value == "":
		w.src.errorAt(n, "%s has no target; write the block and attribute it refers to, such as %s trainer.model", tag, tag)
	case strings.HasSuffix(n.Value, "."):
		w.src.errorAt(n, "link %q has a trailing dot; name the attribute after it or remove the dot", n.Value)
	case !link.MatchString(n.Value):
		w.src.errorAt(n, "link %q is malformed; write root[key].attr, for example %s train.model.embedder", n.Value, tag)
	}
}

// namespace checks that a namespaced tag (!ns.Class) names a declared
// extension or one of Flambé's own namespaces. A typo here would otherwise
// only fail on the cluster, after paying for it.
func (w *walker) namespace(n *yaml.Node, tag string) {
	ns, _, ok := strings.Cut(tag[1:], ".")
	if !ok || ns == "" || ns[0] < 'a' || ns[0] > 'z' {
		// !Class or !Class.factory: a class registered by Flambé or an
		// extension, which only Flambé can resolve.
		return
	}
	if contains(builtinNamespaces, ns) {
		return
	}
	names := append([]string(nil), builtinNamespaces...)
	for _, e := range w.exts {
		if e.Name == ns {
			return
		}
		names = append(names, e.Name)
	}
	hint := "declare it in the extensions document (the first YAML document: name: location)"
	if near, ok := nearest(ns, names); ok {
		hint = fmt.Sprintf("did you mean !%s%s?", near, tag[1+len(ns):])
	}
	w.src.errorAt(n, "%q uses %q, which is not a declared extension; %s", tag, ns, hint)
}

// scpLike is git's scp-style address, user@host:path.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*$|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.+$`)

func (s *source) extensions(n *yaml.Node) []Extension {
	if resolve(n).Kind == yaml.ScalarNode && resolve(n).ShortTag() == "!!null" {
		s.errorAt(n, "the extensions document is empty; remove it and its \"---\", or list extensions as name: location")
		return nil
	}
	var out []Extension
	for i, kv := 0, resolve(n); kv.Kind == yaml.MappingNode && i+1 < len(kv.Content); i += 2 {
		k := kv.Content[i]
		if !extensionName.MatchString(k.Value) {
			s.errorAt(k, "extension name %q is not a Python module name; Flambé imports it and uses it in tags as !%s.Class, so use letters, digits and \"_\"", k.Value, k.Value)
			continue
		}
		v, ok := s.str(field{key: k, value: kv.Content[i+1]})
		if !ok {
			continue
		}
		out = append(out, Extension{Name: k.Value, Location: v, Kind: s.extensionKind(kv.Content[i+1], v), Pos: Pos{File: s.name, Line: k.Line, Col: k.Column}})
	}
	s.fields(n, "the extensions document", nil)
	return out
}

// urlScheme is how a location says it is a URL. Flambé asks urllib's
// urlparse for a scheme, which it finds where Go's url.Parse refuses the
// whole location: Flambé's own ssh://git@host:owner/repo.git, an
// scp-style path after a colon, reads to url.Parse as a bad port. The
// scheme is read by hand, so that form is cloned, not taken for a pip
// requirement; package extensions parses the rest.
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// extensionKind follows Flambé's order: a URL, then an existing path, then
// a pip requirement, except that a path-looking location that does not
// exist is an error rather than a surprising pip install.
func (s *source) extensionKind(n *yaml.Node, loc string) ExtensionKind {
	if m := urlScheme.FindStringSubmatch(loc); m != nil {
		switch scheme := strings.ToLower(m[1]); scheme {
		case "https", "http", "ssh", "git", "file":
			return ExtGit
		default:
			s.errorAt(n, "extension location %q uses %q; sear clones https://, ssh:// and git@host:path locations", loc, scheme+"://")
		}
		return ExtGit
	}
	if scpLike.MatchString(loc) {
		return ExtGit
	}
	if localExtension(loc) {
		return ExtLocal
	}
	if strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "./") || strings.HasPrefix(loc, "../") || strings.HasPrefix(loc, "~") {
		s.errorAt(n, "extension path %q does not exist; paths are relative to the working directory", loc)
		return ExtLocal
	}
	return ExtPip
}
