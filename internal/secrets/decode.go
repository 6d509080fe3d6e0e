package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON kinds of a secret's value, as named in errors.
const (
	kindString  = "string"
	kindNumber  = "number"
	kindBoolean = "boolean"
	kindNull    = "null"
	kindObject  = "object"
	kindArray   = "array"
)

// entry is one name and value of the secrets JSON, in input order.
type entry struct {
	name  string
	kind  string // JSON kind of the value
	value string // the value when kind is kindString
	// mangled is set when encoding/json could decode the value only by
	// replacing invalid UTF-8 or a lone surrogate escape with U+FFFD, so
	// value is not the secret as stored.
	mangled bool
}

// decode reads the secrets JSON object. Its errors say where the JSON is
// malformed but never quote it: the input is secret material, and
// encoding/json's own messages quote the offending character.
func decode(data []byte) ([]entry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("secrets JSON is empty; expected an object of secret names to string values")
	}
	// Unmarshal validates the whole input first, so its offsets count
	// from the start of data (a Decoder's count from the current value).
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, syntaxError(data, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, _ := dec.Token() // data is valid JSON: no error from here on
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("secrets JSON is %s %s; expected an object of secret names to string values", article(tokenKind(tok)), tokenKind(tok))
	}
	var entries []entry
	for dec.More() {
		tok, _ = dec.Token()
		var raw json.RawMessage
		_ = dec.Decode(&raw)
		entries = append(entries, newEntry(tok.(string), raw))
	}
	return entries, nil
}

// newEntry classifies raw, a valid JSON value, and decodes it if a string.
func newEntry(name string, raw json.RawMessage) entry {
	e := entry{name: name, kind: rawKind(raw)}
	if e.kind == kindString {
		_ = json.Unmarshal(raw, &e.value)
		e.mangled = !faithful(raw)
	}
	return e
}

// rawKind names the JSON kind of a valid JSON value by its first byte.
func rawKind(raw []byte) string {
	switch raw[0] {
	case '"':
		return kindString
	case '{':
		return kindObject
	case '[':
		return kindArray
	case 't', 'f':
		return kindBoolean
	case 'n':
		return kindNull
	}
	return kindNumber
}

// tokenKind names the JSON kind of a top-level token.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return kindArray // a valid top-level value opening with a delimiter other than '{'
	case string:
		return kindString
	case bool:
		return kindBoolean
	case nil:
		return kindNull
	}
	return kindNumber
}

// article is the indefinite article for kind.
func article(kind string) string {
	if strings.IndexByte("aeiou", kind[0]) >= 0 {
		return "an"
	}
	return "a"
}

// faithful reports whether encoding/json decodes the JSON string raw without
// replacing anything with U+FFFD: it does so silently for invalid UTF-8 and
// for a \u escape of a surrogate that is not part of a pair.
func faithful(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		case r >= 0xD800 && r <= 0xDBFF:
			if !bytes.HasPrefix(raw[i+1:], []byte(`\u`)) || !isLowSurrogate(hex4(raw[i+3:])) {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 reads the four hex digits of a \u escape; -1 if they are not there.
func hex4(b []byte) int {
	if len(b) < 4 {
		return -1
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}

func isLowSurrogate(r int) bool { return r >= 0xDC00 && r <= 0xDFFF }

// syntaxError says where data stops being valid JSON without quoting it.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return errors.New("secrets JSON is invalid")
	}
	at := int(se.Offset) - 1 // Offset counts the offending byte
	if se.Error() == "unexpected end of JSON input" {
		return fmt.Errorf("secrets JSON is invalid at %s: unexpected end of input", position(data, len(data)))
	}
	return fmt.Errorf("secrets JSON is invalid at %s: %s", position(data, at), describe(se.Error()))
}

// scannerContexts are the places encoding/json's scanner names after the
// quoted character in "invalid character 'x' <context>".
var scannerContexts = []string{
	"after array element",
	"after decimal point in numeric literal",
	"after object key",
	"after object key:value pair",
	"after top-level value",
	"in \\u hexadecimal character escape",
	"in exponent of numeric literal",
	"in numeric literal",
	"in string escape code",
	"in string literal",
	"looking for beginning of object key string",
	"looking for beginning of value",
}

// describe rewrites an encoding/json syntax message without the character
// it quotes, keeping only the context it names.
func describe(msg string) string {
	if !strings.HasPrefix(msg, "invalid character ") {
		return "malformed JSON"
	}
	if strings.Contains(msg, " in literal ") {
		return "unexpected character in literal true, false or null"
	}
	for _, c := range scannerContexts {
		if strings.HasSuffix(msg, " "+c) {
			return "unexpected character " + c
		}
	}
	return "unexpected character"
}

// position is the 1-based line and column (in characters) of byte at.
func position(data []byte, at int) string {
	at = max(0, min(at, len(data)))
	start := bytes.LastIndexByte(data[:at], '\n') + 1
	line := bytes.Count(data[:start], []byte("\n")) + 1
	col := utf8.RuneCount(data[start:at]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}
