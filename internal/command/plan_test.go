package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// planFiles writes a runnable and a cluster file for sear plan, with the
// given cluster fields after a minimal !AWSCluster.
func planFiles(t *testing.T, runnable, clusterFields string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	r, c := filepath.Join(dir, "runnable.yaml"), filepath.Join(dir, "cluster.yaml")
	if runnable == "" {
		runnable = "!Script\nscript: train\n"
	}
	os.WriteFile(r, []byte(runnable), 0o644)
	os.WriteFile(c, []byte("!AWSCluster\nname: c\nfactories_num: 1\nfactories_type: c6i.xlarge\norchestrator_type: c6i.large\nregion_name: eu-west-1\n"+clusterFields), 0o644)
	return r, c
}

// planJSON is the part of sear plan --json these tests read.
type planJSON struct {
	IAM struct {
		Permissions struct{ Statement []statementJSON }
		Trust       struct{ Statement []statementJSON }
		Scope       []string
	} `json:"iam"`
	Secrets *struct {
		Names []string
		Count int
		All   bool
	}
}

type statementJSON struct {
	Sid       string
	Action    []string
	Resource  []string
	Condition map[string]map[string]any
}

func planOf(t *testing.T, args ...string) planJSON {
	t.Helper()
	code, stdout, stderr := sear(t, nil, append([]string{"plan", "--json", "--repository", "octo/exp"}, args...)...)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("--json: %v", err)
	}
	return p
}

func (p planJSON) passed() []string {
	var out []string
	for _, st := range p.IAM.Permissions.Statement {
		for _, a := range st.Action {
			if a == "iam:PassRole" {
				out = append(out, st.Resource...)
			}
		}
	}
	return out
}

// TestPlanNodeRole: iam:PassRole names the instance profile's role only,
// the profile's name unless --node-role names it, and the text says which
// and how to change it.
func TestPlanNodeRole(t *testing.T) {
	t.Parallel()
	r, c := planFiles(t, "", "iam_instance_profile: ml-nodes\n")
	if got := planOf(t, "--runnable", r, "--cluster", c).passed(); strings.Join(got, " ") != "arn:aws:iam::<ACCOUNT_ID>:role/ml-nodes" {
		t.Errorf("PassRole on %q, want the profile's role only", got)
	}
	if got := planOf(t, "--runnable", r, "--cluster", c, "--node-role", "ml-node-role").passed(); strings.Join(got, " ") != "arn:aws:iam::<ACCOUNT_ID>:role/ml-node-role" {
		t.Errorf("--node-role: PassRole on %q", got)
	}
	code, stdout, _ := sear(t, nil, "plan", "--runnable", r, "--cluster", c, "--repository", "octo/exp")
	if code != ExitOK || !strings.Contains(stdout, "iam:PassRole: only role arn:aws:iam::<ACCOUNT_ID>:role/ml-nodes, the role of instance profile ml-nodes") ||
		!strings.Contains(stdout, "run sear plan --node-role ROLE") {
		t.Errorf("the text plan does not say which role PassRole names and how to change it:\n%s", stdout)
	}
	if code, _, stderr := sear(t, nil, "plan", "--runnable", r, "--cluster", c, "--node-role", "role/*"); code != ExitUsage || !strings.Contains(stderr, "not an IAM role name") {
		t.Errorf("--node-role 'role/*': exit %d, stderr %q; want a usage error", code, stderr)
	}
	r, c = planFiles(t, "", "")
	if got := planOf(t, "--runnable", r, "--cluster", c).passed(); len(got) != 0 {
		t.Errorf("no instance profile, yet PassRole on %q", got)
	}
}

// TestPlanTrustFlags: the trust policy admits pull_request runs unless
// told otherwise, and each --trust-branch and --trust-environment adds
// exactly its subject.
func TestPlanTrustFlags(t *testing.T) {
	t.Parallel()
	r, c := planFiles(t, "", "")
	sub := func(p planJSON) any {
		return p.IAM.Trust.Statement[0].Condition["StringEquals"]["token.actions.githubusercontent.com:sub"]
	}
	if got := sub(planOf(t, "--runnable", r, "--cluster", c)); got != "repo:octo/exp:pull_request" {
		t.Errorf("default sub = %v", got)
	}
	got, _ := json.Marshal(sub(planOf(t, "--runnable", r, "--cluster", c, "--trust-branch", "main", "--trust-branch", "release/v2", "--trust-environment", "gpu")))
	if want := `["repo:octo/exp:pull_request","repo:octo/exp:ref:refs/heads/main","repo:octo/exp:ref:refs/heads/release/v2","repo:octo/exp:environment:gpu"]`; string(got) != want {
		t.Errorf("sub = %s, want %s", got, want)
	}
	if got := sub(planOf(t, "--runnable", r, "--cluster", c, "--trust-pull-requests=false", "--trust-environment", "gpu")); got != "repo:octo/exp:environment:gpu" {
		t.Errorf("--trust-pull-requests=false --trust-environment gpu: sub = %v", got)
	}
	if code, _, stderr := sear(t, nil, "plan", "--runnable", r, "--cluster", c, "--trust-pull-requests=false"); code != ExitUsage || !strings.Contains(stderr, "would admit no workflow run") {
		t.Errorf("a trust policy admitting nothing: exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ := sear(t, nil, "plan", "--runnable", r, "--cluster", c, "--repository", "octo/exp")
	if code != ExitOK || !strings.Contains(stdout, "add --trust-branch main for workflow_dispatch and schedule runs on main") {
		t.Errorf("the text plan does not say how to admit manual and scheduled runs:\n%s", stdout)
	}
}

// TestPlanRedactsURLCredentials: sear plan prints no URL's credentials,
// in its text, its JSON, or a configuration error quoting the line.
func TestPlanRedactsURLCredentials(t *testing.T) {
	t.Parallel()
	r, c := planFiles(t, "private_ext: https://x-access-token:ghp_SECRET1@github.com/example-org/private-ext\n---\n!Script\nscript: train\n",
		"setup_cmds:\n  - pip install git+https://tok:SECRET2@github.com/a/b.git\n")
	for _, format := range []string{"--json=false", "--json"} {
		code, stdout, stderr := sear(t, nil, "plan", format, "--runnable", r, "--cluster", c)
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		if strings.Contains(stdout+stderr, "SECRET") || strings.Contains(stdout, "x-access-token") {
			t.Errorf("%s: the plan shows a URL's credentials:\n%s", format, stdout)
		}
		if !strings.Contains(stdout, "https://***@github.com/example-org/private-ext") || !strings.Contains(stdout, "git+https://***@github.com/a/b.git") {
			t.Errorf("%s: the plan does not show the redacted URLs:\n%s", format, stdout)
		}
	}
	bad, _ := planFiles(t, "pipext: git+https://deploy:SECRET3@gitlab.example.com/g/p.git\n---\n!Script\nscript: train\n", "")
	code, _, stderr := sear(t, nil, "plan", "--runnable", bad, "--cluster", c)
	if code != ExitFailure || strings.Contains(stderr, "SECRET3") || !strings.Contains(stderr, "git+https://***@gitlab.example.com") {
		t.Errorf("exit %d; a configuration error shows a URL's credentials or no URL:\n%s", code, stderr)
	}
}

// TestPlanNamesSecretsSentToNodes: with an empty secrets-include every
// secret but github_token goes to the nodes; the plan counts and names
// them (names only), and says to narrow the list.
func TestPlanNamesSecretsSentToNodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	js := filepath.Join(dir, "secrets.json")
	os.WriteFile(js, []byte(`{"WANDB__API_KEY":"wandb-value-1","HF_TOKEN":"hf-value-2","DEPLOY_KEY":"deploy-value-3","github_token":"ghs_value"}`), 0o600)
	r, c := planFiles(t, "", "")
	code, stdout, stderr := sear(t, nil, "plan", "--runnable", r, "--cluster", c, "--secrets-json", js)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if want := "all 3 secrets go to the nodes, since secrets-include is empty: DEPLOY_KEY, HF_TOKEN, WANDB__API_KEY; list the ones the job reads in secrets-include"; !strings.Contains(stdout, want) {
		t.Errorf("the plan lacks %q:\n%s", want, stdout)
	}
	p := planOf(t, "--runnable", r, "--cluster", c, "--secrets-json", js, "--secrets-include", "WANDB__*")
	if p.Secrets == nil || p.Secrets.Count != 1 || p.Secrets.All || strings.Join(p.Secrets.Names, ",") != "WANDB__API_KEY" {
		t.Errorf("--secrets-include WANDB__*: secrets %+v", p.Secrets)
	}
	code, stdout, _ = sear(t, nil, "plan", "--json", "--runnable", r, "--cluster", c, "--secrets-json", js)
	if code != ExitOK || !strings.Contains(stdout, `"all": true`) || !strings.Contains(stdout, `"count": 3`) {
		t.Errorf("--json lacks all and count:\n%s", stdout)
	}
	for _, v := range []string{"wandb-value-1", "hf-value-2", "deploy-value-3", "ghs_value"} {
		if strings.Contains(stdout, v) {
			t.Errorf("the plan shows a secret's value")
		}
	}
}
