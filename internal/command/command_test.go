package command

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sear runs the command line in-process with a fixed environment.
func sear(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), Process{Args: args, Env: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

const root = "../.."

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	ok := []string{"--runnable", root + "/examples/quickstart/runnable.yaml", "--cluster", root + "/examples/quickstart/cluster.yaml"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, ExitUsage, "usage: sear"},
		{"unknown command", []string{"plna"}, ExitUsage, `unknown command "plna"`},
		{"help", []string{"--help"}, ExitOK, ""},
		{"plan without flags", []string{"plan"}, ExitUsage, "missing --runnable and --cluster"},
		{"plan with a stray argument", append([]string{"plan", "extra"}, ok...), ExitUsage, `unexpected argument "extra"`},
		{"plan with an unknown flag", []string{"plan", "--runable", "x"}, ExitUsage, "flag provided but not defined: -runable"},
		{"plan", append([]string{"plan"}, ok...), ExitOK, ""},
		{"plan of a bad cluster", []string{"plan", "--runnable", ok[1], "--cluster", root + "/testdata/config/err/cluster_wrong_types.yaml"}, ExitFailure,
			"testdata/config/err/cluster_wrong_types.yaml:3:16: \"factories_num\" must be an integer"},
		{"plan of a missing file", []string{"plan", "--runnable", "nope.yaml", "--cluster", ok[3]}, ExitFailure, "nope.yaml: does not exist"},
		{"secrets without flags", []string{"secrets"}, ExitUsage, "missing --secrets-json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := sear(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}

// TestPlanReportsBothFiles checks that errors in the runnable and the
// cluster come out together, so one round trip fixes them all.
func TestPlanReportsBothFiles(t *testing.T) {
	t.Parallel()
	code, _, stderr := sear(t, nil, "plan",
		"--runnable", root+"/testdata/config/err/runnable_tag_errors.yaml",
		"--cluster", root+"/testdata/config/err/cluster_flambe_rules.yaml")
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"runnable_tag_errors.yaml:7:12:", "did you mean !my_project.Model?", "cluster_flambe_rules.yaml:8:14:", "    8 | volume_type: st1"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestEveryExamplePlans(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob(root + "/examples/*")
	if len(dirs) < 3 {
		t.Fatalf("found %d examples, want at least 3", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := sear(t, map[string]string{"GITHUB_REPOSITORY": "octo/exp"}, "plan", "--json",
				"--runnable", dir+"/runnable.yaml", "--cluster", dir+"/cluster.yaml")
			if code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			var p map[string]any
			if err := json.Unmarshal([]byte(stdout), &p); err != nil {
				t.Fatalf("--json printed invalid JSON: %v", err)
			}
			for _, k := range []string{"runnable", "cluster", "nodes", "lifetime", "notes", "warnings"} {
				if _, ok := p[k]; !ok {
					t.Errorf("plan JSON lacks %q", k)
				}
			}
		})
	}
}

func TestPlanShowsSecretNamesNeverValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	js := filepath.Join(dir, "secrets.json")
	os.WriteFile(js, []byte(`{"WANDB__API_KEY":"wandb-secret-value-1","HF_TOKEN":"hf-secret-value-2","github_token":"ghs_x"}`), 0o600)
	for _, format := range []string{"--json=false", "--json"} {
		code, stdout, stderr := sear(t, nil, "plan", format, "--secrets-json", js,
			"--runnable", root+"/examples/script/runnable.yaml", "--cluster", root+"/examples/script/cluster.yaml")
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		for _, want := range []string{"WANDB", "api_key", "SECRETS", "hf_token"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: plan lacks %q", format, want)
			}
		}
		for _, secret := range []string{"wandb-secret-value-1", "hf-secret-value-2", "ghs_x"} {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("%s: plan output contains a secret value", format)
			}
		}
	}
}

func TestPlanAWSPolicyAndTrust(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := sear(t, map[string]string{"GITHUB_REPOSITORY": "octo/exp"}, "plan", "--json",
		"--runnable", root+"/examples/flambe-experiment/runnable.yaml", "--cluster", root+"/examples/flambe-experiment/cluster.yaml")
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var p struct {
		IAM struct {
			Permissions struct{ Statement []map[string]any }
			Trust       struct{ Statement []map[string]any }
		} `json:"iam"`
		Tags map[string]string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatal(err)
	}
	if p.Tags["sear:repository"] != "octo/exp" || p.Tags["Purpose"] != "flambe" {
		t.Errorf("tags: %v", p.Tags)
	}
	trust, _ := json.Marshal(p.IAM.Trust)
	if !strings.Contains(string(trust), `"repo:octo/exp:pull_request"`) || !strings.Contains(string(trust), `"sts.amazonaws.com"`) {
		t.Errorf("trust policy does not pin the repository and audience: %s", trust)
	}
	perm, _ := json.Marshal(p.IAM.Permissions)
	for _, want := range []string{`"aws:ResourceTag/sear:repository":"octo/exp"`, `"aws:RequestTag/sear:repository":"octo/exp"`, "spot-instances-request", `"ec2:CreateAction"`} {
		if !strings.Contains(string(perm), want) {
			t.Errorf("permission policy lacks %s", want)
		}
	}
}

func TestSecretsCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"DB__PASSWORD":"p%ss","TOKEN":"abc"}`), 0o600)
	os.WriteFile(bad, []byte(`{"PADDED":"  hidden-value  "}`), 0o600)

	code, stdout, stderr := sear(t, nil, "secrets", "--secrets-json", good, "--section", "MAIN")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"[DB]", "p%%ss", "[MAIN]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("INI lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = sear(t, nil, "secrets", "--secrets-json", bad)
	if code != ExitFailure || !strings.Contains(stderr, "PADDED") {
		t.Errorf("exit %d, stderr %q: want 1 naming the secret", code, stderr)
	}
	if strings.Contains(stdout+stderr, "hidden-value") {
		t.Error("a refused secret's value was printed")
	}
}
