package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsDeprecatedFlags checks that sear secrets' old flag names
// still work, each with one line on stderr that names the new one.
func TestSecretsDeprecatedFlags(t *testing.T) {
	t.Parallel()
	js := filepath.Join(t.TempDir(), "secrets.json")
	os.WriteFile(js, []byte(`{"DB__PASSWORD":"pw-1","TOKEN":"tok-2","OTHER":"o-3"}`), 0o600)

	code, want, stderr := sear(t, nil, "secrets", "--secrets-json", js, "--secrets-section", "MAIN", "--secrets-include", "DB__PASSWORD,TOKEN")
	if code != ExitOK || stderr != "" {
		t.Fatalf("new names: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(want, "[MAIN]") || strings.Contains(want, "other") {
		t.Fatalf("new names: the INI ignores --secrets-section or --secrets-include:\n%s", want)
	}
	for _, args := range [][]string{
		{"--section", "MAIN", "--include", "DB__PASSWORD,TOKEN"},
		{"-section", "MAIN", "-include=DB__PASSWORD,TOKEN"},
	} {
		code, got, stderr := sear(t, nil, append([]string{"secrets", "--secrets-json", js}, args...)...)
		if code != ExitOK || got != want {
			t.Errorf("%v: exit %d, INI:\n%s\nwant the same as with the new names:\n%s", args, code, got, want)
		}
		wantErr := "sear secrets: --section is deprecated and goes in the next release; use --secrets-section\n" +
			"sear secrets: --include is deprecated and goes in the next release; use --secrets-include\n"
		if stderr != wantErr {
			t.Errorf("%v: stderr %q, want %q", args, stderr, wantErr)
		}
	}
}

// The same three secrets flags, with the same meaning, in every command
// that reads the secrets.
func TestSecretsFlagsAreTheSameEverywhere(t *testing.T) {
	t.Parallel()
	sets := flagSets()
	for _, name := range []string{"secrets-json", "secrets-section", "secrets-include"} {
		want := sets["secrets"].Lookup(name)
		for _, cmd := range []string{"plan", "run"} {
			got := sets[cmd].Lookup(name)
			if got == nil || got.Usage != want.Usage || got.DefValue != want.DefValue {
				t.Errorf("sear %s --%s differs from sear secrets': %+v, want %+v", cmd, name, got, want)
			}
		}
	}
}

// TestRunCommandAndMaxDuration checks sear run's --command and
// --max-duration, which mean what the action's inputs of those names do.
func TestRunCommandAndMaxDuration(t *testing.T) {
	t.Parallel()
	t.Run("command", func(t *testing.T) {
		t.Parallel()
		dir := workspace(t, "print('the runnable ran')\n", "!LocalCluster\nname: commanded\nfactories_num: 0\n")
		code, stdout, stderr := sear(t, nil, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml",
			"--workspace", dir, "--output-dir", t.TempDir(), "--command", `echo "the command ran in $(basename "$PWD")" && test -f job.py`)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "the command ran in ") || strings.Contains(stdout, "the runnable ran") {
			t.Errorf("want the command's output instead of the runnable's:\n%s", stdout)
		}
	})
	t.Run("max-duration", func(t *testing.T) {
		t.Parallel()
		// The cluster file gives the job an hour; the flag, 2 s.
		dir := workspace(t, "import time\nprint('started', flush=True)\ntime.sleep(1000)\n",
			"!LocalCluster\nname: bounded\nfactories_num: 0\nmax_duration: 1h\n")
		code, stdout, stderr := sear(t, nil, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml",
			"--workspace", dir, "--output-dir", t.TempDir(), "--max-duration", "2s")
		if code != ExitFailure || !strings.Contains(stdout, "timed out") {
			t.Fatalf("exit %d, want 1 and a timeout\n%s\n%s", code, stdout, stderr)
		}
	})
}
