package secrets

import (
	"bytes"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzConvert checks, for any input, that Convert either refuses it
// without revealing a value or writes a file from which configparser reads
// back exactly every value; and that valueProblems refuses a value exactly
// when configparser would read it back changed.
func FuzzConvert(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Convert(data, Options{})
		var decoded map[string]any
		if json.Unmarshal(data, &decoded) != nil || decoded == nil {
			assertRefusedJSON(t, file, err)
			return
		}
		if file == nil {
			t.Fatalf("no File for a JSON object (error %v)", err)
		}
		assertMasked(t, file, decoded)
		assertRefusalsAgreeWithPython(t, decoded)
		if err != nil {
			assertErrorHidesValues(t, data, decoded, err)
			return
		}
		assertReadsBack(t, file, expected(decoded))
	})
}

// refusedJSON matches every error about input that is not a JSON object;
// none of them has room for the input.
var refusedJSON = regexp.MustCompile(`^secrets JSON (is empty|is an? (string|number|boolean|null|array)); expected an object of secret names to string values$|^secrets JSON is invalid at line \d+, column \d+: [a-z :,\\-]+$`)

func assertRefusedJSON(t *testing.T, file *File, err error) {
	t.Helper()
	if err == nil || file != nil {
		t.Fatalf("Convert = %v, %v for input that is not a JSON object", file, err)
	}
	if !refusedJSON.MatchString(err.Error()) {
		t.Fatalf("unexpected error text (may echo input): %q", err)
	}
}

// assertMasked checks that every value is masked, also when Convert fails.
func assertMasked(t *testing.T, file *File, decoded map[string]any) {
	t.Helper()
	for _, v := range decoded {
		if s, ok := v.(string); ok && s != "" && !slices.Contains(file.Mask, s) {
			t.Errorf("Mask lacks a value")
		}
	}
	assertMaskShape(t, file.Mask)
}

// assertRefusalsAgreeWithPython writes each value without any check and
// asks configparser: valueProblems must refuse exactly the values it would
// read back changed.
func assertRefusalsAgreeWithPython(t *testing.T, decoded map[string]any) {
	t.Helper()
	var values []string
	for _, name := range slices.Sorted(maps.Keys(decoded)) {
		if s, ok := decoded[name].(string); ok {
			values = append(values, s)
		}
	}
	for i, changed := range changedByPython(t, values) {
		if problems := valueProblems(values[i]); changed != (problems != nil) {
			t.Errorf("value %q: valueProblems = %q, but configparser changes it = %v", values[i], problems, changed)
		}
	}
}

// changedByPython writes values without any check as keys k0, k1, … of one
// section and reports which ones configparser reads back changed. One
// document per input keeps the fuzzer fast. A value can only reach beyond
// its own key through a carriage return, and then the parse fails or the
// file gains a key or section; in that case each value gets a document of
// its own.
func changedByPython(t *testing.T, values []string) []bool {
	changed := make([]bool, len(values))
	var doc strings.Builder
	doc.WriteString("[S]\n")
	for i, v := range values {
		doc.WriteString(encodeOption("k"+strconv.Itoa(i), v))
	}
	got, pyErr := readBack(t, []byte(doc.String()))
	if pyErr == "" && len(got) == 1 && len(got["S"]) == len(values) {
		for i, v := range values {
			read, ok := got["S"]["k"+strconv.Itoa(i)]
			changed[i] = !ok || read != v
		}
		return changed
	}
	for i, v := range values {
		same, _ := readsBackAs(t, v)
		changed[i] = !same
	}
	return changed
}

// assertErrorHidesValues checks that the error text does not depend on
// the letters and digits of any value, and does not contain a value.
func assertErrorHidesValues(t *testing.T, data []byte, decoded map[string]any, err error) {
	t.Helper()
	disguised := disguise(data)
	if !json.Valid(disguised) {
		t.Fatalf("disguise broke the JSON: %q", disguised)
	}
	_, err2 := Convert(disguised, Options{})
	if err2 == nil || err2.Error() != err.Error() {
		t.Errorf("error text depends on the values:\n%v\nwith letters and digits of values replaced:\n%v", err, err2)
	}
	text := err.Error()
	for name := range decoded {
		text = strings.ReplaceAll(text, strconv.Quote(name), "")
	}
	for _, v := range decoded {
		if s, ok := v.(string); ok && len(s) >= 8 && strings.Contains(text, s) {
			t.Errorf("error contains the value %q:\n%v", s, err)
		}
	}
}

// expected is what configparser must read for decoded with the default
// Options: every value but github_token's, under SECTION and lower-cased
// KEY for SECTION__KEY (split at the first "__"), else under SECRETS.
func expected(decoded map[string]any) map[string]map[string]string {
	want := map[string]map[string]string{}
	for name, v := range decoded {
		if strings.EqualFold(name, "github_token") {
			continue
		}
		section, key, found := strings.Cut(name, "__")
		if !found {
			section, key = "SECRETS", name
		}
		if want[section] == nil {
			want[section] = map[string]string{}
		}
		want[section][strings.ToLower(key)] = v.(string)
	}
	return want
}

// expectedRead is expected for the secrets JSON input.
func expectedRead(t testing.TB, input []byte) map[string]map[string]string {
	t.Helper()
	var decoded map[string]any
	if err := json.Unmarshal(input, &decoded); err != nil {
		t.Fatal(err)
	}
	return expected(decoded)
}

// disguise replaces with 'Z' every ASCII letter and digit in the strings
// of the valid JSON object data that are not its names, leaving escapes,
// whitespace, punctuation and everything else alone.
func disguise(data []byte) []byte {
	out := bytes.Clone(data)
	depth, atName := 0, false
	for i := 0; i < len(out); i++ {
		switch out[i] {
		case '{', '[':
			depth++
			atName = depth == 1
		case '}', ']':
			depth--
		case ',':
			atName = depth == 1
		case '"':
			end := stringEnd(out, i)
			if !atName || depth != 1 {
				disguiseString(out[i+1 : end])
			}
			atName = false
			i = end
		}
	}
	return out
}

// stringEnd is the index of the quote closing the string opening at i.
func stringEnd(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i
}

func disguiseString(b []byte) {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && b[i+1] == 'u':
			i += 5
		case c == '\\':
			i++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b[i] = 'Z'
		}
	}
}

// fuzzSeeds are the table tests' values and names as secrets JSON, one
// short value per seed. Long seeds stay out (the 64 KiB values, all values
// in one object): the fuzzer minimizes every input that finds new coverage
// by trying to remove each range of its bytes, quadratic in its length, so
// a long seed stalls a 60-second run without adding coverage.
func fuzzSeeds(t testing.TB) [][]byte {
	const maxSeedValue = 256
	var seeds [][]byte
	for _, tc := range hardValues {
		if len(tc.value) > maxSeedValue {
			continue
		}
		seeds = append(seeds, object(t, map[string]string{"APP__TOKEN": tc.value}))
	}
	for _, tc := range refusals {
		seeds = append(seeds, object(t, map[string]string{"DB__PASSWORD": tc.value, "OK": "fine"}))
	}
	for _, s := range []string{
		`{"A__Key": "v1", "A__KEY": "v2", "FOO": "v3", "SECRETS__foo": "v4"}`,
		`{"github_token": "ghs_s3cr3t", "GITHUB_TOKEN": "x", "a__b__c": "%(x)s"}`,
		`{"MY SECRET": " s3cr3t ", "DEFAULT__K": "v", "__K": "v", "K__": "v", "": ""}`,
		`{"N": 1, "B": true, "Z": null, "O": {"k": "v"}, "A": ["v"], "DUP": "1", "DUP": "2"}`,
		`{"S": "\ud83d\udd11 \ud800 \\u0041 \u00a0\u2028\u0085x"}`,
		"{\"S\": \"a\xffb\"}",
		`{"KEY": "s3cr3t`, `["s3cr3t"]`, `null`, ``, `{"A": "v"} {}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}
