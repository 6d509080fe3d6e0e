package action

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/sear-ci/sear/internal/report"
)

// Log writes workflow commands to the step's stdout, which the runner
// reads them from. It must be given the raw stdout: a command that passed
// through sear's own masking would have its secret masked out of
// ::add-mask:: itself.
type Log struct {
	w   io.Writer
	gha *githubactions.Action
}

// NewLog returns a Log writing to w.
func NewLog(w io.Writer, getenv Getenv) *Log {
	return &Log{w: w, gha: githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(githubactions.GetenvFunc(getenv)))}
}

// Mask asks the runner to mask each value in everything the job logs
// from now on. A multi-line value is masked line by line as well: the
// runner matches masks within a line.
func (l *Log) Mask(values []string) {
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
}

// Group starts a collapsible group in the log; EndGroup ends it. Groups do
// not nest.
func (l *Log) Group(title string) { l.gha.Group(title) }

// EndGroup ends the group Group started.
func (l *Log) EndGroup() { l.gha.EndGroup() }

// StopCommands makes the runner ignore workflow commands until the
// returned function is called: text the job prints (a `::set-output` or
// `::add-mask::` line of its own, or a log line that merely looks like
// one) must not act on the workflow. The token is random so that the job
// cannot guess it and resume commands itself.
func (l *Log) StopCommands() (resume func()) {
	b := make([]byte, 16)
	rand.Read(b)
	token := "sear-" + hex.EncodeToString(b)
	fmt.Fprintf(l.w, "::stop-commands::%s\n", token)
	return func() { fmt.Fprintf(l.w, "::%s::\n", token) }
}

// Annotate shows each configuration error on its file and line in the
// workflow run and the pull request's diff.
func (l *Log) Annotate(errs []report.ConfigError) {
	for _, e := range errs {
		props := map[string]string{"file": e.File, "title": "sear: invalid configuration"}
		if e.Line > 0 {
			props["line"] = strconv.Itoa(e.Line)
		}
		if e.Column > 0 {
			props["col"] = strconv.Itoa(e.Column)
		}
		l.gha.WithFieldsMap(props).Errorf("%s", e.Message)
	}
}

// Warning shows a warning annotation on the workflow run.
func (l *Log) Warning(msg string) { l.gha.Warningf("%s", msg) }

// Error shows an error annotation on the workflow run.
func (l *Log) Error(msg string) { l.gha.Errorf("%s", msg) }
