package command

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunQuickstartOnLocalCluster(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := sear(t, nil, "run",
		"--runnable", root+"/examples/quickstart/runnable.yaml", "--cluster", root+"/examples/quickstart/cluster.yaml",
		"--workspace", root+"/examples/quickstart", "--output-dir", out)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"epoch 1/40", "epoch 40/40", "fitted y = ", "sear: job succeeded", "metric final_loss", "metric loss"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "metrics.json")); err != nil {
		t.Errorf("metrics.json not brought back: %v", err)
	}
}

// workspace writes a job module and its runnable and cluster files.
func workspace(t *testing.T, module, cluster string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "job.py"), []byte(module), 0o644)
	os.WriteFile(filepath.Join(dir, "runnable.yaml"), []byte("!Script\nscript: job\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(cluster), 0o644)
	return dir
}

func TestRunMasksSecretsAndRemovesTheINI(t *testing.T) {
	t.Parallel()
	dir := workspace(t, `import configparser, os
c = configparser.ConfigParser()
c.read(os.environ["SEAR_SECRETS"])
print("token is", c["API"]["token"])
print("ini at", os.environ["SEAR_SECRETS"])
print("mode", oct(os.stat(os.environ["SEAR_SECRETS"]).st_mode & 0o777))
`, "!LocalCluster\nname: masked\nfactories_num: 1\n")
	js := filepath.Join(dir, "secrets.json")
	os.WriteFile(js, []byte(`{"API__TOKEN":"tok-very-secret-123"}`), 0o600)
	code, stdout, stderr := sear(t, nil, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml",
		"--secrets-json", js, "--workspace", dir, "--output-dir", t.TempDir())
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "tok-very-secret-123") {
		t.Fatalf("the secret was printed:\n%s", stdout)
	}
	if !strings.Contains(stdout, "token is ***") || !strings.Contains(stdout, "mode 0o600") {
		t.Errorf("want the masked secret and mode 0600 in:\n%s", stdout)
	}
	if !strings.Contains(stdout, "sear: all 1 secret goes to the nodes, since secrets-include is empty: API__TOKEN") {
		t.Errorf("the log does not say which secrets go to the nodes:\n%s", stdout)
	}
	ini := between(stdout, "ini at ", "\n")
	if ini == "" {
		t.Fatal("job did not report the INI path")
	}
	if _, err := os.Stat(ini); !os.IsNotExist(err) {
		t.Errorf("the INI %s is still there after teardown (%v)", ini, err)
	}
}

func TestRunFailingJob(t *testing.T) {
	t.Parallel()
	dir := workspace(t, "import sys\nprint('about to fail')\nsys.exit(3)\n", "!LocalCluster\nname: failing\nfactories_num: 0\n")
	code, stdout, stderr := sear(t, nil, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml", "--workspace", dir, "--output-dir", t.TempDir())
	if code != ExitFailure || !strings.Contains(stdout, "about to fail") || !strings.Contains(stdout, "failed (exit status 3)") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestRunTimeoutEndsTheJob(t *testing.T) {
	t.Parallel()
	marker := "sear-timeout-marker-" + filepath.Base(t.TempDir())
	dir := workspace(t, "import subprocess, time\nprint('started', flush=True)\nsubprocess.Popen(['sleep', '1000', '"+marker+"'])\ntime.sleep(1000)\n",
		"!LocalCluster\nname: slow\nfactories_num: 0\nmax_duration: 3s\n")
	code, stdout, stderr := sear(t, nil, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml", "--workspace", dir, "--output-dir", t.TempDir())
	if code != ExitFailure || !strings.Contains(stdout, "timed out") || !strings.Contains(stderr, "max_duration") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if out, err := exec.Command("pgrep", "-f", marker).Output(); err == nil {
		t.Errorf("the job's child is still running after the timeout: %s", out)
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

// sear run warns about the secrets as sear plan does: an include pattern
// that matches nothing is a likely typo.
func TestRunWarnsAboutSecrets(t *testing.T) {
	t.Parallel()
	dir := workspace(t, "print('ok')\n", "!LocalCluster\nname: warned\n")
	js := filepath.Join(dir, "secrets.json")
	os.WriteFile(js, []byte(`{"API__TOKEN":"t-123456"}`), 0o600)
	code, stdout, stderr := sear(t, nil, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml",
		"--secrets-json", js, "--secrets-include", "API__TOKEN,NOPE_*", "--workspace", dir, "--output-dir", t.TempDir())
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "warning: ") || !strings.Contains(stderr, "NOPE_*") {
		t.Errorf("no warning about the pattern that matched nothing:\n%s", stderr)
	}
}

// AWS flags on a local cluster would do nothing: say so rather than
// leave the user thinking a role was assumed.
func TestRunWarnsAboutAWSFlagsOnALocalCluster(t *testing.T) {
	t.Parallel()
	dir := workspace(t, "print('ok')\n", "!LocalCluster\nname: here\n")
	code, stdout, stderr := sear(t, nil, "run", "--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml",
		"--aws-role-arn", "arn:aws:iam::123456789012:role/x", "--workspace", dir, "--output-dir", t.TempDir())
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "is a !LocalCluster: --aws-role-arn and --region are not used") {
		t.Errorf("no warning:\n%s", stderr)
	}
}
