package action

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"
)

// Log writes workflow commands to the step's stdout, which the runner
// reads them from, and is the one way anything else reaches that stdout
// (Output), so that it can keep commands and untrusted text apart.
//
// Text a pull request or a job controls (the job's log, setup commands'
// output, a configuration error quoting a line of YAML) is written inside
// a fence (Fence): the runner ignores workflow commands there, so a line
// of it cannot act on the workflow. sear's own commands still work inside
// a fence: each one resumes commands, is written, and stops them again
// with a new token. That matters most for ::add-mask::, which arrives at
// any time (the AWS SDK refreshes credentials in the background): the
// runner prints a command it ignores as plain text, so an ::add-mask::
// written inside a fence would print the very secret it was to hide
// (docs/security.md, "credentials in the log").
//
// It must be given the raw stdout: a command that passed through sear's
// own masking would have its secret masked out of ::add-mask:: itself.
type Log struct {
	mu sync.Mutex
	w  io.Writer
	// midLine says the last byte written did not end a line: a command
	// must start a line of its own, or the runner does not see it.
	midLine bool
	// token is the stop-commands token while a fence is up, and fence
	// counts the fences, so that an old fence's end cannot lift a new one.
	token string
	fence int
	// cmd collects the command gha writes, so that the fence can be
	// lifted around it.
	cmd bytes.Buffer
	gha *githubactions.Action
}

// NewLog returns a Log writing to w.
func NewLog(w io.Writer, getenv Getenv) *Log {
	l := &Log{w: w}
	l.gha = githubactions.New(githubactions.WithWriter(&l.cmd), githubactions.WithGetenv(githubactions.GetenvFunc(getenv)))
	return l
}

// Output is the writer for everything that is not a workflow command.
// Writes to it and commands are serialized, so a command never lands
// inside a line of output, nor output between a fence's resume and stop.
func (l *Log) Output() io.Writer { return logOutput{l} }

type logOutput struct{ l *Log }

func (o logOutput) Write(p []byte) (int, error) {
	o.l.mu.Lock()
	defer o.l.mu.Unlock()
	n, err := o.l.w.Write(p)
	if n > 0 {
		o.l.midLine = p[n-1] != '\n'
	}
	return n, err
}

// issue writes the commands f makes gha write, lifting the fence around
// them if one is up.
func (l *Log) issue(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmd.Reset()
	f()
	if l.cmd.Len() == 0 {
		return
	}
	l.endLine()
	if l.token == "" {
		l.w.Write(l.cmd.Bytes())
		return
	}
	fmt.Fprintf(l.w, "::%s::\n", l.token)
	l.w.Write(l.cmd.Bytes())
	l.token = newToken()
	fmt.Fprintf(l.w, "::stop-commands::%s\n", l.token)
}

// endLine ends a line of output left open, so that what follows starts a
// line: the runner reads a command only at the start of one.
func (l *Log) endLine() {
	if l.midLine {
		l.w.Write([]byte("\n"))
		l.midLine = false
	}
}

// Mask asks the runner to mask each value in everything the job logs
// from now on. A multi-line value is masked line by line as well: the
// runner matches masks within a line.
func (l *Log) Mask(values []string) {
	l.issue(func() {
		seen := map[string]bool{}
		for _, v := range values {
			for _, m := range append([]string{v}, strings.Split(v, "\n")...) {
				m = strings.TrimSpace(m)
				if m == "" || seen[m] {
					continue
				}
				seen[m] = true
				l.gha.AddMask(m)
			}
		}
	})
}

// Group starts a collapsible group in the log; EndGroup ends it. Groups do
// not nest.
func (l *Log) Group(title string) { l.issue(func() { l.gha.Group(title) }) }

// EndGroup ends the group Group started.
func (l *Log) EndGroup() { l.issue(l.gha.EndGroup) }

// Fence makes the runner ignore workflow commands in the output until the
// returned function is called; sear's own commands still pass (see Log).
// The tokens are random so that the text inside cannot guess one and
// resume commands itself. Fences do not nest: a Fence while one is up
// returns a function that does nothing.
func (l *Log) Fence() (end func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.token != "" {
		return func() {}
	}
	l.endLine()
	l.token = newToken()
	l.fence++
	fence := l.fence
	fmt.Fprintf(l.w, "::stop-commands::%s\n", l.token)
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.token == "" || l.fence != fence {
			return
		}
		l.endLine()
		fmt.Fprintf(l.w, "::%s::\n", l.token)
		l.token = ""
	}
}

// newToken is a stop-commands token no one can guess.
func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "sear-" + hex.EncodeToString(b)
}

// Annotation is a configuration error placed on a line of a file of the
// repository. Line and Column are 1-based; zero leaves them out (the
// annotation is then on the file).
type Annotation struct {
	File         string // relative to the repository's root, slash-separated
	Line, Column int
	Message      string
}

// Annotate shows each configuration error on its file and line in the
// workflow run and the pull request's diff.
func (l *Log) Annotate(errs []Annotation) {
	for _, e := range errs {
		props := map[string]string{"file": e.File, "title": "sear: invalid configuration"}
		if e.Line > 0 {
			props["line"] = strconv.Itoa(e.Line)
		}
		if e.Column > 0 {
			props["col"] = strconv.Itoa(e.Column)
		}
		l.issue(func() { l.gha.WithFieldsMap(props).Errorf("%s", e.Message) })
	}
}

// Warning shows a warning annotation on the workflow run.
func (l *Log) Warning(msg string) { l.issue(func() { l.gha.Warningf("%s", msg) }) }

// Error shows an error annotation on the workflow run.
func (l *Log) Error(msg string) { l.issue(func() { l.gha.Errorf("%s", msg) }) }
