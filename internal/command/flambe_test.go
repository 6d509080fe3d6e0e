package command

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/testworld/gitserver"
)

// flambeShim stands in for Flambé's command line, which cannot be
// installed here. It checks what sear hands to Flambé, and only that: the
// command line (`flambe RUNNABLE --secrets INI -i`), the runnable's
// extensions document pointing at copies uploaded beside the job, each one
// an importable package from the branch the runnable named, and the
// secrets file. Flambé itself would `pip install` each extension; the shim
// puts it on sys.path instead.
const flambeShim = `#!/usr/bin/env python3
import importlib, json, os, re, sys
args = sys.argv[1:]
runnable, ini = args[0], args[args.index("--secrets") + 1]
assert "-i" in args, "sear did not ask flambe to install the extensions: %r" % args
text = open(runnable).read()
exts = dict(re.findall(r"^([A-Za-z_]\w*):\s*(\S+)\s*$", text.split("\n---")[0], re.M))
for name, loc in exts.items():
    assert not loc.startswith("http"), "extension %s still points at %s" % (name, loc)
    sys.path.insert(0, loc)
    print("extension %s at %s from branch %s" % (name, loc, importlib.import_module(name).BRANCH))
print("secrets file readable:", os.access(ini, os.R_OK))
json.dump({"extensions": len(exts)}, open(os.path.join(os.environ["SEAR_OUTPUT_DIR"], "metrics.json"), "w"))
`

// extensionRepo serves org/ext.git, whose branch release/2024.1 holds the
// extension sst_ext in a directory of the same name; main does not.
func extensionRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(root, "work")
	os.MkdirAll(work, 0o755)
	steps := []func() error{
		func() error { return gitserver.Git(work, "init", "-q", "-b", "main") },
		func() error { return gitserver.WriteFiles(work, map[string]string{"README.md": "main\n"}) },
		func() error { return gitserver.Git(work, "add", "-A") },
		func() error { return gitserver.Git(work, "commit", "-q", "-m", "main") },
		func() error { return gitserver.Git(work, "checkout", "-q", "-b", "release/2024.1") },
		func() error {
			return gitserver.WriteFiles(work, map[string]string{
				"sst_ext/setup.py":            "from setuptools import setup\nsetup(name='sst_ext')\n",
				"sst_ext/sst_ext/__init__.py": "BRANCH = 'release/2024.1'\n",
			})
		},
		func() error { return gitserver.Git(work, "add", "-A") },
		func() error { return gitserver.Git(work, "commit", "-q", "-m", "release") },
		func() error { return gitserver.Git(root, "clone", "-q", "--bare", work, "org/ext.git") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	backend, err := gitserver.Backend(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(backend)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Not parallel: it puts the Flambé stand-in on the PATH the local nodes'
// commands inherit.
func TestFlambeExperimentWithAGitExtension(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "flambe"), []byte(flambeShim), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	url := extensionRepo(t)

	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "runnable.yaml"), []byte("sst_ext: "+url+"/org/ext/tree/release/2024.1/sst_ext\n\n---\n\n"+
		"!Experiment\nname: sst\npipeline:\n  train: !sst_ext.Trainer\n    lr: !g [0.1, 0.01]\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "cluster.yaml"), []byte("!LocalCluster\nname: flambe\nfactories_num: 1\n"), 0o644)
	secrets := filepath.Join(ws, "secrets.json")
	os.WriteFile(secrets, []byte(`{"WANDB__KEY": "k-123456789"}`), 0o600)
	out := t.TempDir()

	code, stdout, stderr := sear(t, nil, "run", "--runnable", ws+"/runnable.yaml", "--cluster", ws+"/cluster.yaml",
		"--secrets-json", secrets, "--workspace", ws, "--output-dir", out)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"extension sst_ext at ./.sear/extensions/sst_ext from branch release/2024.1",
		"secrets file readable: True",
		"metric extensions",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "metrics.json")); err != nil {
		t.Errorf("metrics.json did not come back: %v", err)
	}
}
