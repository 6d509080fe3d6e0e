package secrets

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// object is the secrets JSON for values, as toJSON(secrets) would write it.
func object(t testing.TB, values map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// convertOK converts values and fails the test on any error.
func convertOK(t *testing.T, values map[string]string, opts Options) *File {
	t.Helper()
	f, err := Convert(object(t, values), opts)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	return f
}

// assertReadsBack checks that configparser reads f.INI as exactly want
// and that f.Sections lists the same sections and keys.
func assertReadsBack(t *testing.T, f *File, want map[string]map[string]string) {
	t.Helper()
	got, pyErr := readBack(t, f.INI)
	if pyErr != "" {
		t.Fatalf("configparser: %s\nfile:\n%s", pyErr, f.INI)
	}
	if !maps.EqualFunc(got, want, maps.Equal) {
		t.Fatalf("configparser read back\n%q\nwant\n%q\nfile:\n%s", got, want, f.INI)
	}
	if gotSections := sectionsOf(got); !slices.EqualFunc(f.Sections, gotSections, sameSection) {
		t.Errorf("Sections = %q, configparser read %q", f.Sections, gotSections)
	}
}

// sectionsOf lists what configparser read as File.Sections would.
func sectionsOf(read map[string]map[string]string) []Section {
	var sections []Section
	for _, name := range slices.Sorted(maps.Keys(read)) {
		sections = append(sections, Section{Name: name, Keys: slices.Sorted(maps.Keys(read[name]))})
	}
	return sections
}

func sameSection(a, b Section) bool { return a.Name == b.Name && slices.Equal(a.Keys, b.Keys) }

// assertNoValue checks that no line of err contains a value.
func assertNoValue(t *testing.T, err error, values ...string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error contains the value %q:\n%v", v, err)
		}
	}
}

func TestConvertReadsBackHardValues(t *testing.T) {
	t.Parallel()
	for _, tc := range hardValues {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := convertOK(t, map[string]string{"APP__TOKEN": tc.value}, Options{})
			assertReadsBack(t, f, map[string]map[string]string{"APP": {"token": tc.value}})
		})
	}
}

// TestConvertReadsBackHardValuesTogether puts every hard value in one file,
// so a value that spills into the next key or section shows.
func TestConvertReadsBackHardValuesTogether(t *testing.T) {
	t.Parallel()
	values := map[string]string{}
	want := map[string]map[string]string{"SECRETS": {}, "A": {}}
	for i, tc := range hardValues {
		values[fmt.Sprintf("V%02d", i)] = tc.value
		values[fmt.Sprintf("A__V%02d", i)] = tc.value
		want["SECRETS"][fmt.Sprintf("v%02d", i)] = tc.value
		want["A"][fmt.Sprintf("v%02d", i)] = tc.value
	}
	assertReadsBack(t, convertOK(t, values, Options{}), want)
}

func TestConvertRefusesWhatConfigparserChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Convert(object(t, map[string]string{"DB__PASSWORD": tc.value}), Options{})
			if err == nil {
				t.Fatalf("Convert accepted the value; file:\n%s", f.INI)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, `"DB__PASSWORD": `) {
					t.Errorf("error line does not start with the secret's name: %q", line)
				}
			}
			if !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), tc.remedy) {
				t.Errorf("error = %q, want reason %q and remedy %q", err, tc.reason, tc.remedy)
			}
			if strings.Contains(tc.value, "s3cr3t") {
				assertNoValue(t, err, tc.value, "s3cr3t")
			}
			if f == nil || !slices.Contains(f.Mask, tc.value) {
				t.Errorf("File.Mask lacks the refused value")
			}
			// The refusal is needed: written without the check,
			// configparser reads something else.
			if same, _ := readsBackAs(t, tc.value); same {
				t.Errorf("configparser reads the value back exactly; the refusal is not needed")
			}
		})
	}
}

// TestConvertAcceptsLeadingLineBreaks pins a rule derived from _read: the
// first line of a value may be empty (the key line ends at the delimiter)
// and blank lines are kept, so a value may start with line breaks.
func TestConvertAcceptsLeadingLineBreaks(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"\ns3cr3t", "\n\n\ns3cr3t\n\ns3cr3t"} {
		if same, why := readsBackAs(t, v); !same {
			t.Errorf("configparser changes %q: %s", v, why)
		}
		if p := valueProblems(v); p != nil {
			t.Errorf("valueProblems(%q) = %q, want none", v, p)
		}
	}
}

func TestIsPySpaceMatchesPython(t *testing.T) {
	t.Parallel()
	want := pythonSpaces(t)
	var got []rune
	for r := rune(0); r <= 0x10FFFF; r++ {
		if isPySpace(r) {
			got = append(got, r)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("isPySpace holds for %U, str.isspace() for %U", got, want)
	}
}

func TestConvertNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values map[string]string
		opts   Options
		want   map[string]map[string]string
	}{
		{"name without __ goes to SECRETS", map[string]string{"API_KEY": "v1"}, Options{}, map[string]map[string]string{"SECRETS": {"api_key": "v1"}}},
		{"name without __ goes to the chosen section", map[string]string{"API_KEY": "v1"}, Options{Section: "flambe"}, map[string]map[string]string{"flambe": {"api_key": "v1"}}},
		{"split at the first __", map[string]string{"A__B__C": "v1", "A___D": "v2", "A____E": "v3"}, Options{}, map[string]map[string]string{"A": {"b__c": "v1", "_d": "v2", "__e": "v3"}}},
		{"dots and dashes", map[string]string{"my.app-1__db.pass-word": "v1"}, Options{}, map[string]map[string]string{"my.app-1": {"db.pass-word": "v1"}}},
		{"sections are case-sensitive", map[string]string{"db__K": "v1", "DB__K": "v2"}, Options{}, map[string]map[string]string{"db": {"k": "v1"}, "DB": {"k": "v2"}}},
		{"lower-case default is an ordinary section", map[string]string{"default__K": "v1"}, Options{}, map[string]map[string]string{"default": {"k": "v1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assertReadsBack(t, convertOK(t, tc.values, tc.opts), tc.want)
		})
	}
}

func TestConvertRejectsNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values map[string]string
		opts   Options
		want   string
	}{
		{"space", map[string]string{"MY SECRET": "s3cr3t"}, Options{}, `"MY SECRET": character ' ' is not allowed in a secret name; use only letters, digits, '_', '.' and '-'`},
		{"equals sign", map[string]string{"A=B": "s3cr3t"}, Options{}, `"A=B": character '=' is not allowed`},
		{"colon", map[string]string{"A__B:C": "s3cr3t"}, Options{}, `"A__B:C": character ':' is not allowed`},
		{"bracket", map[string]string{"A]__B": "s3cr3t"}, Options{}, `"A]__B": character ']' is not allowed`},
		{"hash", map[string]string{"#A": "s3cr3t"}, Options{}, `"#A": character '#' is not allowed`},
		{"non-ASCII", map[string]string{"CLÉ": "s3cr3t"}, Options{}, `"CLÉ": character 'É' is not allowed`},
		{"empty name", map[string]string{"": "s3cr3t"}, Options{}, `"": the secret name is empty; name it KEY or SECTION__KEY`},
		{"empty section", map[string]string{"__KEY": "s3cr3t"}, Options{}, `"__KEY": the section before "__" is empty; name it SECTION__KEY`},
		{"empty key", map[string]string{"DB__": "s3cr3t"}, Options{}, `"DB__": the key after "__" is empty; name it SECTION__KEY`},
		{"defaults section", map[string]string{"DEFAULT__KEY": "s3cr3t"}, Options{}, `"DEFAULT__KEY": section "DEFAULT" is configparser's defaults section, whose keys show up in every section; use another section name`},
		{"defaults section chosen", map[string]string{"KEY": "s3cr3t"}, Options{Section: "DEFAULT"}, `"DEFAULT": the section for names without "__" is configparser's defaults section, whose keys show up in every section; choose another section`},
		{"bad section chosen", map[string]string{"KEY": "s3cr3t"}, Options{Section: "MY APP"}, `"MY APP": character ' ' is not allowed in the section for names without "__"`},
		{"keys differing in case", map[string]string{"DB__Key": "s3cr3t-1", "DB__KEY": "s3cr3t-2"}, Options{}, `"DB__KEY" and "DB__Key": configparser lower-cases keys, so these are all key "key" in section [DB]; keep only one of them`},
		{"name with and without the section", map[string]string{"FOO": "s3cr3t-1", "SECRETS__foo": "s3cr3t-2"}, Options{}, `"FOO" and "SECRETS__foo": configparser lower-cases keys, so these are all key "foo" in section [SECRETS]`},
		{"three names, one key", map[string]string{"foo": "s3cr3t-1", "Foo": "s3cr3t-2", "APP__FOO": "s3cr3t-3"}, Options{Section: "APP"}, `"APP__FOO", "Foo" and "foo": configparser lower-cases keys, so these are all key "foo" in section [APP]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Convert(object(t, tc.values), tc.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to start with %s", err, tc.want)
			}
			assertNoValue(t, err, "s3cr3t")
		})
	}
}

// TestConvertDefaultsSectionWouldLeak shows why DEFAULT is refused: its
// keys show up in every other section.
func TestConvertDefaultsSectionWouldLeak(t *testing.T) {
	t.Parallel()
	got, pyErr := readBack(t, []byte("[DEFAULT]\n"+encodeOption("key", "s3cr3t")+"[APP]\n"+encodeOption("other", "v")))
	if pyErr != "" || got["APP"]["key"] != "s3cr3t" {
		t.Errorf("configparser read %q (%s); expected the default to show up in [APP]", got, pyErr)
	}
}

// TestConvertFoldedKeysWouldCollide shows why keys differing in case are
// refused: configparser's strict mode refuses the file.
func TestConvertFoldedKeysWouldCollide(t *testing.T) {
	t.Parallel()
	_, pyErr := readBack(t, []byte("[DB]\n"+encodeOption("KEY", "s3cr3t-1")+encodeOption("Key", "s3cr3t-2")))
	if !strings.HasPrefix(pyErr, "DuplicateOptionError") {
		t.Errorf("configparser raised %q, want DuplicateOptionError", pyErr)
	}
}

func TestConvertGitHubToken(t *testing.T) {
	t.Parallel()
	values := map[string]string{"github_token": "ghs_s3cr3t", "API_KEY": "v1"}
	tests := []struct {
		name     string
		include  []string
		want     map[string]map[string]string
		warnings []string
	}{
		{"left out by default", nil, map[string]map[string]string{"SECRETS": {"api_key": "v1"}}, nil},
		{"named exactly", []string{"github_token"}, map[string]map[string]string{"SECRETS": {"github_token": "ghs_s3cr3t"}}, nil},
		{"named in another case", []string{"GITHUB_TOKEN", "API_KEY"}, map[string]map[string]string{"SECRETS": {"github_token": "ghs_s3cr3t", "api_key": "v1"}}, nil},
		{"not matched by a star", []string{"*"}, map[string]map[string]string{"SECRETS": {"api_key": "v1"}}, nil},
		{"not matched by a pattern for it", []string{"github_*", "API_KEY"}, map[string]map[string]string{"SECRETS": {"api_key": "v1"}},
			[]string{`"github_*": include pattern matches only github_token, which is passed on only when named exactly`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := convertOK(t, values, Options{Include: tc.include})
			assertReadsBack(t, f, tc.want)
			if !slices.Equal(f.Warnings, tc.warnings) {
				t.Errorf("Warnings = %q, want %q", f.Warnings, tc.warnings)
			}
			if !slices.Contains(f.Mask, "ghs_s3cr3t") {
				t.Errorf("Mask lacks github_token's value")
			}
		})
	}
	t.Run("left out in upper case too", func(t *testing.T) {
		t.Parallel()
		f := convertOK(t, map[string]string{"GITHUB_TOKEN": "ghs_s3cr3t", "A": "v"}, Options{})
		assertReadsBack(t, f, map[string]map[string]string{"SECRETS": {"a": "v"}})
	})
}

func TestConvertInclude(t *testing.T) {
	t.Parallel()
	values := map[string]string{"DB_PASSWORD": "v1", "DB_USER": "v2", "API_KEY": "v3", "BAD NAME": " s3cr3t "}
	tests := []struct {
		name     string
		include  []string
		want     map[string]map[string]string
		warnings []string
	}{
		{"one name", []string{"DB_PASSWORD"}, map[string]map[string]string{"SECRETS": {"db_password": "v1"}}, nil},
		{"name in another case", []string{"db_password"}, map[string]map[string]string{"SECRETS": {"db_password": "v1"}}, nil},
		{"pattern", []string{"DB_*"}, map[string]map[string]string{"SECRETS": {"db_password": "v1", "db_user": "v2"}}, nil},
		{"pattern in another case", []string{"db_[pq]*"}, map[string]map[string]string{"SECRETS": {"db_password": "v1"}}, nil},
		{"pattern and name overlapping", []string{"DB_*", "API_KEY", "DB_USER"}, map[string]map[string]string{"SECRETS": {"db_password": "v1", "db_user": "v2", "api_key": "v3"}}, nil},
		{"pattern matching nothing", []string{"API_KEY", "AWS_*"}, map[string]map[string]string{"SECRETS": {"api_key": "v3"}}, []string{`"AWS_*": include pattern matches no secret`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := convertOK(t, values, Options{Include: tc.include})
			assertReadsBack(t, f, tc.want)
			if !slices.Equal(f.Warnings, tc.warnings) {
				t.Errorf("Warnings = %q, want %q", f.Warnings, tc.warnings)
			}
		})
	}
}

func TestConvertRejectsInclude(t *testing.T) {
	t.Parallel()
	values := map[string]string{"DB_PASSWORD": "s3cr3t"}
	tests := []struct {
		name    string
		include []string
		want    string
	}{
		{"missing name", []string{"DB_PASSWORD", "DB_PASWORD"}, `"DB_PASWORD": include names a secret that is not in the secrets JSON; check the spelling and that the secret is available to this workflow`},
		{"malformed pattern", []string{"DB_[A-"}, `"DB_[A-": include pattern is malformed; use path.Match syntax (*, ?, [a-z])`},
		{"empty entry", []string{""}, `"": an include entry is empty; remove it`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Convert(object(t, values), Options{Include: tc.include})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant %s", err, tc.want)
			}
			if f == nil || !slices.Contains(f.Mask, "s3cr3t") {
				t.Errorf("File.Mask lacks the value")
			}
		})
	}
}

func TestConvertRejectsNonStrings(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, json, want string }{
		{"number", `{"PIN": 1234567}`, `"PIN": the value is a number, but secrets are strings; pass ${{ toJSON(secrets) }} or quote the value`},
		{"boolean", `{"FLAG": true}`, `"FLAG": the value is a boolean, but`},
		{"null", `{"NOTHING": null}`, `"NOTHING": the value is a null, but`},
		{"object", `{"NESTED": {"k": "s3cr3t"}}`, `"NESTED": the value is an object, but`},
		{"array", `{"LIST": ["s3cr3t"]}`, `"LIST": the value is an array, but`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Convert([]byte(tc.json), Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to start with %s", err, tc.want)
			}
			assertNoValue(t, err, "s3cr3t", "1234567")
		})
	}
}

// TestConvertRejectsMangledUnicode covers strings encoding/json would
// silently change to U+FFFD.
func TestConvertRejectsMangledUnicode(t *testing.T) {
	t.Parallel()
	const want = `"KEY": the value is not valid Unicode (invalid UTF-8 or a lone surrogate escape) and would be changed; ` + remedyBase64
	for name, input := range map[string]string{
		"invalid UTF-8":        "{\"KEY\": \"s3cr3t\xff\"}",
		"lone high surrogate":  `{"KEY": "s3cr3t\ud83d"}`,
		"lone low surrogate":   `{"KEY": "\udd11s3cr3t"}`,
		"reversed surrogates":  `{"KEY": "\udd11\ud83ds3cr3t"}`,
		"high then not a low":  `{"KEY": "\ud83d\u0041s3cr3t"}`,
		"escaped backslash-u?": `{"KEY": "s3cr3t\\\ud800"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Convert([]byte(input), Options{})
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v\nwant %s", err, want)
			}
		})
	}
	t.Run("surrogate pair", func(t *testing.T) {
		t.Parallel()
		f, err := Convert([]byte(`{"KEY": "s3cr3t\ud83d\udd11 and \\ud800"}`), Options{})
		if err != nil {
			t.Fatal(err)
		}
		assertReadsBack(t, f, map[string]map[string]string{"SECRETS": {"key": `s3cr3t🔑 and \ud800`}})
	})
}

func TestConvertInvalidJSONNeverEchoesInput(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, json, want string }{
		{"empty", "", "secrets JSON is empty; expected an object of secret names to string values"},
		{"only whitespace", " \n\t", "secrets JSON is empty; expected an object of secret names to string values"},
		{"unterminated string", `{"KEY": "s3cr3t`, "secrets JSON is invalid at line 1, column 16: unexpected end of input"},
		{"bare word", `{"KEY": s3cr3t}`, "secrets JSON is invalid at line 1, column 9: unexpected character looking for beginning of value"},
		{"on a later line", "{\n  \"A\": \"ok\",\n  \"KEY\": \"s3cr3t\" s3cr3t\n}", "secrets JSON is invalid at line 3, column 19: unexpected character after object key:value pair"},
		{"column counts characters", "{\"K\": \"秘密\" s3cr3t}", "secrets JSON is invalid at line 1, column 12: unexpected character after object key:value pair"},
		{"bad escape", `{"KEY": "s3\qcr3t"}`, "secrets JSON is invalid at line 1, column 13: unexpected character in string escape code"},
		{"control character", "{\"KEY\": \"s3cr3t\x01\"}", "secrets JSON is invalid at line 1, column 16: unexpected character in string literal"},
		{"broken literal", `{"KEY": tru-s3cr3t}`, "secrets JSON is invalid at line 1, column 12: unexpected character in literal true, false or null"},
		{"data after the object", `{"KEY": "v"} s3cr3t`, "secrets JSON is invalid at line 1, column 14: unexpected character after top-level value"},
		{"unquoted name", `{s3cr3t: "v"}`, "secrets JSON is invalid at line 1, column 2: unexpected character looking for beginning of object key string"},
		{"array", `["s3cr3t"]`, "secrets JSON is an array; expected an object of secret names to string values"},
		{"string", `"s3cr3t"`, "secrets JSON is a string; expected an object of secret names to string values"},
		{"number", `1234567`, "secrets JSON is a number; expected an object of secret names to string values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Convert([]byte(tc.json), Options{})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant %s", err, tc.want)
			}
			if f != nil {
				t.Errorf("File = %+v, want nil when the JSON is not an object", f)
			}
		})
	}
}

// TestConvertReportsEveryProblem checks the whole joined error: one line
// per problem, options first, then by secret name (byte order, so
// "A__KEY" before "A__key").
func TestConvertReportsEveryProblem(t *testing.T) {
	t.Parallel()
	input := `{
		"Z__K": " s3cr3t-z",
		"A__KEY": "s3cr3t-a1",
		"A__key": "s3cr3t-a2\r\n",
		"BAD NAME": "s3cr3t-b",
		"N": 12345678,
		"DUP": "s3cr3t-d1",
		"DUP": "s3cr3t-d2",
		"M": "s3cr3t-m1\n  s3cr3t-m2 \n#s3cr3t-m3\n"
	}`
	want := strings.Join([]string{
		`"NOPE": include names a secret that is not in the secrets JSON; check the spelling and that the secret is available to this workflow`,
		`"A__KEY" and "A__key": configparser lower-cases keys, so these are all key "key" in section [A]; keep only one of them`,
		`"A__key": the value contains a carriage return, which Python reads as a line break; store it with LF line endings or base64-encoded and decode it in the job`,
		`"A__key": the value ends with a line break, which configparser strips; store it without the final line break or base64-encoded and decode it in the job`,
		`"BAD NAME": character ' ' is not allowed in a secret name; use only letters, digits, '_', '.' and '-'`,
		`"DUP": the secrets JSON holds this name more than once; keep one`,
		`"M": the value has whitespace at the start of line 2, which configparser strips from every line; store it on one line or base64-encoded and decode it in the job`,
		`"M": the value has whitespace at the end of line 2, which configparser strips from every line; store it on one line or base64-encoded and decode it in the job`,
		`"M": the value has '#' or ';' at the start of line 3, which configparser drops as a comment; store it on one line or base64-encoded and decode it in the job`,
		`"M": the value ends with a line break, which configparser strips; store it without the final line break or base64-encoded and decode it in the job`,
		`"N": the value is a number, but secrets are strings; pass ${{ toJSON(secrets) }} or quote the value`,
		`"Z__K": the value starts with whitespace, which configparser strips; store it base64-encoded and decode it in the job`,
	}, "\n")
	f, err := Convert([]byte(input), Options{Include: []string{"*", "NOPE"}})
	if err == nil || err.Error() != want {
		t.Fatalf("error =\n%v\nwant\n%s", err, want)
	}
	assertNoValue(t, err, "s3cr3t", "12345678")
	if f == nil || len(f.INI) != 0 || f.Sections != nil {
		t.Errorf("File = %+v, want only Mask and Warnings with an error", f)
	}
}

func TestLineList(t *testing.T) {
	t.Parallel()
	for want, nums := range map[string][]int{
		"line 3":                         {3},
		"lines 2 and 5":                  {2, 5},
		"lines 1, 2 and 9":               {1, 2, 9},
		"lines 1, 2, 3, 4 and 5":         {1, 2, 3, 4, 5},
		"lines 1, 2, 3, 4, 5 and 2 more": {1, 2, 3, 4, 5, 6, 7},
	} {
		if got := lineList(nums); got != want {
			t.Errorf("lineList(%v) = %q, want %q", nums, got, want)
		}
	}
}

func TestConvertIsDeterministic(t *testing.T) {
	t.Parallel()
	a := `{"B__Y": "1", "A__X": "2", "Z": "3", "B__a": "4", "a__b": "5"}`
	b := `{"a__b": "5", "Z": "3", "B__a": "4", "A__X": "2", "B__Y": "1"}`
	fa, err := Convert([]byte(a), Options{})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := Convert([]byte(b), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const want = "[A]\nx = 2\n\n[B]\na = 4\ny = 1\n\n[SECRETS]\nz = 3\n\n[a]\nb = 5\n"
	if string(fa.INI) != want || string(fb.INI) != want {
		t.Errorf("INI =\n%s\nand\n%s\nwant\n%s", fa.INI, fb.INI, want)
	}
	if !slices.EqualFunc(fa.Sections, fb.Sections, sameSection) || !slices.Equal(fa.Mask, fb.Mask) {
		t.Errorf("Sections or Mask depend on input order")
	}
}

func TestConvertEmpty(t *testing.T) {
	t.Parallel()
	f, err := Convert([]byte(`{}`), Options{})
	if err != nil || len(f.INI) != 0 || f.Sections != nil || len(f.Mask) != 0 {
		t.Fatalf("Convert({}) = %+v, %v", f, err)
	}
	assertReadsBack(t, f, map[string]map[string]string{})
}
