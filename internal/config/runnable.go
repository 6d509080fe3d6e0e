package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RunnableKind says how sear launches a runnable.
type RunnableKind string

// The runnable kinds.
const (
	// KindScript is a top-level !Script, run natively as
	// python3 -m <script> <args…> --<k> <v>…, with no Flambé install.
	KindScript RunnableKind = "script"
	// KindFlambe is any other runnable (!Experiment, !Builder, an
	// extension's runnable), run with the flambe command on the orchestrator.
	KindFlambe RunnableKind = "flambe"
)

// ExtensionKind says where an extension comes from.
type ExtensionKind string

// The extension location kinds, in Flambé's order of detection.
const (
	ExtGit   ExtensionKind = "git"   // cloned on the runner and uploaded
	ExtLocal ExtensionKind = "local" // a directory uploaded with the workspace
	ExtPip   ExtensionKind = "pip"   // a requirement pip installs on the nodes
)

// Extension is one entry of a runnable's extensions document.
type Extension struct {
	Name     string // the importable module name; tags use it as !Name.Class
	Location string
	Kind     ExtensionKind
	Pos      Pos
}

// Script is a !Script runnable: a module run with Flambé's argument rules.
type Script struct {
	Module string
	Args   []string // positional, already converted as Python's str() would
	Kwargs []Kwarg  // in file order
}

// Kwarg is one --key value pair of a !Script.
type Kwarg struct{ Key, Value string }

// Argv is the script's command line: python3 -m <module> <args…> --<k> <v>…,
// which is what Flambé's runpy.run_module call sees in sys.argv.
func (s *Script) Argv() []string {
	argv := []string{"python3", "-m", s.Module}
	argv = append(argv, s.Args...)
	for _, kw := range s.Kwargs {
		argv = append(argv, "--"+kw.Key, kw.Value)
	}
	return argv
}

// Runnable is a validated runnable file.
type Runnable struct {
	File       string
	Kind       RunnableKind
	Tag        string // the root tag, e.g. "!Experiment"
	Name       string // the experiment's name, or the file's base name
	Extensions []Extension
	Script     *Script // set when Kind == KindScript
	// Search is true when the runnable holds search options (!g, !s).
	Search bool
	// Root is the runnable document's root node, kept to rewrite extension
	// locations in the copy that is uploaded.
	Root *yaml.Node
	// ExtensionsDoc is the extensions document's root, or nil.
	ExtensionsDoc *yaml.Node
	Pos           Pos
	// Source is the file's text as read: the job reads this (or its copy
	// with extension locations rewritten), byte for byte.
	Source []byte `json:"-"`
}

// experimentName is Flambé's rule, ^([a-zA-Z0-9]+[_-]*)+$, written without
// the nested repetition that backtracks exponentially in Python.
var experimentName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`)

// extensionName is an importable top-level module name, which Flambé uses
// as the tag namespace of the extension's classes.
var extensionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var experimentFields = []string{
	"name", "pipeline", "resume", "debug", "devices", "save_path", "resources", "search",
	"schedulers", "reduce", "env", "max_failures", "stop_on_failure", "merge_plot", "user_provider",
}

var scriptFields = []string{"script", "args", "kwargs", "output_dir_arg"}

// runnableTags are the runnables Flambé itself registers; an extension may
// add its own as !<extension>.<Class>.
var runnableTags = []string{"!Experiment", "!Script", "!Builder"}

// LoadRunnable reads and validates a runnable file. All problems are
// reported at once as Errors.
func LoadRunnable(path string) (*Runnable, error) {
	src, err := readSource(path)
	if err != nil {
		return nil, err
	}
	return parseRunnable(src)
}

// ParseRunnable validates runnable YAML held in memory; name is used in
// errors and relative local extension paths are resolved from the working
// directory, as Flambé does.
func ParseRunnable(name string, data []byte) (*Runnable, error) {
	src, err := newSource(name, data)
	if err != nil {
		return nil, err
	}
	return parseRunnable(src)
}

func parseRunnable(src *source) (*Runnable, error) {
	docs, ok := src.documents()
	if !ok {
		return nil, src.errs.orNil()
	}
	r := &Runnable{File: src.name, Source: src.data}
	switch len(docs) {
	case 0:
		src.errorFile("is empty; a runnable file holds an optional extensions document, then the runnable (for example !Experiment)")
		return nil, src.errs.orNil()
	case 1:
		r.Root = documentRoot(docs[0])
	case 2:
		r.ExtensionsDoc = documentRoot(docs[0])
		r.Root = documentRoot(docs[1])
		if src.boundExpansion(r.ExtensionsDoc) {
			r.Extensions = src.extensions(r.ExtensionsDoc)
		}
	default:
		src.errorAt(docs[2], "a runnable file holds at most two YAML documents (an optional extensions map, then the runnable), found %d; remove the extra \"---\"", len(docs))
		return nil, src.errs.orNil()
	}
	r.Pos = Pos{File: src.name, Line: r.Root.Line, Col: r.Root.Column}
	src.runnableRoot(r)
	src.scriptExtensions(r)
	w := &walker{src: src, exts: r.Extensions}
	w.walk(r.Root)
	r.Search = w.search
	if r.Kind == KindScript && w.search {
		src.errorAt(w.firstSearch, "search options (!g, !s) only work inside an !Experiment; a top-level !Script runs once")
	}
	if err := src.errs.orNil(); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *source) runnableRoot(r *Runnable) {
	root := r.Root
	r.Tag = customTag(root)
	r.Name = strings.TrimSuffix(filepath.Base(s.name), filepath.Ext(s.name))
	switch {
	case r.Tag == "!Experiment":
		r.Kind = KindFlambe
		s.experiment(root, r)
	case r.Tag == "!Script":
		r.Kind = KindScript
		// Only a !Script is expanded here: sear passes str() of its values
		// on the command line. Any other runnable goes to Flambé as the
		// file's text, aliases unexpanded, and is expanded by the job.
		if !s.boundExpansion(root) {
			r.Script = &Script{}
			return
		}
		r.Script = s.script(root)
		if r.Script.Module != "" {
			r.Name = r.Script.Module
		}
	case r.Tag == "!Builder" || s.extensionTag(r.Tag, r.Extensions):
		r.Kind = KindFlambe
	case r.Tag == "!AWSCluster" || r.Tag == "!LocalCluster" || r.Tag == "!SSHCluster":
		s.errorAt(root, "%s is a cluster, not a runnable; pass this file as --cluster (the action's cluster input)", r.Tag)
	case r.Tag == "":
		s.errorAt(root, "the runnable has no tag; start it with a runnable such as !Experiment or !Script")
	default:
		hint := "a runnable is !Experiment, !Script, !Builder or an extension's runnable written !<extension>.<Class>"
		if near, ok := nearest(r.Tag, runnableTags); ok {
			hint = fmt.Sprintf("did you mean %s?", near)
		}
		s.errorAt(root, "%q cannot be run on its own; %s", r.Tag, hint)
	}
}

// extensionTag reports whether tag names a class of a declared extension.
func (s *source) extensionTag(tag string, exts []Extension) bool {
	ns, _, ok := strings.Cut(strings.TrimPrefix(tag, "!"), ".")
	if !ok {
		return false
	}
	for _, e := range exts {
		if e.Name == ns {
			return true
		}
	}
	return false
}

func (s *source) experiment(root *yaml.Node, r *Runnable) {
	fs := s.fields(root, "!Experiment", experimentFields)
	if root.Kind != yaml.MappingNode {
		return
	}
	f, ok := fs["name"]
	if !ok {
		s.errorAt(root, "!Experiment is missing %q; Flambé needs a name for its output folder", "name")
	} else if v, ok := s.str(f); ok {
		if !experimentName.MatchString(v) {
			s.errorAt(f.value, "experiment name %q should contain only alphanumeric characters (with optional - or _ in between), starting with a letter or digit", v)
		}
		r.Name = v
	}
	if f, ok := fs["pipeline"]; !ok {
		s.errorAt(root, "!Experiment is missing %q, the ordered stages to run", "pipeline")
	} else {
		s.fields(f.value, "\"pipeline\"", nil)
	}
	if f, ok := fs["debug"]; ok {
		if v, ok := s.boolean(f); ok && v {
			s.errorAt(f.value, "debug mode cannot run on a cluster (Flambé refuses it too); remove \"debug: true\"")
		}
	}
	for _, name := range []string{"max_failures"} {
		if f, ok := fs[name]; ok {
			if v, ok := s.integer(f); ok && v < 0 {
				s.errorAt(f.value, "%q must be 0 or more", name)
			}
		}
	}
	for _, name := range []string{"stop_on_failure", "merge_plot"} {
		if f, ok := fs[name]; ok {
			s.boolean(f)
		}
	}
	if f, ok := fs["save_path"]; ok {
		s.optStr(f)
	}
	s.experimentLinks(fs)
}

// experimentLinks checks that every link (!@ block.attr) starts at a block
// of the pipeline or a resource, as Flambé requires ("No top level object").
func (s *source) experimentLinks(fs map[string]field) {
	roots := map[string]bool{}
	var names []string
	if f, ok := fs["pipeline"]; ok && resolve(f.value).Kind == yaml.MappingNode {
		for name := range s.quietFields(f.value) {
			roots[name] = true
			names = append(names, name)
		}
	}
	if f, ok := fs["resources"]; ok && resolve(f.value).Kind == yaml.MappingNode {
		for name, v := range s.quietFields(f.value) {
			// Flambé 0.3 nests resources under local: and remote:.
			if (name == "local" || name == "remote") && resolve(v).Kind == yaml.MappingNode {
				for inner := range s.quietFields(v) {
					roots[inner] = true
					names = append(names, inner)
				}
				continue
			}
			roots[name] = true
			names = append(names, name)
		}
	}
	if f, ok := fs["pipeline"]; ok {
		s.checkLinkRoots(f.value, roots, names)
	}
}

// quietFields lists a mapping's keys without reporting problems (they are
// reported where the mapping itself is validated).
func (s *source) quietFields(n *yaml.Node) map[string]*yaml.Node {
	n = resolve(n)
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode {
			out[k.Value] = n.Content[i+1]
		}
	}
	return out
}

func (s *source) checkLinkRoots(n *yaml.Node, roots map[string]bool, names []string) {
	if n == nil || n.Kind == yaml.AliasNode {
		return
	}
	if isLinkTag(n.Tag) && n.Kind == yaml.ScalarNode {
		root := linkRoot(n.Value)
		if root != "" && !roots[root] {
			hint := "links start at a pipeline stage or a resource"
			if near, ok := nearest(root, names); ok {
				hint = fmt.Sprintf("did you mean %q?", near)
			}
			s.errorAt(n, "link %q refers to %q, which is not a pipeline stage or resource; %s", n.Value, root, hint)
		}
		return
	}
	for _, c := range n.Content {
		s.checkLinkRoots(c, roots, names)
	}
}

func (s *source) script(root *yaml.Node) *Script {
	fs := s.fields(root, "!Script", scriptFields)
	sc := &Script{}
	if root.Kind != yaml.MappingNode {
		return sc
	}
	if f, ok := fs["script"]; !ok {
		s.errorAt(root, "!Script is missing %q, the module to run (for example my_project.train)", "script")
	} else if v, ok := s.str(f); ok {
		sc.Module = v
		s.checkModule(f, v)
	}
	if f, ok := fs["args"]; ok {
		s.scriptArgs(f, sc)
	}
	if f, ok := fs["kwargs"]; ok {
		sc.Kwargs = append(sc.Kwargs, s.scriptKwargs(f)...)
	}
	if f, ok := fs["output_dir_arg"]; ok {
		if v, ok := s.str(f); ok {
			// Flambé fills this keyword with the trial's output directory;
			// on sear's cluster that is $SEAR_OUTPUT_DIR.
			sc.Kwargs = append(sc.Kwargs, Kwarg{Key: v, Value: "$SEAR_OUTPUT_DIR"})
		}
	}
	s.boundCommandLine(root, fs, sc)
	return sc
}

// boundCommandLine reports a command line longer than maxCommandLine, at
// its arguments, and drops them so that nothing downstream holds it. With
// aliases bounded by boundExpansion, this takes a file that long, or
// values whose Python repr is longer than their YAML ("\x01").
func (s *source) boundCommandLine(root *yaml.Node, fs map[string]field, sc *Script) {
	total := 0
	for _, a := range sc.Argv() {
		total += len(a) + 1
	}
	if total <= maxCommandLine {
		return
	}
	at := root
	if f, ok := fs["kwargs"]; ok {
		at = f.key
	}
	if f, ok := fs["args"]; ok {
		at = f.key
	}
	s.errorAt(at, "this !Script's command line is %s, more than the %s sear sends to a node (whose exec limit, ARG_MAX, is lower still); put the data in a file the job reads and pass its path", byteSize(int64(total)), byteSize(maxCommandLine))
	sc.Args, sc.Kwargs = nil, nil
}

// pythonModule is a dotted module path, what runpy.run_module accepts.
var pythonModule = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func (s *source) checkModule(f field, v string) {
	if pythonModule.MatchString(v) {
		return
	}
	hint := ""
	if strings.HasSuffix(v, ".py") {
		mod := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(v, "./"), ".py"), "/", ".")
		if pythonModule.MatchString(mod) {
			hint = fmt.Sprintf(" such as %q", mod)
		}
	}
	s.errorAt(f.value, "script %q is not a module name; Flambé runs it with runpy.run_module, so write it as a dotted module name%s", v, hint)
}

// scriptArgs takes Flambé 0.4's positional list, or Flambé 0.3's mapping,
// which it turned into --key value pairs.
func (s *source) scriptArgs(f field, sc *Script) {
	n := resolve(f.value)
	switch {
	case n.Kind == yaml.MappingNode && customTag(n) == "":
		sc.Kwargs = append(sc.Kwargs, s.scriptKwargs(f)...)
	case n.Kind == yaml.SequenceNode && customTag(n) == "":
		for _, item := range n.Content {
			if v, ok := s.pythonStr(item); ok {
				sc.Args = append(sc.Args, v)
			}
		}
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
	default:
		s.errorAt(f.value, "\"args\" must be a list of positional arguments, not %s", describe(n))
	}
}

func (s *source) scriptKwargs(f field) []Kwarg {
	n := resolve(f.value)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode || customTag(n) != "" {
		s.errorAt(f.value, "%q must be a mapping of option names to values, not %s", f.key.Value, describe(n))
		return nil
	}
	var out []Kwarg
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			s.errorAt(k, "option names in %q must be plain names", f.key.Value)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			s.errorAt(k, "option %q is given twice; the first is on line %d", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if val, ok := s.pythonStr(v); ok {
			out = append(out, Kwarg{Key: k.Value, Value: val})
		}
	}
	return out
}

// localExtension reports whether loc names an existing path, which is how
// Flambé tells a local extension from a pip requirement.
func localExtension(loc string) bool {
	p := loc
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	_, err := os.Stat(p)
	return err == nil
}

// scriptExtensions refuses a pip requirement in a !Script's extensions
// document. Flambé's -i is what pip-installs extensions; a !Script runs as
// python3 -m, without Flambé, so nothing would install it, and the import
// would fail only once the cluster is up and costing money.
func (s *source) scriptExtensions(r *Runnable) {
	if r.Kind != KindScript || r.ExtensionsDoc == nil {
		return
	}
	for _, e := range r.Extensions {
		if e.Kind != ExtPip {
			continue
		}
		s.errorAt(extensionValue(r.ExtensionsDoc, e.Name), "pip requirement %q (extension %q) would not be installed: a !Script runs as python3 -m, without Flambé's -i, which is what installs extensions; install it in the cluster's setup_cmds (python3 -m pip install --user '%s') and remove it here", e.Location, e.Name, e.Location)
	}
}

// extensionValue is the location node of the extension named name.
func extensionValue(doc *yaml.Node, name string) *yaml.Node {
	m := resolve(doc)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i+1]
		}
	}
	return doc
}
