package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// build builds sear into a temporary directory with the extra go build
// arguments, and returns the binary.
func build(t *testing.T, extra ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sear")
	out, err := exec.Command("go", append(append([]string{"build", "-o", bin}, extra...), ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %v: %v\n%s", extra, err, out)
	}
	return bin
}

// versionOf runs sear version and sear --version, which must agree.
func versionOf(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("sear version: %v", err)
	}
	flagOut, err := exec.Command(bin, "--version").Output()
	if err != nil || string(flagOut) != string(out) {
		t.Errorf("sear --version printed %q (%v), sear version %q", flagOut, err, out)
	}
	return string(out)
}

// TestVersionFromLdflags builds sear as a release does, with the three
// variables the release script sets.
func TestVersionFromLdflags(t *testing.T) {
	t.Parallel()
	const pkg = "github.com/sear-ci/sear/internal/version"
	bin := build(t, "-ldflags", "-X "+pkg+".Version=v1.2.3 -X "+pkg+".Commit=0123456789abcdef -X "+pkg+".Date=2025-02-03T04:05:06Z")
	want := "sear v1.2.3\n  commit  0123456789abcdef\n  date    2025-02-03T04:05:06Z\n  go      " +
		runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got := versionOf(t, bin); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestVersionFromACheckout builds sear as a developer does, without
// -ldflags: it must say what the toolchain recorded, no more.
func TestVersionFromACheckout(t *testing.T) {
	t.Parallel()
	bin := build(t)
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	recorded := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(l), "\t")
		switch {
		case len(f) >= 3 && f[0] == "mod":
			recorded["version"] = f[2]
		case len(f) >= 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				recorded[k] = v
			}
		}
	}
	wantVersion, wantCommit, wantDate := recorded["version"], "unknown", "unknown"
	if wantVersion == "" {
		wantVersion = "(devel)"
	}
	if rev := recorded["vcs.revision"]; rev != "" {
		wantCommit = rev
		if recorded["vcs.modified"] == "true" {
			wantCommit += "+dirty"
		}
	}
	if tm := recorded["vcs.time"]; tm != "" {
		wantDate = tm + " (the commit's time"
	}
	got := versionOf(t, bin)
	for _, want := range []string{"sear " + wantVersion + "\n", "  commit  " + wantCommit + "\n", "  date    " + wantDate} {
		if !strings.Contains(got, want) {
			t.Errorf("sear version lacks %q; the toolchain recorded %v:\n%s", want, recorded, got)
		}
	}
	if !strings.HasPrefix(wantVersion, "v") && wantVersion != "(devel)" {
		t.Errorf("the toolchain recorded the version %q, neither a pseudo-version nor (devel)", wantVersion)
	}
}
