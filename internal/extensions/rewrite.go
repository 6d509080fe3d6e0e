package extensions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Rewrite returns the runnable text src with the location of each extension
// named in locs replaced by the new location. Only the replaced scalars
// change: comments, tags, quoting and the runnable document are kept byte
// for byte, because re-encoding with yaml.v3 would re-indent, re-quote and
// move comments, and the user should recognise the file that runs. A location
// written in a form that cannot be edited in place (an alias, a block or
// multi-line scalar) falls back to re-encoding the extensions document
// alone; the runnable document is still kept as it is.
func Rewrite(src []byte, locs map[string]string) ([]byte, error) {
	if len(locs) == 0 {
		return src, nil
	}
	bom := bytes.HasPrefix(src, []byte("\ufeff"))
	body := bytes.TrimPrefix(src, []byte("\ufeff"))
	d, err := parseDocs(body)
	if err != nil {
		return nil, err
	}
	out, err := d.inPlace(locs)
	if err == nil {
		err = d.verify(out, locs)
	}
	if err != nil {
		if out, err = d.reencode(locs); err != nil {
			return nil, err
		}
	}
	if bom {
		out = append([]byte("\ufeff"), out...)
	}
	return out, nil
}

// docs is a runnable file split into its extensions mapping and the offset
// where the runnable document begins.
type docs struct {
	src     []byte
	doc     *yaml.Node // the extensions document
	ext     *yaml.Node // its mapping
	second  int        // byte offset of the second document's "---"
	offsets lineIndex
}

func parseDocs(src []byte) (*docs, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var all []*yaml.Node
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("parse the runnable to rewrite its extensions: %w", err)
		}
		all = append(all, &n)
	}
	if len(all) != 2 || len(all[0].Content) == 0 || all[0].Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the runnable has no extensions document to rewrite (a mapping of names to locations, then \"---\", then the runnable)")
	}
	d := &docs{src: src, doc: all[0], ext: all[0].Content[0], offsets: newLineIndex(src)}
	// yaml.v3 places a document at its "---" marker; the second one always
	// has one, since it follows another document.
	d.second = d.offsets.offset(all[1].Line, all[1].Column)
	return d, nil
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

var errNotInPlace = errors.New("location cannot be edited in place")

func (d *docs) inPlace(locs map[string]string) ([]byte, error) {
	var edits []edit
	seen := map[string]bool{}
	for i := 0; i+1 < len(d.ext.Content); i += 2 {
		name, val := d.ext.Content[i].Value, d.ext.Content[i+1]
		loc, ok := locs[name]
		if !ok {
			continue
		}
		seen[name] = true
		e, err := d.scalarEdit(val, loc)
		if err != nil {
			return nil, err
		}
		edits = append(edits, e)
	}
	if err := missing(locs, seen); err != nil {
		return nil, err
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]byte(nil), d.src...)
	for _, e := range edits {
		if e.end > d.second {
			return nil, errNotInPlace
		}
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return out, nil
}

func missing(locs map[string]string, seen map[string]bool) error {
	var names []string
	for name := range locs {
		if !seen[name] {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	return fmt.Errorf("the extensions document has no extension %s to rewrite", strings.Join(names, ", "))
}

// scalarEdit finds the bytes of a single-line scalar value, past its tag
// and anchor (yaml.v3 positions a node at its first property), and the
// text that replaces it in the same quoting style.
func (d *docs) scalarEdit(val *yaml.Node, loc string) (edit, error) {
	if val.Kind != yaml.ScalarNode || val.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return edit{}, errNotInPlace
	}
	p := d.offsets.offset(val.Line, val.Column)
	if val.Anchor != "" || val.Style&yaml.TaggedStyle != 0 {
		p = skipProperties(d.src, p)
	}
	switch {
	case val.Style&yaml.DoubleQuotedStyle != 0:
		if end, ok := quotedEnd(d.src, p, '"'); ok {
			return edit{p, end, doubleQuoted(loc)}, nil
		}
	case val.Style&yaml.SingleQuotedStyle != 0:
		if end, ok := quotedEnd(d.src, p, '\''); ok {
			return edit{p, end, "'" + strings.ReplaceAll(loc, "'", "''") + "'"}, nil
		}
	default:
		// A one-line plain scalar is its value verbatim; a multi-line one
		// has its line breaks folded into spaces and will not match.
		if bytes.HasPrefix(d.src[p:], []byte(val.Value)) {
			return edit{p, p + len(val.Value), plainOrQuoted(loc)}, nil
		}
	}
	return edit{}, errNotInPlace
}

// skipProperties steps over "!tag" and "&anchor" and the blanks, comments
// and line breaks after them, to where the scalar itself begins.
func skipProperties(src []byte, p int) int {
	for p < len(src) {
		switch c := src[p]; {
		case c == '!' || c == '&':
			for p < len(src) && !isBlank(src[p]) {
				p++
			}
		case isBlank(c):
			p++
		case c == '#':
			for p < len(src) && src[p] != '\n' && src[p] != '\r' {
				p++
			}
		default:
			return p
		}
	}
	return p
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// quotedEnd returns the offset just past the closing quote of the quoted
// scalar starting at p.
func quotedEnd(src []byte, p int, q byte) (int, bool) {
	if p >= len(src) || src[p] != q {
		return 0, false
	}
	for i := p + 1; i < len(src); i++ {
		switch {
		case q == '"' && src[i] == '\\':
			i++
		case src[i] == q && q == '\'' && i+1 < len(src) && src[i+1] == '\'':
			i++
		case src[i] == q:
			return i + 1, true
		case src[i] == '\n' || src[i] == '\r':
			return 0, false // multi-line: leave it to re-encoding
		}
	}
	return 0, false
}

// plainPath is a location that reads back as the same string when written
// unquoted, in block and flow context alike: it holds a "/" (so YAML never
// takes it for a number, boolean, null or date) and no indicator.
var plainPath = regexp.MustCompile(`^[A-Za-z0-9_.~/][A-Za-z0-9_.~/+=@-]*$`)

func plainOrQuoted(s string) string {
	if strings.Contains(s, "/") && plainPath.MatchString(s) {
		return s
	}
	return doubleQuoted(s)
}

// doubleQuoted writes s as a YAML double-quoted scalar; every escape Go's
// strconv emits (\a \b \f \n \r \t \v \\ \" \xXX \uXXXX \UXXXXXXXX) means
// the same in YAML.
func doubleQuoted(s string) string { return strconv.Quote(s) }

// reencode writes the extensions document anew with yaml.v3 and keeps the
// runnable document's bytes. Used only when a location cannot be edited in
// place; comments inside the extensions document survive as yaml.v3
// carries them, formatting may not.
func (d *docs) reencode(locs map[string]string) ([]byte, error) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(d.ext.Content); i += 2 {
		name := d.ext.Content[i].Value
		if loc, ok := locs[name]; ok {
			seen[name] = true
			d.ext.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: loc}
		}
	}
	if err := missing(locs, seen); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(d.doc); err != nil {
		return nil, fmt.Errorf("write the rewritten extensions document: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write the rewritten extensions document: %w", err)
	}
	out := append(buf.Bytes(), d.src[d.second:]...)
	if err := d.verify(out, locs); err != nil {
		return nil, fmt.Errorf("rewrite the extensions document: %w", err)
	}
	return out, nil
}

// verify re-reads the rewritten text: the same documents, the same
// extension names in the same order, each location as intended, and the
// runnable document's bytes untouched.
func (d *docs) verify(out []byte, locs map[string]string) error {
	if !bytes.HasSuffix(out, d.src[d.second:]) {
		return errors.New("the runnable document changed")
	}
	got, err := parseDocs(out)
	if err != nil {
		return err
	}
	if len(got.ext.Content) != len(d.ext.Content) {
		return errors.New("the extensions document changed shape")
	}
	for i := 0; i+1 < len(d.ext.Content); i += 2 {
		name := d.ext.Content[i].Value
		want, ok := locs[name]
		if !ok {
			want = resolveAlias(d.ext.Content[i+1]).Value
		}
		v := resolveAlias(got.ext.Content[i+1])
		if got.ext.Content[i].Value != name || v.Kind != yaml.ScalarNode || v.Value != want {
			return fmt.Errorf("extension %q reads back as %q, not %q", name, v.Value, want)
		}
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// lineIndex converts yaml.v3's 1-based line and rune column to a byte
// offset. yaml.v3 counts CR LF, CR, LF, NEL, LS and PS as line breaks, so
// the index must too or every later position would be off.
type lineIndex struct {
	src    []byte
	starts []int
}

func newLineIndex(src []byte) lineIndex {
	li := lineIndex{src: src, starts: []int{0}}
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == '\r' && i+1 < len(src) && src[i+1] == '\n':
			size = 2
			fallthrough
		case r == '\r' || r == '\n' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			li.starts = append(li.starts, i+size)
		}
		i += size
	}
	return li
}

func (li lineIndex) offset(line, col int) int {
	if line < 1 || line > len(li.starts) {
		return len(li.src)
	}
	p := li.starts[line-1]
	for i := 1; i < col && p < len(li.src); i++ {
		_, size := utf8.DecodeRune(li.src[p:])
		p += size
	}
	return p
}
