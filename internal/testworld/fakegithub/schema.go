package fakegithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// GitHub validates request bodies against JSON schemas and lists every
// problem in one "Invalid request." body. Its messages are those of the Ruby
// json_schema gem (brandur/json_schema, lib/json_schema/validator.rb), which
// is where the observed wordings come from: `"head_sha" wasn't supplied.`,
// `"annotation_level", "path" weren't supplied.` (sorted), `No more than 50
// items are allowed; 79 were supplied.`, `Only 65535 characters are allowed;
// 85289 were supplied.` (Ruby String#length: characters, not bytes), and for
// types `For 'properties/active', "true" is not a boolean.` (hub4j/github-api#245).

// problems collects schema messages.
type problems struct{ list []string }

func (p *problems) add(format string, a ...any) { p.list = append(p.list, fmt.Sprintf(format, a...)) }

// fields reads one JSON object of a request body.
type fields struct {
	raw map[string]json.RawMessage
	p   *problems
}

// parseBody decodes a request body that must be a JSON object; an empty body
// is an empty object.
func parseBody(body []byte, doc string) (fields, *reply) {
	f := fields{raw: map[string]json.RawMessage{}, p: &problems{}}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return f, nil
	}
	if !json.Valid(trimmed) {
		rep := badRequest("Problems parsing JSON", doc)
		return f, &rep
	}
	if trimmed[0] != '{' || json.Unmarshal(trimmed, &f.raw) != nil {
		rep := badRequest("Body should be a JSON object", doc)
		return f, &rep
	}
	return f, nil
}

// require reports keys that are absent (a null value counts as supplied,
// and then fails its type check, as in json_schema).
func (f fields) require(keys ...string) {
	var missing []string
	for _, k := range keys {
		if _, ok := f.raw[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return
	}
	sort.Strings(missing)
	verb := "wasn't"
	if len(missing) > 1 {
		verb = "weren't"
	}
	f.p.add(`"%s" %s supplied.`, strings.Join(missing, `", "`), verb)
}

func (f fields) has(key string) bool {
	_, ok := f.raw[key]
	return ok
}

// typeErr is json_schema's type message with GitHub's pointer prefix; the
// gem always says "a", hence "is not a integer.".
func (f fields) typeErr(key, typ string) {
	f.p.add("For 'properties/%s', %s is not a %s.", key, rubyInspect(f.raw[key]), typ)
}

// str reads an optional string.
func (f fields) str(key string) *string {
	raw, ok := f.raw[key]
	if !ok {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		f.typeErr(key, "string")
		return nil
	}
	return &s
}

// integer reads an optional integer.
func (f fields) integer(key string) *int {
	raw, ok := f.raw[key]
	if !ok {
		return nil
	}
	var n int
	if json.Unmarshal(raw, &n) != nil {
		f.typeErr(key, "integer")
		return nil
	}
	return &n
}

// object reads an optional nested object.
func (f fields) object(key string) (fields, bool) {
	raw, ok := f.raw[key]
	if !ok {
		return fields{}, false
	}
	sub := fields{raw: map[string]json.RawMessage{}, p: f.p}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) || json.Unmarshal(raw, &sub.raw) != nil {
		f.typeErr(key, "object")
		return fields{}, false
	}
	return sub, true
}

// array reads an optional array of objects, enforcing maxItems first.
func (f fields) array(key string, maxItems int) ([]fields, bool) {
	raw, ok := f.raw[key]
	if !ok {
		return nil, false
	}
	var items []json.RawMessage
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) || json.Unmarshal(raw, &items) != nil {
		f.typeErr(key, "array")
		return nil, false
	}
	if len(items) > maxItems {
		f.p.add("No more than %d items are allowed; %d were supplied.", maxItems, len(items))
	}
	out := make([]fields, 0, len(items))
	for _, it := range items {
		sub := fields{raw: map[string]json.RawMessage{}, p: f.p}
		if json.Unmarshal(it, &sub.raw) != nil {
			f.p.add("For 'items', %s is not a object.", rubyInspect(it))
			continue
		}
		out = append(out, sub)
	}
	return out, true
}

// enum checks an optional string against its allowed values; the gem
// interpolates the value unquoted and the list as Ruby inspects an array.
func (f fields) enum(key string, allowed ...string) *string {
	v := f.str(key)
	if v == nil {
		return nil
	}
	for _, a := range allowed {
		if *v == a {
			return v
		}
	}
	f.p.add("For 'properties/%s', %s is not a member of [\"%s\"].", key, *v, strings.Join(allowed, `", "`))
	return nil
}

// maxLength checks a string's length in characters.
func (f fields) maxLength(v *string, limit int) {
	if v == nil {
		return
	}
	if n := utf8.RuneCountInString(*v); n > limit {
		f.p.add("Only %d characters are allowed; %d were supplied.", limit, n)
	}
}

// dateTimePattern is json_schema's date-time format.
var dateTimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|[\-+][0-9]{2}:[0-5][0-9])$`)

// dateTime reads an optional ISO 8601 timestamp.
func (f fields) dateTime(key string) *time.Time {
	v := f.str(key)
	if v == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if !dateTimePattern.MatchString(*v) || err != nil {
		f.p.add("For 'properties/%s', %s is not a valid date-time.", key, *v)
		return nil
	}
	return &t
}

// rubyInspect renders a JSON value roughly as Ruby's #inspect would.
func rubyInspect(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if bytes.Equal(t, []byte("null")) {
		return "nil"
	}
	var s string
	if json.Unmarshal(t, &s) == nil {
		return fmt.Sprintf("%q", s)
	}
	return string(t)
}
