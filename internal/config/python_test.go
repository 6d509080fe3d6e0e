package config

import (
	"encoding/json"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestPythonStrMatchesPython checks the argv a !Script gets against
// Python's own str(), the conversion Flambé applies.
func TestPythonStrMatchesPython(t *testing.T) {
	t.Parallel()
	values := []string{
		"1", "-7", "0x1f", "1_000", "0.001", "1e-4", "1e-05", "1.0", "2.5e10", "1e16", "12345678901234567.0",
		"123456789.123", ".inf", "-.inf", "true", "False", "null", "~", "hello", "'quoted'",
		"[1, 'a b', 1.5, null, true]", `["it's", 'say "hi"', "both ' and \""]`, "{a: 1, b: [x]}",
		`"tab\there"`, `"new\nline"`, `"bell\a"`, "héllo wörld", `"\u00a0nbsp"`, `"\u200bzw"`,
	}
	var want []string
	// JSON has no infinity; the sentinels stand for it.
	script := `import json,sys
def fix(v):
    if v in ("+Inf", "-Inf"): return float(v)
    if isinstance(v, list): return [fix(x) for x in v]
    if isinstance(v, dict): return {k: fix(x) for k, x in v.items()}
    return v
for v in json.load(sys.stdin): print(json.dumps(str(fix(v))))`
	// JSON carries the same values to Python; YAML 1.2 and JSON agree on
	// each of them once yaml.v3 has decoded it.
	var asJSON []any
	for _, v := range values {
		var x any
		if err := yaml.Unmarshal([]byte(v), &x); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		asJSON = append(asJSON, jsonSafe(x))
	}
	in, err := json.Marshal(asJSON)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var s string
		json.Unmarshal([]byte(line), &s)
		want = append(want, s)
	}
	for i, v := range values {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
			t.Fatal(err)
		}
		budget := maxArgNodes
		got, ok := pyValue(doc.Content[0], false, &budget)
		if !ok || got != want[i] {
			t.Errorf("str(%s) = %q, want %q", v, got, want[i])
		}
	}
}

// jsonSafe turns yaml.v3's decoded maps and infinities into what Python's
// json module reads back as the same value.
func jsonSafe(x any) any {
	switch v := x.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = jsonSafe(e)
		}
		return out
	case []any:
		for i := range v {
			v[i] = jsonSafe(v[i])
		}
		return v
	case float64:
		if math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return json.Number(floatJSON(v))
	}
	return x
}

// floatJSON writes f for Python's json module, independently of pyFloat.
func floatJSON(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0" // keep it a float in Python
	}
	return s
}
