package config

import "go.yaml.in/yaml/v3"

// FieldError is msg about field of the cluster file, as an *Error at the
// field when the file gives it, else on the file as a whole: a problem
// found after validation (by a provider's preflight, by the cost
// projection) points at the line to change, as validation's own do.
func (c *Cluster) FieldError(field, msg string) *Error {
	p, ok := c.Set[field]
	if !ok {
		return &Error{File: c.File, Msg: msg}
	}
	return c.errorAt(p, msg)
}

// ItemError is msg about one value of field, at the list item that holds
// it when the field is a list (subnet_id, orchestrator_type and
// factories_type may be), else as FieldError.
func (c *Cluster) ItemError(field, item, msg string) *Error {
	if p, ok := c.items[field][item]; ok {
		return c.errorAt(p, msg)
	}
	return c.FieldError(field, msg)
}

func (c *Cluster) errorAt(p Pos, msg string) *Error {
	e := &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: msg}
	if p.Line >= 1 && p.Line <= len(c.lines) {
		e.Source = c.lines[p.Line-1]
	}
	return e
}

// recordItems keeps where each item of a list field stands, for
// ItemError.
func (s *source) recordItems(c *Cluster, f field) {
	n := resolve(f.value)
	if n.Kind != yaml.SequenceNode {
		return
	}
	if c.items == nil {
		c.items = map[string]map[string]Pos{}
	}
	at := map[string]Pos{}
	for _, item := range n.Content {
		if v := resolve(item); v.Kind == yaml.ScalarNode {
			if _, dup := at[v.Value]; !dup {
				at[v.Value] = Pos{File: s.name, Line: item.Line, Col: item.Column}
			}
		}
	}
	c.items[f.key.Value] = at
}
