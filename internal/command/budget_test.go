package command

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// gpuCluster's worst case in us-east-1 is 4 × $5.672 + $0.096 an hour for
// its whole life: far over max_cost 20.
const gpuCluster = `!AWSCluster
name: budget
factories_num: 4
factories_type: g5.12xlarge
orchestrator_type: m5.large
orchestrator_ami: ami-0a1b2c3d4e5f60001
factory_ami: ami-0a1b2c3d4e5f60001
max_duration: 2h
ready_timeout: 4s
`

// TestActionRefusesOverBudget: a cluster whose worst case exceeds max_cost
// (the file's, or the max-cost input, which overrides it) is refused
// before anything is launched or created: the emulator's call log has no
// RunInstances and no CreateSecurityGroup (no EC2 call at all), and the
// message names both numbers, the biggest cost and the fix.
func TestActionRefusesOverBudget(t *testing.T) {
	t.Parallel()
	w := world.StartForTest(t, world.Options{BootDelay: time.Hour})
	for _, tc := range []struct {
		name, maxCostLine, input string
		want                     []string
	}{
		{"the file's max_cost", "max_cost: 20\n", "", []string{
			"cluster.yaml:10:1: the worst case of this cluster is $", ", over max_cost $20.00: 5 node(s) for up to ",
			"in us-east-1 (offline table of ", "The biggest cost is the 4 g5.12xlarge factories, $",
			"Lower max_duration or factories_num, or choose a smaller instance type, or raise max_cost to at least $", "Nothing was launched",
		}},
		{"the max-cost input over the file's", "max_cost: 100000\n", "15", []string{
			"cluster.yaml: the worst case of this cluster is $", ", over the max-cost input $15.00",
			"or raise the max-cost input to at least $",
		}},
	} {
		ws := workspace(t, "print('never runs')\n", gpuCluster+tc.maxCostLine)
		env, files := awsActionEnv(t, w, ws, "9301")
		if tc.input != "" {
			env["INPUT_MAX-COST"] = tc.input
		}
		code, stdout, stderr := sear(t, env, "action")
		if code == ExitOK {
			t.Fatalf("%s: the action succeeded over budget\n%s%s", tc.name, stdout, stderr)
		}
		summary, _ := os.ReadFile(filepath.Join(files, "summary"))
		for _, want := range tc.want {
			if !strings.Contains(stdout+stderr, want) {
				t.Errorf("%s: the log lacks %q:\n%s%s", tc.name, want, stdout, stderr)
			}
			if !strings.Contains(string(summary), strings.ReplaceAll(want, "_", `\_`)) && !strings.Contains(string(summary), want) {
				t.Errorf("%s: the step summary lacks %q:\n%s", tc.name, want, summary)
			}
		}
		if !strings.Contains(stdout, "file=cluster.yaml") || !strings.Contains(stdout, "::error ") {
			t.Errorf("%s: no annotation on cluster.yaml:\n%s", tc.name, stdout)
		}
	}
	for _, action := range []string{"RunInstances", "CreateSecurityGroup"} {
		if n := callsOf(w, action, ""); n != 0 {
			t.Errorf("%d %s calls over budget; want none", n, action)
		}
	}
	if calls := w.EC2().Calls(); len(calls) != 0 {
		t.Errorf("EC2 was called %d times (first %s) for runs refused before launch", len(calls), calls[0].Action)
	}
}

// TestActionBudgetInputAndProjection: the max-cost input raises the file's
// max_cost, so the cluster launches, and the check run sear creates, in
// progress, before the launch, already says what the run may cost at most.
func TestActionBudgetInputAndProjection(t *testing.T) {
	t.Parallel()
	w := world.StartForTest(t, world.Options{BootDelay: time.Hour})
	base := worldEnv(w, nil)
	rec := &checkRecorder{}
	gh, _ := url.Parse(base["GITHUB_API_URL"])
	proxy := httputil.NewSingleHostReverseProxy(gh)
	srv := httptest.NewServer(rec.wrap(proxy))
	t.Cleanup(srv.Close)

	ws := workspace(t, "print('never runs')\n", gpuCluster+"max_cost: 1\n")
	env, files := awsActionEnv(t, w, ws, "9302")
	ev := filepath.Join(files, "pr.json")
	payload, _ := json.Marshal(map[string]any{"number": 7, "pull_request": map[string]any{"number": 7,
		"head": map[string]any{"sha": base["SEAR_TESTWORLD_HEAD_SHA"], "repo": map[string]any{"full_name": world.DefaultRepository}},
		"base": map[string]any{"sha": base["SEAR_TESTWORLD_BASE_SHA"], "repo": map[string]any{"full_name": world.DefaultRepository}}}})
	os.WriteFile(ev, payload, 0o644)
	for k, v := range map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": ev, "GITHUB_API_URL": srv.URL,
		"INPUT_REPORT": "check", "INPUT_GITHUB-TOKEN": base["GITHUB_TOKEN"], "INPUT_MAX-COST": "1000"} {
		env[k] = v
	}
	_, stdout, stderr := sear(t, env, "action")
	if callsOf(w, "RunInstances", "") == 0 {
		t.Fatalf("the max-cost input did not raise max_cost: nothing launched\n%s%s", stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "worst case of this cluster") {
		t.Errorf("refused under the max-cost input:\n%s%s", stdout, stderr)
	}
	created := rec.first()
	if created == nil {
		t.Fatalf("no check run was created\n%s%s", stdout, stderr)
	}
	if created.Status != "in_progress" || !strings.Contains(created.Output.Title, "projected at most $") {
		t.Errorf("the check run was created %q titled %q; want in progress, projected at most $…", created.Status, created.Output.Title)
	}
	if !strings.Contains(created.Output.Summary, "(budget $1,000.00)") && !strings.Contains(created.Output.Summary, "(budget $1000.00)") {
		t.Errorf("the check run in progress does not say the budget:\n%s", created.Output.Summary)
	}
	nothingLeft(t, w, "9302-1", stdout, stderr)
}

// checkRecorder keeps the check runs sear creates, as GitHub receives them.
type checkRecorder struct {
	mu      sync.Mutex
	created []checkRunBody
}

type checkRunBody struct {
	Status string `json:"status"`
	Output struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
	} `json:"output"`
}

func (c *checkRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/check-runs") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var b checkRunBody
			if json.Unmarshal(body, &b) == nil {
				c.mu.Lock()
				c.created = append(c.created, b)
				c.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (c *checkRecorder) first() *checkRunBody {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.created) == 0 {
		return nil
	}
	return &c.created[0]
}

// TestRunRefusesOverBudget: `sear run` refuses a cluster over max_cost as
// the action does, before any call to EC2.
func TestRunRefusesOverBudget(t *testing.T) {
	t.Parallel()
	w := world.StartForTest(t, world.Options{BootDelay: time.Hour})
	dir := workspace(t, "print('never runs')\n", gpuCluster+"max_cost: 20\n")
	code, stdout, stderr := searRun(t, runEnv(w, "9302"), dir)
	if code != ExitFailure || !strings.Contains(stderr, "over max_cost $20.00") || !strings.Contains(stderr, "Nothing was launched") {
		t.Fatalf("exit %d, want a refusal over max_cost\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if n := len(w.EC2().Calls()); n != 0 {
		t.Errorf("%d EC2 calls for a run refused over budget", n)
	}
}

// TestActionLivePrices: with live_prices, the run prices the cluster again
// with the Price List API once it has the role's credentials. A price
// there that puts the worst case over max_cost (which the offline table's
// does not) refuses the run before anything is launched or created, with
// the live source named; a role that may not read prices gets a warning
// naming pricing:GetProducts, and the run goes on at the table's prices.
func TestActionLivePrices(t *testing.T) {
	t.Parallel()
	w := world.StartForTest(t, world.Options{BootDelay: time.Hour})
	loc := "US East (N. Virginia)"
	w.Pricing().SetPrice("us-east-1", loc, "g5.12xlarge", 50)

	ws := workspace(t, "print('never runs')\n", gpuCluster+"max_cost: 200\nlive_prices: true\n")
	env, _ := awsActionEnv(t, w, ws, "9303")
	code, stdout, stderr := sear(t, env, "action")
	if code == ExitOK {
		t.Fatalf("the action succeeded over budget at live prices\n%s%s", stdout, stderr)
	}
	for _, want := range []string{"the worst case of this cluster is $", "over max_cost $200.00", "AWS Price List API", "Nothing was launched"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("the log lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
	if n := len(w.State().Calls.Pricing); n != 2 {
		t.Errorf("%d GetProducts calls, want one per type (g5.12xlarge, m5.large)", n)
	}
	for _, action := range []string{"RunInstances", "CreateSecurityGroup"} {
		if n := callsOf(w, action, ""); n != 0 {
			t.Errorf("%d %s calls over budget at live prices; want none", n, action)
		}
	}

	w.Pricing().SetAccessDenied(true)
	env, _ = awsActionEnv(t, w, ws, "9304")
	_, stdout, stderr = sear(t, env, "action")
	if !strings.Contains(stdout, "::warning") || !strings.Contains(stdout+stderr, "allow the role pricing:GetProducts") {
		t.Errorf("no warning naming pricing:GetProducts:\n%s%s", stdout, stderr)
	}
	if callsOf(w, "RunInstances", "") == 0 {
		t.Errorf("denied live prices stopped the run; the table's are within max_cost\n%s%s", stdout, stderr)
	}
	nothingLeft(t, w, "9304-1", stdout, stderr)
}
