package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExtensionKinds classifies the locations Flambé's documentation shows
// (docs/understanding/extensions.rst and runnables.rst, and the ssh form
// its extensions.py clones by stripping "ssh://"), and the forms sear adds,
// as Flambé would: a URL is cloned, an existing path uploaded, anything
// else a pip requirement.
func TestExtensionKinds(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "extension")
	if err := os.Mkdir(local, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		loc  string
		want ExtensionKind
	}{
		{local, ExtLocal}, // Flambé's "/path/to/extension"
		{"https://github.com/user/my_other_extension", ExtGit},
		{"py-extensions==1.0", ExtPip},
		{"http://github.com/user/some_extension", ExtGit}, // refused when cloned: plain http
		{"https://github.com/user/repo/tree/BRANCH_NAME/path/to/extension", ExtGit},
		{"ssh://git@github.com:user/repo.git", ExtGit}, // Flambé's ssh form, which url.Parse refuses
		{"ssh://git@github.com:user/my_other_extension", ExtGit},
		{"SSH://github.com:user/repo.git", ExtGit},
		{"ssh://git@github.com/user/repo.git", ExtGit},
		{"ssh://git@github.com:2222/user/repo.git", ExtGit},
		{"git@github.com:user/repo.git", ExtGit},
		{"torch>=0.4.1,<1.1", ExtPip},
		{"flambe-sst @ https://example.com/flambe_sst-1.0.tar.gz", ExtPip},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			src := "ext: '" + tt.loc + "'\n---\n!Experiment\nname: e\npipeline:\n  a: !ext.A {}\n"
			r, err := ParseRunnable("runnable.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Extensions[0].Kind; got != tt.want {
				t.Errorf("%q is %s, want %s", tt.loc, got, tt.want)
			}
		})
	}
}

// TestScriptRefusesPipExtensions: Flambé's -i is what pip-installs
// extensions, and a !Script runs without Flambé, so a pip requirement
// there would never be installed. A git or local extension is still
// uploaded; an !Experiment keeps its pip requirements.
func TestScriptRefusesPipExtensions(t *testing.T) {
	_, err := ParseRunnable("runnable.yaml", []byte("git_ext: ssh://git@github.com:user/repo.git\nsst: flambe-sst==1.0\n---\n!Script\nscript: train\n"))
	if err == nil {
		t.Fatal("a !Script with a pip requirement as an extension was accepted")
	}
	want := `runnable.yaml:2:6: pip requirement "flambe-sst==1.0" (extension "sst") would not be installed: a !Script runs as python3 -m, without Flambé's -i, which is what installs extensions; install it in the cluster's setup_cmds (python3 -m pip install --user 'flambe-sst==1.0') and remove it here`
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if strings.Contains(err.Error(), "git_ext") {
		t.Errorf("the git extension was refused too: %s", err)
	}
	if _, err := ParseRunnable("runnable.yaml", []byte("sst: flambe-sst==1.0\n---\n!Experiment\nname: e\npipeline:\n  a: !sst.A {}\n")); err != nil {
		t.Errorf("an !Experiment's pip requirement was refused: %v", err)
	}
}
