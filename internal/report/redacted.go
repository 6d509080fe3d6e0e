package report

import (
	"slices"
	"strings"

	"github.com/sear-ci/sear/internal/redact"
)

// masker masks a report's text with its secrets.
type masker struct{ secrets [][]byte }

func newMasker(secrets []string) masker {
	m := masker{}
	for _, s := range secrets {
		if s != "" {
			m.secrets = append(m.secrets, []byte(s))
		}
	}
	return m
}

// mask is s with every secret replaced by redact.Mask.
func (m masker) mask(s string) string {
	if len(m.secrets) == 0 || s == "" {
		return s
	}
	return string(redact.Bytes([]byte(s), m.secrets))
}

// redactEach is a copy of items with f applied to each, nil for nil: the
// report's slices are shared with the caller's Run, which must not
// change.
func redactEach[T any](items []T, f func(*T)) []T {
	if items == nil {
		return nil
	}
	out := slices.Clone(items)
	for i := range out {
		f(&out[i])
	}
	return out
}

// Redacted is r as every renderer shows it: each text field sanitised the
// way the renderers will show it, then masked with r.Secrets. Sanitising
// comes first because a secret with an escape or a control character in
// it is not matched by its value, and removing the escape after masking
// would put the secret back together; and it is done to the field as the
// renderer will fold it (one line, white space runs as one space), so that
// the renderer can join nothing into a secret after the mask. Fields shown
// in code blocks are sanitised only: the rendered text is masked again as
// it is, and a code block shows it as it is.
//
// The runnable's name and the metrics' names are masked but not
// sanitised: they are keys, which the sticky comment's marker, the check
// run's name and the metrics block that a later run compares against must
// keep byte for byte. Where they are shown they are sanitised and masked
// again. Two metric names that mask to the same name keep the first in
// name order.
//
// Redacted returns r unchanged but for the copies of its slices and maps
// when it has already been redacted. Reporters that send parts of a Run
// other than the rendered outputs (the check run's name, annotations)
// should send those of r.Redacted().
func (r Run) Redacted() Run {
	m := newMasker(r.Secrets)
	line := func(s string) string { return m.mask(oneLine(s)) }
	text := func(s string) string { return m.mask(redact.Sanitize(s)) }
	logged := func(s string) string { return m.mask(logLine(s)) }
	// link() drops line breaks from a URL; drop them before the mask.
	url := func(s string) string { return m.mask(strings.ReplaceAll(redact.Sanitize(s), "\n", "")) }
	each := func(ss []string, f func(string) string) []string {
		return redactEach(ss, func(s *string) { *s = f(*s) })
	}

	r.Runnable = m.mask(r.Runnable)
	r.Reason, r.Commit, r.ClusterID, r.Region = line(r.Reason), line(r.Commit), line(r.ClusterID), line(r.Region)
	r.Phases = redactEach(r.Phases, func(p *Phase) { p.Name, p.Err = line(p.Name), line(p.Err) })
	r.Nodes = redactEach(r.Nodes, func(n *Node) { n.Role, n.Name, n.Type = line(n.Role), line(n.Name), line(n.Type) })
	r.Interruptions = redactEach(r.Interruptions, func(in *Interruption) {
		in.Node, in.Action, in.Signal = line(in.Node), line(in.Action), line(in.Signal)
	})
	if r.Retry != nil {
		rt := *r.Retry
		rt.ClusterID = line(rt.ClusterID)
		r.Retry = &rt
	}
	r.Metrics = m.metrics(r.Metrics)
	if r.Base != nil {
		b := *r.Base
		b.Commit, b.URL, b.Metrics = line(b.Commit), url(b.URL), m.metrics(b.Metrics)
		r.Base = &b
	}
	r.Log.Lines = each(r.Log.Lines, logged)
	r.Links = Links{CheckRun: url(r.Links.CheckRun), Log: url(r.Links.Log), Workflow: url(r.Links.Workflow), Comment: url(r.Links.Comment)}
	r.TornDown = each(r.TornDown, line)
	r.Leftovers = redactEach(r.Leftovers, func(l *Leftover) {
		l.Resource, l.Err, l.Command = line(l.Resource), line(l.Err), logged(l.Command)
	})
	r.ConfigErrors = redactEach(r.ConfigErrors, func(e *ConfigError) {
		e.File, e.Message, e.Source = text(e.File), text(e.Message), text(e.Source)
	})
	r.Warnings = each(r.Warnings, line)
	r.Secrets = slices.Clone(r.Secrets)
	return r
}

// metrics are ms with masked names.
func (m masker) metrics(ms Metrics) Metrics {
	if ms == nil {
		return nil
	}
	out := make(Metrics, len(ms))
	for _, name := range ms.Names() {
		if k := m.mask(name); !has(out, k) {
			out[k] = ms[name]
		}
	}
	return out
}

func has(ms Metrics, name string) bool {
	_, ok := ms[name]
	return ok
}
