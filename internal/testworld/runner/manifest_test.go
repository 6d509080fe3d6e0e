package runner

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestInputVariable(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"aws-role-arn": "INPUT_AWS-ROLE-ARN",
		"runnable":     "INPUT_RUNNABLE",
		"two words":    "INPUT_TWO_WORDS",
	} {
		if got := InputVariable(name); got != want {
			t.Errorf("InputVariable(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestRepositoryManifest reads sear's own action.yml as the runner does.
func TestRepositoryManifest(t *testing.T) {
	t.Parallel()
	m, err := ReadManifest(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Image != "Dockerfile" || !strings.HasPrefix(m.Entrypoint, "/") || !strings.HasPrefix(m.PostEntrypoint, "/") {
		t.Errorf("runs: image %q, entrypoint %q, post-entrypoint %q", m.Image, m.Entrypoint, m.PostEntrypoint)
	}
	defaults := map[string]string{}
	for _, in := range m.Inputs {
		defaults[in.Name] = in.Default
	}
	for name, want := range map[string]string{"runnable": "", "aws-role-arn": "", "github-token": "${{ github.token }}"} {
		if got, ok := defaults[name]; !ok || got != want {
			t.Errorf("input %s: declared %v, default %q; want %q", name, ok, got, want)
		}
	}
}

func TestParseManifest(t *testing.T) {
	t.Parallel()
	m, err := parseManifest([]byte(`
inputs:
  b: {default: "2"}
  a: {required: true}
  token: {default: "${{ github.token }}"}
runs: {using: docker, image: Dockerfile, entrypoint: /e, post-entrypoint: /p, args: [x, y]}
`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range m.Inputs {
		names = append(names, in.Name+"="+in.Default)
	}
	if got := strings.Join(names, " "); got != "b=2 a= token=${{ github.token }}" {
		t.Errorf("inputs in order: %s", got)
	}
	if m.Entrypoint != "/e" || m.PostEntrypoint != "/p" || strings.Join(m.Args, ",") != "x,y" {
		t.Errorf("runs: %+v", m)
	}
	if _, err := parseManifest([]byte("runs: {using: node20, main: index.js}")); err == nil {
		t.Error("a JavaScript action: no error")
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	github := map[string]string{"token": "ghs_x", "repository": "o/r"}
	for in, want := range map[string]string{
		"${{ github.token }}":             "ghs_x",
		"${{github.repository}}":          "o/r",
		"plain":                           "plain",
		"${{ github.repository }}/issues": "o/r/issues",
	} {
		if got, err := evaluate(in, github); err != nil || got != want {
			t.Errorf("evaluate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"${{ secrets.TOKEN }}", "${{ github.nothing }}", "${{ inputs.x }}"} {
		if _, err := evaluate(in, github); err == nil {
			t.Errorf("evaluate(%q): no error", in)
		}
	}
}
