package world

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// TestThrottle sets throttling over HTTP: with every call throttled, a client without retries
// sees RequestLimitExceeded; with half of them, the SDK's standard retryer gets through.
func TestThrottle(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	creds := assume(t, env)
	ctx := context.Background()

	var f Faults
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"throttle": 1}}`, &f)
	if f.EC2.ThrottleEvery != 1 || f.EC2.Throttle != 1 {
		t.Errorf("faults in force %+v, want every call throttled", f.EC2)
	}
	_, err := ec2Client(env, creds).DescribeInstances(ctx, &awsec2.DescribeInstancesInput{})
	if got := code(t, err); got != "RequestLimitExceeded" {
		t.Fatalf("DescribeInstances under throttling: %q (%v), want RequestLimitExceeded", got, err)
	}

	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"throttle": 0.5}}`, &f)
	if f.EC2.ThrottleEvery != 2 {
		t.Errorf("throttle 0.5 is every %d calls, want 2", f.EC2.ThrottleEvery)
	}
	retrying := ec2Client(env, creds, func(o *awsec2.Options) {
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 10 * time.Millisecond })
	})
	for range 4 {
		if _, err := retrying.DescribeInstances(ctx, &awsec2.DescribeInstancesInput{}); err != nil {
			t.Fatalf("DescribeInstances with retries under a 50%% throttle: %v", err)
		}
	}

	mustControl(t, env, http.MethodDelete, "/_testworld/faults", nil, &f)
	if f.EC2.ThrottleEvery != 0 || f.EC2.Throttle != 0 {
		t.Errorf("faults after DELETE %+v, want none", f.EC2)
	}
	if _, err := ec2Client(env, creds).DescribeInstances(ctx, &awsec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("DescribeInstances after clearing faults: %v", err)
	}
}

// TestLaunchFaults covers capacity, partial launches, failed boots and slow boots, each set over
// HTTP and seen through the SDK.
func TestLaunchFaults(t *testing.T) {
	t.Parallel()
	w := start(t, Options{BootDelay: 10 * time.Millisecond})
	env := envMap(t, w)
	client := ec2Client(env, assume(t, env))
	ctx := context.Background()
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"insufficient_capacity": ["t3.micro/spot"], "partial_launch": 2}}`, nil)
	_, err := client.RunInstances(ctx, &awsec2.RunInstancesInput{ImageId: aws.String(fakeec2.UbuntuJammyImageID),
		InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceMarketOptions: &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot}})
	if got := code(t, err); got != "InsufficientInstanceCapacity" {
		t.Errorf("a Spot launch without Spot capacity: %q (%v), want InsufficientInstanceCapacity", got, err)
	}
	if got := launch(t, client, func(in *awsec2.RunInstancesInput) { in.MaxCount = aws.Int32(5) }); len(got) != 2 {
		t.Errorf("an on-demand launch of up to 5 under partial_launch 2 got %d instances", len(got))
	}

	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"fail_boot": ["next"]}}`, nil)
	failed := *launch(t, client)[0].InstanceId
	if st := waitState(t, env, failed, "terminated"); st.StateReason != "Server.InternalError" {
		t.Errorf("a failed boot ended with %q, want Server.InternalError", st.StateReason)
	}
	var f Faults
	mustControl(t, env, http.MethodGet, "/_testworld/faults", nil, &f)
	if len(f.EC2.FailBoot) != 0 {
		t.Errorf("fail_boot %v after an instance used up \"next\", want none", f.EC2.FailBoot)
	}

	const slow = 600 * time.Millisecond
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"slow_boot": "600ms"}}`, nil)
	begin := time.Now()
	id := *launch(t, client)[0].InstanceId
	if st := instanceState(t, env, id); st.State != "pending" {
		t.Errorf("a slow-booting instance is %s right after launch, want pending", st.State)
	}
	waitState(t, env, id, "running")
	if d := time.Since(begin); d < slow {
		t.Errorf("a slow boot of %v was running after %v", slow, d)
	}
}

// TestGitHubFaults injects GitHub's failures over HTTP and shows go-github sees them.
func TestGitHubFaults(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	c := githubClient(t, env)
	ctx := context.Background()

	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"github": {"server_error_share": 1, "server_error_status": 503}}`, nil)
	_, resp, err := c.Repositories.Get(ctx, "sear-ci", "demo")
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a call under server_error_share 1: %v, want 503", err)
	}

	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"github": {"secondary_rate_limited": 1, "retry_after": "3s", "methods": ["POST"]}}`, nil)
	if _, _, err := c.Repositories.Get(ctx, "sear-ci", "demo"); err != nil {
		t.Errorf("a GET when only POST is faulted: %v", err)
	}
	_, _, err = c.Issues.CreateComment(ctx, "sear-ci", "demo", 7, &gh.IssueComment{Body: gh.String("x")})
	var rle *gh.AbuseRateLimitError
	if !errors.As(err, &rle) || rle.RetryAfter == nil || *rle.RetryAfter != 3*time.Second {
		t.Errorf("a POST under a secondary rate limit: %v, want go-github's AbuseRateLimitError with Retry-After 3s", err)
	}
	var f Faults
	mustControl(t, env, http.MethodGet, "/_testworld/faults", nil, &f)
	if f.GitHub.SecondaryRateLimited != 0 || !reflect.DeepEqual(f.GitHub.Methods, []string{"POST"}) {
		t.Errorf("github faults after the limited call: %+v", f.GitHub)
	}
}

// TestFaultsRefused shows a bad faults document is refused whole, with every problem named, and
// leaves the faults in force alone.
func TestFaultsRefused(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"latency": "5ms"}}`, nil)
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unknown field", `{"ec2": {"throtle": 0.5}}`, []string{`unknown field "throtle"`}},
		{"duration as number", `{"ec2": {"latency": 5}}`, []string{`expected a string like "250ms"`}},
		{"duration without unit", `{"ec2": {"latency": "5"}}`, []string{`duration "5": expected a number with a unit`}},
		{"every problem at once", `{"ec2": {"throttle": 1.5, "partial_launch": -1, "fail_boot": ["later"],
			"insufficient_capacity": ["t3.micro/ondemand"]}, "github": {"server_error_status": 404, "primary_status": 500}}`,
			[]string{"throttle 1.5", "partial_launch must not be negative", `fail_boot "later"`,
				`insufficient_capacity "t3.micro/ondemand"`, "server_error_status 404", "primary_status 500"}},
		{"both throttle forms", `{"ec2": {"throttle": 0.5, "throttle_every": 2}}`, []string{"not both"}},
		{"not JSON", `throttle=1`, []string{"read the faults document"}},
	}
	for _, c := range cases {
		status, raw := control(t, env, http.MethodPost, "/_testworld/faults", c.body, nil)
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d %s, want 400", c.name, status, raw)
		}
		for _, want := range c.want {
			if !strings.Contains(string(raw), want) {
				t.Errorf("%s: answer %s does not say %q", c.name, raw, want)
			}
		}
	}
	var f Faults
	mustControl(t, env, http.MethodGet, "/_testworld/faults", nil, &f)
	if f.EC2.Latency != Duration(5*time.Millisecond) || f.EC2.Throttle != 0 || f.GitHub.ServerErrorStatus != 0 {
		t.Errorf("refused documents changed the faults: %+v %+v", f.EC2, f.GitHub)
	}
}

// TestFaultsSectionsIndependent shows that posting one service's faults leaves the other's.
func TestFaultsSectionsIndependent(t *testing.T) {
	t.Parallel()
	w := start(t, Options{Faults: &Faults{GitHub: &GitHubFaults{PrimaryExhausted: true}}})
	env := envMap(t, w)
	var f Faults
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"throttle_every": 3}}`, &f)
	if !f.GitHub.PrimaryExhausted || f.EC2.ThrottleEvery != 3 || f.EC2.Throttle != 1.0/3 {
		t.Errorf("faults %+v %+v, want GitHub's kept and EC2's throttle every third call", f.GitHub, f.EC2)
	}
}
