package world

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// TestSDKDefaultConfigFromEnv puts Env in the process environment and lets aws-sdk-go-v2's
// default configuration find everything by itself, as sear does: the region, the per-service
// endpoints, no instance metadata. Credentials come from the SDK's web identity provider over
// a token fetched from the Actions endpoint. It cannot run in parallel: it sets the environment.
func TestSDKDefaultConfigFromEnv(t *testing.T) {
	w := start(t, Options{})
	env := envMap(t, w)
	dir := t.TempDir()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing of this machine's AWS setup may leak in.
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != DefaultRegion {
		t.Errorf("the SDK found region %q, want %q", cfg.Region, DefaultRegion)
	}
	provider := stscreds.NewWebIdentityRoleProvider(awssts.NewFromConfig(cfg), env["SEAR_TESTWORLD_ROLE_ARN"], retriever(env))
	cfg.Credentials = aws.NewCredentialsCache(provider)
	client := awsec2.NewFromConfig(cfg)
	inst := launch(t, client)
	out, err := client.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{InstanceIds: []string{*inst[0].InstanceId}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if n := len(out.Reservations); n != 1 {
		t.Fatalf("DescribeInstances found %d reservations, want 1", n)
	}

	st := w.State()
	if len(st.Calls.STS) != 1 || st.Calls.STS[0].Status != http.StatusOK || st.Calls.STS[0].Subject != "repo:sear-ci/demo:pull_request" {
		t.Errorf("STS saw %+v, want one successful AssumeRoleWithWebIdentity for the pull request", st.Calls.STS)
	}
	key := st.Credentials[0].AccessKeyID
	for _, c := range st.Calls.EC2 {
		if c.AccessKeyID != key || c.Status != http.StatusOK {
			t.Errorf("EC2 call %s by %s answered %d; want every call signed with STS's key %s and accepted", c.Action, c.AccessKeyID, c.Status, key)
		}
	}
}

// TestStateShowsCallsAndNoSecrets drives the SDKs and go-github through Env's values and reads
// the state endpoint back: it must show what happened, and never a secret.
func TestStateShowsCallsAndNoSecrets(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	ctx := context.Background()
	creds := assume(t, env)
	inst := launch(t, ec2Client(env, creds))
	id := *inst[0].InstanceId

	c := githubClient(t, env)
	pr, _, err := c.PullRequests.Get(ctx, "sear-ci", "demo", 7)
	if err != nil {
		t.Fatalf("get the seeded pull request: %v", err)
	}
	if pr.GetHead().GetSHA() != env["SEAR_TESTWORLD_HEAD_SHA"] || pr.GetBase().GetSHA() != env["SEAR_TESTWORLD_BASE_SHA"] {
		t.Errorf("pull request head %s base %s; Env says %s and %s", pr.GetHead().GetSHA(), pr.GetBase().GetSHA(),
			env["SEAR_TESTWORLD_HEAD_SHA"], env["SEAR_TESTWORLD_BASE_SHA"])
	}
	run, _, err := c.Checks.CreateCheckRun(ctx, "sear-ci", "demo", gh.CreateCheckRunOptions{
		Name: "sear", HeadSHA: pr.GetHead().GetSHA(), Status: gh.String("in_progress")})
	if err != nil {
		t.Fatalf("CreateCheckRun: %v", err)
	}
	if _, _, err := c.Issues.CreateComment(ctx, "sear-ci", "demo", 7, &gh.IssueComment{Body: gh.String("<!-- sear -->\nhello")}); err != nil {
		t.Fatalf("CreateComment: %v", err)
	}

	var st State
	_, raw := control(t, env, http.MethodGet, "/_testworld/state", nil, &st)
	if got := instanceState(t, env, id); got.Tags["sear:run-id"] != "world-test" {
		t.Errorf("state shows instance %s with tags %v", id, got.Tags)
	}
	repo := st.GitHub.Repos[0]
	if len(repo.CheckRuns) != 1 || repo.CheckRuns[0].ID != run.GetID() || repo.CheckRuns[0].Status != "in_progress" {
		t.Errorf("state shows check runs %+v, want the one created", repo.CheckRuns)
	}
	if len(repo.Comments) != 1 || repo.Comments[0].Issue != 7 || repo.Comments[0].Author != "github-actions[bot]" {
		t.Errorf("state shows comments %+v, want one by github-actions[bot] on #7", repo.Comments)
	}
	if len(st.Credentials) != 1 || st.Credentials[0].AccessKeyID != creds.AccessKeyID || st.Credentials[0].Expired ||
		!st.Credentials[0].ExpiresAt.Equal(creds.Expires) {
		t.Errorf("state shows credentials %+v; STS issued %s expiring %v", st.Credentials, creds.AccessKeyID, creds.Expires)
	}
	if !hasCall(st, "RunInstances") || len(st.Calls.GitHub) != 3 || st.World.Subject != "repo:sear-ci/demo:pull_request" {
		t.Errorf("state shows calls %+v and world %+v", st.Calls, st.World)
	}
	for name, secret := range map[string]string{"secret access key": creds.SecretAccessKey,
		"session token": creds.SessionToken, "GITHUB_TOKEN": env["GITHUB_TOKEN"],
		"request token": env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the state document contains the %s", name)
		}
	}
}

func hasCall(st State, action string) bool {
	for _, c := range st.Calls.EC2 {
		if c.Action == action && c.Status == http.StatusOK {
			return true
		}
	}
	return false
}

// TestEvents shows that the seeded role trusts the job's token for every event the world can
// emulate, in both sub formats, and that a fork's pull request gets no OIDC variables and a
// read-only GITHUB_TOKEN.
func TestEvents(t *testing.T) {
	t.Parallel()
	cases := []struct {
		opts    Options
		subject string
	}{
		{Options{}, "repo:sear-ci/demo:pull_request"},
		{Options{Event: "push"}, "repo:sear-ci/demo:ref:refs/heads/main"},
		{Options{Event: "workflow_dispatch", Repository: "Octo/exp"}, "repo:Octo/exp:ref:refs/heads/main"},
		{Options{ImmutableSub: true}, "repo:sear-ci@" + strconv.FormatInt(numericID("sear-ci"), 10) +
			"/demo@" + strconv.FormatInt(numericID("sear-ci/demo"), 10) + ":pull_request"},
	}
	for _, c := range cases {
		t.Run(c.subject, func(t *testing.T) {
			t.Parallel()
			w := start(t, c.opts)
			env := envMap(t, w)
			if w.Seed().Subject != c.subject {
				t.Errorf("subject %q, want %q", w.Seed().Subject, c.subject)
			}
			assume(t, env)
			if got := w.State().Calls.STS[0].Subject; got != c.subject {
				t.Errorf("STS saw subject %q, want %q", got, c.subject)
			}
		})
	}
	t.Run("fork", func(t *testing.T) {
		t.Parallel()
		w := start(t, Options{Fork: true})
		env := envMap(t, w)
		for _, k := range []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"} {
			if _, ok := env[k]; ok {
				t.Errorf("a fork's pull request run has %s; GitHub does not set it", k)
			}
		}
		c := githubClient(t, env)
		pr, _, err := c.PullRequests.Get(context.Background(), "sear-ci", "demo", 7)
		if err != nil || !pr.GetHead().GetRepo().GetFork() {
			t.Fatalf("the fork's pull request: %v, head repo fork=%v", err, pr.GetHead().GetRepo().GetFork())
		}
		_, resp, err := c.Issues.CreateComment(context.Background(), "sear-ci", "demo", 7, &gh.IssueComment{Body: gh.String("x")})
		if err == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("a comment with a fork's token: %v; want 403", err)
		}
	})
}

func TestCheckIP(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	resp, err := http.Get(envMap(t, w)["SEAR_CHECKIP_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "127.0.0.1\n" || resp.StatusCode != http.StatusOK {
		t.Errorf("checkip answered %d %q, want 200 \"127.0.0.1\\n\"", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("checkip answered with Content-Type %q, want text/plain", ct)
	}
}

// TestCredentialExpiry expires STS's credentials through the control endpoint: EC2 then refuses
// them with RequestExpired, as AWS does, while a static key keeps working.
func TestCredentialExpiry(t *testing.T) {
	t.Parallel()
	static := &StaticCredentials{AccessKeyID: "AKIATESTWORLDSTATIC1", SecretAccessKey: "static-secret"}
	w := start(t, Options{StaticCredentials: static})
	env := envMap(t, w)
	if env["AWS_ACCESS_KEY_ID"] != static.AccessKeyID || env["AWS_SECRET_ACCESS_KEY"] != static.SecretAccessKey {
		t.Errorf("Env does not name the static key")
	}
	session := ec2Client(env, assume(t, env))
	ctx := context.Background()
	if _, err := session.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("DescribeInstances before expiry: %v", err)
	}
	var out struct{ Credentials []Credential }
	mustControl(t, env, http.MethodPost, "/_testworld/credentials/expire", nil, &out)
	if len(out.Credentials) != 1 || !out.Credentials[0].Expired {
		t.Errorf("expire answered %+v, want the one credential, expired", out.Credentials)
	}
	_, err := session.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{})
	if got := code(t, err); got != "RequestExpired" {
		t.Errorf("DescribeInstances with expired credentials: %q (%v), want RequestExpired", got, err)
	}
	staticClient := ec2Client(env, aws.Credentials{AccessKeyID: static.AccessKeyID, SecretAccessKey: static.SecretAccessKey})
	if _, err := staticClient.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("the static key stopped working when sessions expired: %v", err)
	}
	assume(t, env) // a fresh token gets fresh credentials, as sear's post step relies on
}

// TestCredentialLifetime issues credentials that outlive nothing: the run sees them expire.
func TestCredentialLifetime(t *testing.T) {
	t.Parallel()
	w := start(t, Options{CredentialLifetime: time.Second})
	env := envMap(t, w)
	creds := assume(t, env)
	if d := time.Until(creds.Expires); d > 2*time.Second {
		t.Fatalf("credentials expire in %v, want about a second", d)
	}
	time.Sleep(time.Until(creds.Expires) + 50*time.Millisecond)
	_, err := ec2Client(env, creds).DescribeInstances(context.Background(), &awsec2.DescribeInstancesInput{})
	if got := code(t, err); got != "RequestExpired" {
		t.Errorf("DescribeInstances after the lifetime: %q, want RequestExpired", got)
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	w := start(t, Options{BootDelay: 10 * time.Millisecond})
	env := envMap(t, w)
	id := *launch(t, ec2Client(env, assume(t, env)))[0].InstanceId
	waitState(t, env, id, "running")
	var got fakeec2.InstanceState
	mustControl(t, env, http.MethodPost, "/_testworld/instances/"+id+"/kill", nil, &got)
	if got.State != "terminated" || got.StateReason != "Server.InternalError" {
		t.Errorf("killed instance is %+v, want terminated by Server.InternalError", got)
	}
	cases := []struct {
		path, want string
		status     int
	}{
		{"/_testworld/instances/i-0000000000000000f/kill", "no such instance", http.StatusNotFound},
		{"/_testworld/instances/" + id + "/cut", "start the world with the docker backend", http.StatusNotImplemented},
		{"/_testworld/instances/" + id + "/reboot", "expected kill, cut, restore or spot-interruption", http.StatusNotFound},
	}
	for _, c := range cases {
		status, raw := control(t, env, http.MethodPost, c.path, nil, nil)
		if status != c.status || !strings.Contains(string(raw), c.want) {
			t.Errorf("POST %s: %d %s, want %d and %q", c.path, status, raw, c.status, c.want)
		}
	}
}

func TestStartRefusesBadOptions(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"repository", Options{Repository: "demo"}, `repository "demo": expected owner/name`},
		{"event", Options{Event: "schedule"}, `event "schedule": expected one of`},
		{"fork without pull request", Options{Event: "push", Fork: true}, "a fork only makes sense with the pull_request event"},
		{"half a static key", Options{StaticCredentials: &StaticCredentials{AccessKeyID: "AKIA"}}, "need both"},
		{"bad initial faults", Options{Faults: &Faults{EC2: &EC2Faults{Throttle: 2}}}, "throttle 2: expected a share"},
		{"port in use", Options{Ports: Ports{GitHub: busyPort}}, "listen for the GitHub emulator on 127.0.0.1:" + strconv.Itoa(busyPort)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := Start(context.Background(), c.opts)
			if err == nil {
				_ = w.Close(context.Background())
				t.Fatalf("Start succeeded, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestFixedPortsAndClose starts a world on ports chosen beforehand and shows that Close frees
// them all.
func TestFixedPortsAndClose(t *testing.T) {
	t.Parallel()
	var ports [6]int
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	w, err := Start(context.Background(), Options{Ports: Ports{ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]}})
	if err != nil {
		t.Fatalf("Start on ports %v: %v", ports, err)
	}
	u := w.URLs()
	for i, got := range []string{u.OIDC, u.STS, u.EC2, u.GitHub, u.CheckIP, u.Control} {
		if want := "http://127.0.0.1:" + strconv.Itoa(ports[i]); got != want {
			t.Errorf("service %d serves at %s, want %s", i, got, want)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, p := range ports {
		// The kernel may release a closed listener's port a moment after
		// close returns on a loaded machine (seen once in CI): a port
		// free within two seconds is released.
		var ln net.Listener
		var err error
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Errorf("port %d is still taken 2s after Close: %v", p, err)
			continue
		}
		ln.Close()
	}
}

// TestCloseCutsSlowCalls shows Close keeps its deadline when a client is stuck in injected
// latency.
func TestCloseCutsSlowCalls(t *testing.T) {
	t.Parallel()
	w, err := Start(context.Background(), Options{Faults: &Faults{GitHub: &GitHubFaults{Latency: Duration(time.Minute)}}})
	if err != nil {
		t.Fatal(err)
	}
	env := envMap(t, w)
	client := githubClient(t, env)
	done := make(chan error, 1)
	go func() {
		_, _, err := client.Repositories.Get(context.Background(), "sear-ci", "demo")
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the call reach the server
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := w.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Close took %v with a 200ms deadline", d)
	}
	if err := <-done; err == nil {
		t.Error("the stuck call succeeded; Close should have cut it")
	}
}
