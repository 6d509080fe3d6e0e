package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// resolve follows aliases to the anchored node. yaml.v3 refuses an alias to
// an anchor still being defined, so the chain is finite; the bound is a
// second line of defence.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// describe names a node's type the way a user reads YAML.
func describe(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	if tag := customTag(n); tag != "" {
		return "a " + tag + " object"
	}
	return describeShape(n)
}

// describeShape names a node's type leaving its tag aside, for messages
// about the tag itself ("!g takes a list …, not a mapping").
func describeShape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	case "!!timestamp":
		return "a timestamp"
	}
	return "a string"
}

// customTag returns the node's tag when it is one of the file's own
// (Flambé's "!Experiment", "!g", "!torch.Adam"), not a YAML core tag.
func customTag(n *yaml.Node) string {
	if n.Tag == "" || strings.HasPrefix(n.Tag, "!!") || n.Tag == "!" {
		return ""
	}
	if strings.HasPrefix(n.Tag, "tag:yaml.org,2002:") {
		return ""
	}
	return n.Tag
}

// field is one key of a mapping with the node of its value.
type field struct {
	key   *yaml.Node
	value *yaml.Node
}

// fields reads a mapping's keys, reporting duplicates and names not in known
// (with the nearest known name). known == nil accepts any key.
func (s *source) fields(n *yaml.Node, what string, known []string) map[string]field {
	n = resolve(n)
	out := map[string]field{}
	if n.Kind != yaml.MappingNode {
		s.errorAt(n, "%s must be a mapping of names to values, not %s", what, describe(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			s.errorAt(k, "%s has a key that is %s; keys must be plain names", what, describe(k))
			continue
		}
		name := k.Value
		if prev, dup := out[name]; dup {
			s.errorAt(k, "%q is given twice in %s; the first is on line %d, remove one", name, what, prev.key.Line)
			continue
		}
		if known != nil && !contains(known, name) {
			s.unknownField(k, name, what, known)
			continue
		}
		out[name] = field{key: k, value: v}
	}
	return out
}

func (s *source) unknownField(k *yaml.Node, name, what string, known []string) {
	if near, ok := nearest(name, known); ok {
		s.errorAt(k, "unknown field %q in %s; did you mean %q?", name, what, near)
		return
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	s.errorAt(k, "unknown field %q in %s; expected one of: %s", name, what, strings.Join(sorted, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns the node as a scalar, reporting anything else.
func (s *source) scalar(f field, want string) (*yaml.Node, bool) {
	n := resolve(f.value)
	if n.Kind != yaml.ScalarNode || customTag(n) != "" {
		s.errorAt(f.value, "%q must be %s, not %s", f.key.Value, want, describe(n))
		return nil, false
	}
	return n, true
}

// str decodes a string field. Numbers are not silently turned into strings:
// an AMI id or a subnet written as a number is almost always a typo.
func (s *source) str(f field) (string, bool) {
	n, ok := s.scalar(f, "a string")
	if !ok {
		return "", false
	}
	if n.ShortTag() != "!!str" {
		s.errorAt(f.value, "%q must be a string, not %s; quote it: %s: %q", f.key.Value, describe(n), f.key.Value, n.Value)
		return "", false
	}
	return n.Value, true
}

// optStr is str where null means "not set", as Flambé's Optional[str].
func (s *source) optStr(f field) (string, bool) {
	if n := resolve(f.value); n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return "", true
	}
	return s.str(f)
}

func (s *source) integer(f field) (int, bool) {
	n, ok := s.scalar(f, "an integer")
	if !ok {
		return 0, false
	}
	if n.ShortTag() != "!!int" {
		s.errorAt(f.value, "%q must be an integer, not %s", f.key.Value, describe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		s.errorAt(f.value, "%q is out of range for %q", n.Value, f.key.Value)
		return 0, false
	}
	return int(v), true
}

func (s *source) boolean(f field) (bool, bool) {
	n, ok := s.scalar(f, "true or false")
	if !ok {
		return false, false
	}
	if n.ShortTag() != "!!bool" {
		s.errorAt(f.value, "%q must be true or false, not %s %q", f.key.Value, describe(n), n.Value)
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on", "y":
		return true, true
	}
	return false, true
}

// duration decodes sear's durations, written in Go's syntax ("90s", "2h").
func (s *source) duration(f field) (time.Duration, bool) {
	n, ok := s.scalar(f, `a duration such as "90s", "10m" or "2h"`)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		hint := ""
		if _, e := strconv.ParseFloat(n.Value, 64); e == nil {
			hint = fmt.Sprintf("; add a unit: %ss, %sm or %sh", n.Value, n.Value, n.Value)
		}
		s.errorAt(f.value, "%q is not a duration for %q; write it like 90s, 10m or 2h%s", n.Value, f.key.Value, hint)
		return 0, false
	}
	if d <= 0 {
		s.errorAt(f.value, "%q for %q must be positive", n.Value, f.key.Value)
		return 0, false
	}
	return d, true
}

// strList decodes a list of strings. A single string is refused rather than
// wrapped: Flambé's setup_cmds is a list, and a lone string is a common slip
// that should be fixed in the file, not guessed at.
func (s *source) strList(f field) ([]string, bool) {
	n := resolve(f.value)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode || customTag(n) != "" {
		s.errorAt(f.value, "%q must be a list of strings, not %s; write each item on its own line starting with \"- \"", f.key.Value, describe(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for _, item := range n.Content {
		v, good := s.str(field{key: f.key, value: item})
		ok = ok && good
		out = append(out, v)
	}
	return out, ok
}

// strMap decodes a mapping of names to scalar values, kept as strings the
// way AWS tags keep them.
func (s *source) strMap(f field) (map[string]string, map[string]*yaml.Node, bool) {
	n := resolve(f.value)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil, true
	}
	fs := s.fields(n, fmt.Sprintf("%q", f.key.Value), nil)
	out := make(map[string]string, len(fs))
	keys := make(map[string]*yaml.Node, len(fs))
	ok := n.Kind == yaml.MappingNode
	for name, kv := range fs {
		v := resolve(kv.value)
		if v.Kind != yaml.ScalarNode || customTag(v) != "" {
			s.errorAt(kv.value, "%q in %q must be a plain value, not %s", name, f.key.Value, describe(v))
			ok = false
			continue
		}
		out[name] = v.Value
		keys[name] = kv.key
	}
	return out, keys, ok
}

// FormatDuration writes d the way cluster files do ("90s", "10m",
// "6h15m"), without Go's trailing zero units ("6h0m0s"): what duration
// reads back, for plans and messages that quote a field's value.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
