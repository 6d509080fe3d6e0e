package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds what sear reads as a runnable or cluster file. Real
// ones are a few kilobytes; the bound keeps a mistaken path (a data set, a
// checkpoint) from being read into memory.
const MaxFileSize = 4 << 20

// source is one configuration file read into memory, with its lines kept to
// show them under errors.
type source struct {
	name  string
	data  []byte
	lines []string
	errs  Errors
}

// readSource reads a file with the checks every input gets before YAML sees
// it: that it is a regular file, of a sane size, and text.
func readSource(path string) (*source, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fileError(path, describeOpenError(err))
	}
	if info.IsDir() {
		return nil, fileError(path, "is a directory; give the path of a YAML file inside it")
	}
	if !info.Mode().IsRegular() {
		return nil, fileError(path, "is not a regular file; give the path of a YAML file")
	}
	if info.Size() > MaxFileSize {
		return nil, fileError(path, fmt.Sprintf("is %s, larger than the %s a runnable or cluster file may be; is this the right file?", byteSize(info.Size()), byteSize(MaxFileSize)))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, describeOpenError(err))
	}
	defer f.Close()
	// Read one byte past the limit: the file may have grown since Stat.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fileError(path, "cannot be read: "+err.Error())
	}
	if len(data) > MaxFileSize {
		return nil, fileError(path, fmt.Sprintf("is larger than the %s a runnable or cluster file may be", byteSize(MaxFileSize)))
	}
	return newSource(path, data)
}

// newSource checks that data is text and splits it into lines.
func newSource(name string, data []byte) (*source, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line, col := position(data, i)
		return nil, &Error{File: name, Line: line, Col: col, Msg: "contains a NUL byte; this looks like a binary file, not YAML"}
	}
	if !utf8.Valid(data) {
		i := firstInvalidUTF8(data)
		line, col := position(data, i)
		return nil, &Error{File: name, Line: line, Col: col, Msg: "is not valid UTF-8 text; save the file as UTF-8"}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	return &source{name: name, data: data, lines: splitLines(string(data))}, nil
}

// splitLines splits at YAML's line breaks, CR LF, LF and a lone CR, so line
// numbers agree with the parser's.
func splitLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n")
}

func fileError(path, msg string) *Error { return &Error{File: path, Msg: msg} }

func describeOpenError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist; check the path (it is relative to the working directory)"
	case errors.Is(err, fs.ErrPermission):
		return "cannot be read: permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "cannot be read: " + pe.Err.Error()
	}
	return "cannot be read: " + err.Error()
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// position converts a byte offset to a 1-based line and rune column.
func position(data []byte, off int) (line, col int) {
	lines := splitLines(string(data[:off]))
	return len(lines), utf8.RuneCountInString(lines[len(lines)-1]) + 1
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// errorAt records a problem at a node's position.
func (s *source) errorAt(n *yaml.Node, format string, args ...any) {
	e := &Error{File: s.name, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
		e.Source = s.line(n.Line)
	}
	s.errs = append(s.errs, e)
}

// errorFile records a problem about the file as a whole.
func (s *source) errorFile(format string, args ...any) {
	s.errs = append(s.errs, &Error{File: s.name, Msg: fmt.Sprintf(format, args...)})
}

func (s *source) line(n int) string {
	if n < 1 || n > len(s.lines) {
		return ""
	}
	return s.lines[n-1]
}

// yamlLine finds the line number yaml.v3 puts in its messages
// ("yaml: line 3: did not find expected key").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// documents parses every YAML document in the source. A syntax error is
// reported at its line; yaml.v3 gives no column for those.
func (s *source) documents() (docs []*yaml.Node, ok bool) {
	defer func() {
		// yaml.v3 has panicked on hostile input before (CVE-2022-28948);
		// a configuration file must never crash sear.
		if r := recover(); r != nil {
			s.errorFile("cannot be parsed as YAML (%v)", r)
			docs, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(s.data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, true
		}
		if err != nil {
			s.syntaxError(err)
			return nil, false
		}
		docs = append(docs, &n)
	}
}

func (s *source) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// yaml.v3 puts a mis-indented line's error at the start of the
		// mapping it broke; find the line itself, and its column.
		if bad, ok := findMisindent(s.lines, line); ok {
			s.errs = append(s.errs, &Error{File: s.name, Line: bad.line, Col: bad.col, Msg: bad.message(), Source: s.line(bad.line)})
			return
		}
		s.errs = append(s.errs, &Error{File: s.name, Line: line, Msg: "invalid YAML: " + m[2], Source: s.line(line)})
		return
	}
	s.errorFile("invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}
