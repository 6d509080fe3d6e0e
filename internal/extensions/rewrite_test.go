package extensions

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sear-ci/sear/internal/config"
)

const runnableDoc = "\n---\n# the runnable is never touched\n!Experiment\nname: x   # keep this\npipeline:\n  train: !sst_ext.SSTDataset {}\n"

func TestRewriteInPlace(t *testing.T) {
	t.Parallel()
	const url = "https://github.com/example-org/flambe-sst/tree/release/2024.1/sst_ext"
	const node = "./.sear/extensions/sst_ext"
	tests := []struct{ name, in, want string }{
		{"plain with a comment",
			"# extensions\nsst_ext: " + url + "   # the dataset\npip_ext: flambe-sst==1.0",
			"# extensions\nsst_ext: " + node + "   # the dataset\npip_ext: flambe-sst==1.0"},
		{"double-quoted",
			`sst_ext: "` + url + `" # q`,
			`sst_ext: "` + node + `" # q`},
		{"single-quoted",
			`sst_ext: '` + url + `'`,
			`sst_ext: '` + node + `'`},
		{"tag and anchor kept",
			"sst_ext: !!str &loc " + url,
			"sst_ext: !!str &loc " + node},
		{"tag, then the value on the next line",
			"sst_ext: !!str # typed\n  " + url,
			"sst_ext: !!str # typed\n  " + node},
		{"flow mapping",
			"{pip_ext: flambe, sst_ext: " + url + "}",
			"{pip_ext: flambe, sst_ext: " + node + "}"},
		{"multi-byte characters before the value",
			`{pip_ext: "naïve—pkg", sst_ext: ` + url + `}`,
			`{pip_ext: "naïve—pkg", sst_ext: ` + node + `}`},
		{"CR LF line endings",
			"# é\r\npip_ext: flambe\r\nsst_ext: " + url + "\r\n",
			"# é\r\npip_ext: flambe\r\nsst_ext: " + node + "\r\n"},
		{"Unicode line separator counts as a line break",
			"pip_ext: flambe\u2028sst_ext: " + url,
			"pip_ext: flambe\u2028sst_ext: " + node},
		{"explicit document start",
			"%YAML 1.1\n---\nsst_ext: " + url,
			"%YAML 1.1\n---\nsst_ext: " + node},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Rewrite([]byte(tt.in+runnableDoc), map[string]string{"sst_ext": node})
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want + runnableDoc; string(got) != want {
				t.Errorf("got:\n%q\nwant:\n%q", got, want)
			}
		})
	}
}

func TestRewriteKeepsTheByteOrderMark(t *testing.T) {
	t.Parallel()
	in := "\ufeffsst_ext: https://example.com/o/r" + runnableDoc
	got, err := Rewrite([]byte(in), map[string]string{"sst_ext": "./x/sst_ext"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "\ufeffsst_ext: ./x/sst_ext" + runnableDoc; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRewriteQuotesWhatPlainCannotHold(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{"./my dir/sst_ext", "./a: b/sst_ext", "./#x/sst_ext", "1.5", "./ünï/sst_ext", `./q"uote/x`} {
		got, err := Rewrite([]byte("{sst_ext: https://example.com/o/r, b: c}"+runnableDoc), map[string]string{"sst_ext": loc})
		if err != nil {
			t.Fatalf("%q: %v", loc, err)
		}
		if v := extensionValue(t, got, "sst_ext"); v != loc {
			t.Errorf("%q reads back as %q", loc, v)
		}
	}
}

// TestRewriteFallsBack covers locations that cannot be edited in place:
// the extensions document is re-encoded, the runnable document is kept.
func TestRewriteFallsBack(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"folded block scalar", "sst_ext: >-\n  https://example.com/o/r\nother: pkg"},
		{"double-quoted over two lines", "sst_ext: \"https://example.com/\\\n  o/r\"\nother: pkg"},
		{"alias", "other: &u https://example.com/o/r\nsst_ext: *u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			locs := map[string]string{"sst_ext": "./.sear/extensions/sst_ext"}
			if strings.Contains(tt.in, "*u") {
				locs["other"] = "./.sear/extensions/other"
			}
			got, err := Rewrite([]byte(tt.in+runnableDoc), locs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(got, []byte(runnableDoc)) {
				t.Errorf("the runnable document changed:\n%s", got)
			}
			for name, want := range locs {
				if v := extensionValue(t, got, name); v != want {
					t.Errorf("%s = %q, want %q\n%s", name, v, want, got)
				}
			}
			if v := extensionValue(t, got, "other"); locs["other"] == "" && v != "pkg" {
				t.Errorf("other = %q, want pkg", v)
			}
		})
	}
}

func TestRewriteErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"no extensions document", "!Script\nscript: x\n", "has no extensions document"},
		{"extension not declared", "other: pkg" + runnableDoc, "has no extension sst_ext"},
		{"not YAML", "a: [", "parse the runnable"},
	}
	for _, tt := range tests {
		_, err := Rewrite([]byte(tt.in), map[string]string{"sst_ext": "./x"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// TestRewriteThenParse checks the result with config, the way the run's
// runnable is checked: the extension becomes local and nothing else moves.
func TestRewriteThenParse(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../examples/flambe-experiment/runnable.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "sst_ext")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	before, err := config.ParseRunnable("runnable.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Rewrite(src, map[string]string{"sst_ext": dir})
	if err != nil {
		t.Fatal(err)
	}
	after, err := config.ParseRunnable("runnable.yaml", got)
	if err != nil {
		t.Fatalf("the rewritten runnable does not parse: %v\n%s", err, got)
	}
	if e := after.Extensions[0]; e.Location != dir || e.Kind != config.ExtLocal {
		t.Errorf("extension after the rewrite: %+v", e)
	}
	i := bytes.Index(src, []byte("\n---\n"))
	if !bytes.HasSuffix(got, src[i:]) || after.Name != before.Name || after.Search != before.Search {
		t.Error("the runnable document changed")
	}
	if !bytes.HasPrefix(got, src[:bytes.Index(src, []byte("sst_ext:"))]) {
		t.Error("the comments before the extensions changed")
	}
}

func extensionValue(t *testing.T, src []byte, name string) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return resolveAlias(m.Content[i+1]).Value
		}
	}
	return ""
}

func FuzzRewrite(f *testing.F) {
	f.Add("sst_ext: https://example.com/o/r # c\nb: pkg", "./.sear/extensions/sst_ext")
	f.Add("{b: \"x\", sst_ext: 'https://example.com/o/r'}", "./a b/c")
	f.Add("sst_ext: !!str &a\n  https://example.com/o/r\nb: *a", "./x")
	f.Fuzz(func(t *testing.T, exts, loc string) {
		src := []byte(exts + runnableDoc)
		got, err := Rewrite(src, map[string]string{"sst_ext": loc})
		if err != nil {
			return
		}
		if !bytes.HasSuffix(got, []byte(runnableDoc)) {
			t.Fatalf("the runnable document changed:\n%q", got)
		}
		if v := extensionValue(t, got, "sst_ext"); v != loc {
			t.Fatalf("sst_ext reads back as %q, want %q\n%q", v, loc, got)
		}
	})
}
