package plan_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the plans")

// TestExamplesGolden keeps what sear plan prints for each example, text
// and --json, in testdata/golden: a change to a policy shows up as a diff
// a reviewer reads, and the README's copy is checked by package readme.
//
//	go test ./internal/plan -run Golden -update
func TestExamplesGolden(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/*")
	if len(dirs) < 3 {
		t.Fatalf("found %d examples", len(dirs))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		p := plan.Make(plan.Input{
			Runnable: loadRunnable(t, dir+"/runnable.yaml"), Cluster: loadCluster(t, dir+"/cluster.yaml"),
			Repository: "OWNER/REPO",
			Secrets:    plan.SecretsShape(map[string][]string{"SECRETS": {"hf_token"}, "WANDB": {"api_key"}}, []string{"WANDB__API_KEY", "HF_TOKEN"}, true),
		})
		var text, js bytes.Buffer
		if err := p.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if err := p.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		golden(t, "testdata/golden/"+name+".txt", text.Bytes())
		golden(t, "testdata/golden/"+name+".json", js.Bytes())
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test ./internal/plan -run Golden -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the plan; if the change is meant, run go test ./internal/plan -run Golden -update\n--- got\n%s", path, got)
	}
}

func TestRedactURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://x-access-token:ghp_abc@github.com/o/r", "https://***@github.com/o/r"},
		{"https://ghp_abc@github.com/o/r/tree/main/ext", "https://***@github.com/o/r/tree/main/ext"},
		{"pip install git+https://deploy:pw@gitlab.example.com/g/p.git && echo ok", "pip install git+https://***@gitlab.example.com/g/p.git && echo ok"},
		{"'https://u:p@a.example/x' https://v:q@b.example/y", "'https://***@a.example/x' https://***@b.example/y"},
		{"https://user@mail.example:p%40ss@host.example/x", "https://***@host.example/x"},
		{"ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"},
		{"ssh://git:pw@github.com/o/r.git", "ssh://***@github.com/o/r.git"},
		{"git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"https://github.com/o/r?ref=a@b", "https://github.com/o/r?ref=a@b"},
		{"https://host.example/a@b", "https://host.example/a@b"},
		{"mail me@example.com", "mail me@example.com"},
	}
	for _, tt := range tests {
		if got := plan.RedactURLs(tt.in); got != tt.want {
			t.Errorf("RedactURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPlanRedactsURLCredentials: a runnable's extension, a job argument, a
// setup command or a tag may hold https://user:token@host/...; the plan,
// which goes into logs and issues, shows none of them, as text or JSON.
func TestPlanRedactsURLCredentials(t *testing.T) {
	dir := t.TempDir()
	runnable := filepath.Join(dir, "runnable.yaml")
	cluster := filepath.Join(dir, "cluster.yaml")
	os.WriteFile(runnable, []byte("private_ext: https://x-access-token:ghp_SECRET1@github.com/example-org/private-ext\n---\n"+
		"!Script\nscript: train\nkwargs:\n  data: https://reader:SECRET2@data.example.com/train.csv\n"), 0o644)
	os.WriteFile(cluster, []byte("!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: t3.large\norchestrator_type: t3.large\nregion_name: eu-west-1\n"+
		"setup_cmds:\n  - pip install git+https://tok:SECRET3@github.com/a/b.git\ntags:\n  source: https://u:SECRET4@example.com/\n"), 0o644)
	p := plan.Make(plan.Input{Runnable: loadRunnable(t, runnable), Cluster: loadCluster(t, cluster), Repository: repo})
	var text, js bytes.Buffer
	p.WriteText(&text)
	p.WriteJSON(&js)
	for format, out := range map[string]string{"text": text.String(), "json": js.String()} {
		for _, secret := range []string{"SECRET1", "SECRET2", "SECRET3", "SECRET4", "ghp_", "reader:", "tok:"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s plan shows %q", format, secret)
			}
		}
		for _, want := range []string{"https://***@github.com/example-org/private-ext", "***@data.example.com/train.csv", "git+https://***@github.com/a/b.git"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s plan lacks %q:\n%s", format, want, out)
			}
		}
	}
	if loc := p.Runnable.Extensions[0].Location; loc != "https://***@github.com/example-org/private-ext" {
		t.Errorf("the plan's extension location is %q", loc)
	}
}

// TestSecretsSummary: the plan says how many secrets go to the nodes and
// which, and, when secrets-include is empty, that all of them do.
func TestSecretsSummary(t *testing.T) {
	sections := map[string][]string{"SECRETS": {"hf_token", "db_url"}, "WANDB": {"api_key"}}
	names := []string{"WANDB__API_KEY", "HF_TOKEN", "DB_URL"}
	tests := []struct {
		s    *plan.Secrets
		want string
	}{
		{plan.SecretsShape(sections, names, true), "all 3 secrets go to the nodes, since secrets-include is empty: DB_URL, HF_TOKEN, WANDB__API_KEY; list the ones the job reads in secrets-include"},
		{plan.SecretsShape(sections, names, false), "3 secrets go to the nodes (secrets-include): DB_URL, HF_TOKEN, WANDB__API_KEY"},
		{plan.SecretsShape(map[string][]string{"WANDB": {"api_key"}}, []string{"WANDB__API_KEY"}, false), "1 secret goes to the nodes (secrets-include): WANDB__API_KEY"},
		{plan.SecretsShape(nil, nil, true), "no secret goes to the nodes: the secrets JSON holds none but github_token, which goes only when secrets-include names it"},
	}
	for _, tt := range tests {
		if got := tt.s.Summary(); got != tt.want {
			t.Errorf("Summary() = %q\nwant           %q", got, tt.want)
		}
	}
	s := plan.SecretsShape(sections, names, true)
	js, _ := json.Marshal(s)
	for _, want := range []string{`"count":3`, `"all":true`, `"names":["DB_URL","HF_TOKEN","WANDB__API_KEY"]`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON %s lacks %s", js, want)
		}
	}
	p := plan.Make(plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: loadCluster(t, "../../examples/quickstart/cluster.yaml"), Secrets: s})
	var text bytes.Buffer
	p.WriteText(&text)
	if !strings.Contains(text.String(), "all 3 secrets go to the nodes") {
		t.Errorf("the text plan does not say all secrets go to the nodes:\n%s", text.String())
	}
}

// TestScopeSaysWhatCannotBePinned: what the policy cannot pin from the
// cluster file (a group by name, sear's default image and subnet) is said,
// with the field that would pin it; what it pins is named.
func TestScopeSaysWhatCannotBePinned(t *testing.T) {
	p := plan.Make(plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: loadCluster(t, "testdata/group-by-name.yaml"), Repository: repo})
	scope := strings.Join(p.Policy.Scope, "\n")
	for _, want := range []string{"ANY in the region, because security_group \"ml-nodes\" is a name", "only ami-0123456789abcdef0", "Canonical (account 099720109477)",
		"set subnet_id to pin one", "add --trust-branch main for workflow_dispatch and schedule", "--trust-environment NAME for a job with environment: NAME"} {
		if !strings.Contains(scope, want) {
			t.Errorf("scope lacks %q:\n%s", want, scope)
		}
	}
	if !strings.Contains(strings.Join(p.Warnings, "\n"), `security_group "ml-nodes" is a name`) {
		t.Errorf("no warning for a security group given by name: %q", p.Warnings)
	}
	p = plan.Make(plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: loadCluster(t, "testdata/pinned.yaml"), Repository: repo})
	scope = strings.Join(p.Policy.Scope, "\n")
	for _, want := range []string{"only sg-0a1b2c3d4e5f60718", "only subnet-0a1b2c3d4e5f60718", "only ami-0123456789abcdef0, ami-0fedcba9876543210", "only g5.xlarge, t3.large"} {
		if !strings.Contains(scope, want) {
			t.Errorf("scope lacks %q:\n%s", want, scope)
		}
	}
	if strings.Contains(scope, "Canonical") {
		t.Errorf("a file naming every AMI still admits Canonical's:\n%s", scope)
	}
}
