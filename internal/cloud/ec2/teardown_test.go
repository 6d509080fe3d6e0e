package ec2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// TestCancelDuringRunInstances: the launch is cancelled while EC2 is
// answering RunInstances, so EC2 creates instances whose answer never
// arrives. Teardown, on a fresh context, finds them by tag.
func TestCancelDuringRunInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	f.setHook(func(_ http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") == "RunInstances" && form.Get("DryRun") != "true" {
			once.Do(func() {
				// From this call on, EC2 takes a second to answer; the
				// launch is cancelled meanwhile.
				f.srv.SetFaults(fakeec2.Faults{Latency: time.Second})
				time.AfterFunc(100*time.Millisecond, cancel)
			})
		}
		return false
	})
	p := f.provider()
	_, err := p.Launch(ctx, newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Launch error = %v, want context.Canceled", err)
	}
	// EC2 goes on with a request whose client went away.
	eventually(t, "the unanswered launches to create their instances", func() bool {
		return len(f.srv.State().Instances) == 5
	})
	p.mu.Lock()
	recorded := len(p.instances)
	p.mu.Unlock()
	if recorded == 5 {
		t.Fatal("every RunInstances answer arrived; the test did not lose any")
	}
	f.srv.SetFaults(fakeec2.Faults{})
	teardown(t, p)
	assertClean(t, f)
}

// TestTerminateDuringLaunch: the fast path on a signal terminates what
// runs at once, without waiting, and the launch stops.
func TestTerminateDuringLaunch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *fakeec2.Options) { o.BootDelay = 500 * time.Millisecond })
	p := f.provider()
	done := make(chan error, 1)
	go func() {
		_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
		done <- err
	}()
	eventually(t, "the nodes to be launched", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.instances) == 5
	})
	start := time.Now()
	if err := p.Terminate(context.Background()); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("Terminate took %v; it must not wait", d)
	}
	terms := calls(f, "TerminateInstances", false)
	if len(terms) == 0 || terms[0].Params["InstanceId.5"] == "" {
		t.Fatalf("first TerminateInstances did not name all 5 instances: %+v", terms)
	}
	if err := <-done; !errors.Is(err, errStopping) {
		t.Errorf("Launch after Terminate: %v, want it to stop", err)
	}
	if n := len(f.srv.State().Instances); n != 5 {
		t.Errorf("%d instances: a node was launched again after Terminate", n)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestLaunchAnsweredAfterTerminate: an instance whose RunInstances answer
// arrives after Terminate is terminated the moment it arrives, by the
// launch itself, before any Teardown.
func TestLaunchAnsweredAfterTerminate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	held, release := make(chan struct{}), make(chan struct{})
	f.setHook(func(_ http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") == "RunInstances" && strings.HasSuffix(form.Get("ClientToken"), "-4") {
			close(held)
			<-release
		}
		return false
	})
	p := f.provider()
	done := make(chan error, 1)
	go func() {
		_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
		done <- err
	}()
	<-held
	eventually(t, "the other nodes to be recorded", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.instances) == 4
	})
	if err := p.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; !errors.Is(err, errStopping) {
		t.Fatalf("Launch = %v, want it stopped", err)
	}
	last := f.srv.State().Instances
	late := last[len(last)-1]
	if late.Tags["Name"] != "exp_factory_4" || (late.State != "shutting-down" && late.State != "terminated") {
		t.Errorf("the late instance is %s %s before any teardown", late.Tags["Name"], late.State)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestTeardownWithoutTagSearch: when the tag search is refused, the
// instances recorded at launch are still terminated and the group deleted;
// the refusal is reported.
func TestTeardownWithoutTagSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	launch(t, p, newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	f.setHook(func(w http.ResponseWriter, form url.Values) bool {
		for k, vs := range form {
			if strings.HasPrefix(k, "Filter.") && strings.HasSuffix(k, ".Name") && strings.HasPrefix(vs[0], "tag:") {
				ec2Error(w, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
				return true
			}
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.Teardown(ctx)
	if err == nil || !strings.Contains(err.Error(), "may not call ec2:DescribeInstances") {
		t.Errorf("Teardown = %v, want the refused search reported", err)
	}
	var left *LeftoverError
	if errors.As(err, &left) {
		t.Errorf("leftovers reported: %v", left)
	}
	assertClean(t, f)
}

// TestDependencyViolationRetried: an instance sear does not know keeps
// using the group; teardown retries the delete until it is gone.
func TestDependencyViolationRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	launch(t, p, newSpec(t, parseCluster(t, clusterYAML("factories_num: 1")), "run-1"))
	group := onlySearGroup(t, f.srv.State()).ID
	other := runStranger(t, f, group)

	go func() {
		for len(dependencyViolations(f)) < 3 {
			time.Sleep(5 * time.Millisecond)
		}
		f.client().TerminateInstances(context.Background(), &awsec2.TerminateInstancesInput{InstanceIds: []string{other}})
	}()
	teardown(t, p)
	assertClean(t, f)
	if n := len(dependencyViolations(f)); n < 3 {
		t.Errorf("%d DependencyViolation answers, want the retries to have met some", n)
	}
}

// TestDependencyViolationUntilDeadline: a group still in use when time
// runs out is left, with the command that deletes it.
func TestDependencyViolationUntilDeadline(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	launch(t, p, newSpec(t, parseCluster(t, clusterYAML("factories_num: 1")), "run-1"))
	group := onlySearGroup(t, f.srv.State()).ID
	runStranger(t, f, group)
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	err := p.Teardown(ctx)
	var left *LeftoverError
	if !errors.As(err, &left) || len(left.Instances) != 0 || len(left.SecurityGroups) != 1 {
		t.Fatalf("Teardown error = %v, want the group left", err)
	}
	if !strings.Contains(err.Error(), "aws ec2 delete-security-group --region us-east-1 --group-id "+group) || !strings.Contains(err.Error(), "DependencyViolation") {
		t.Errorf("error lacks the command or the cause:\n%v", err)
	}
}

// runStranger launches an instance outside sear into group.
func runStranger(t *testing.T, f *fixture, group string) string {
	t.Helper()
	out, err := f.client().RunInstances(context.Background(), &awsec2.RunInstancesInput{
		ImageId: aws.String(fakeec2.UbuntuJammyImageID), InstanceType: "t3.micro",
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: []string{group},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func (f *fixture) client() *awsec2.Client {
	return awsec2.NewFromConfig(f.cfg())
}

func dependencyViolations(f *fixture) []fakeec2.Call {
	var out []fakeec2.Call
	for _, c := range calls(f, "DeleteSecurityGroup", false) {
		if c.ErrorCode == "DependencyViolation" {
			out = append(out, c)
		}
	}
	return out
}

// TestCredentialsFailMidTeardown: when AWS stops accepting the
// credentials, teardown lists every leftover with its command; with
// working credentials again, a second teardown finishes the job.
func TestCredentialsFailMidTeardown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	nodes := launch(t, p, newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	group := onlySearGroup(t, f.srv.State()).ID

	f.creds.broken.Store(true)
	err := p.Teardown(context.Background())
	var left *LeftoverError
	if !errors.As(err, &left) || len(left.Instances) != 5 || len(left.SecurityGroups) != 1 {
		t.Fatalf("Teardown error = %v, want 5 instances and 1 group left", err)
	}
	msg := err.Error()
	for _, n := range nodes {
		if !strings.Contains(msg, " "+n.ID) {
			t.Errorf("leftover %s not in the error", n.ID)
		}
	}
	for _, want := range []string{
		"aws ec2 terminate-instances --region us-east-1 --instance-ids i-",
		"aws ec2 delete-security-group --region us-east-1 --group-id " + group,
		"AWS refused the credentials (AuthFailure)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if n := len(live(f.srv.State())); n != 5 {
		t.Errorf("%d instances running, want all 5", n)
	}

	f.creds.broken.Store(false)
	teardown(t, p)
	assertClean(t, f)
}

// TestTeardownBeforeLaunch has nothing to do.
func TestTeardownBeforeLaunch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	teardown(t, p)
	if err := p.Terminate(context.Background()); err != nil {
		t.Error(err)
	}
	if n := len(f.srv.Calls()); n != 0 {
		t.Errorf("%d calls without a cluster", n)
	}
	if _, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML()), "run-1")); !errors.Is(err, errStopping) {
		t.Errorf("Launch after Teardown: %v", err)
	}
}

func TestLeftoverErrorMessage(t *testing.T) {
	t.Parallel()
	err := &LeftoverError{Region: "eu-west-1", Instances: []string{"i-2", "i-1"}, SecurityGroups: []string{"sg-1"}, Err: errors.New("denied")}
	want := "resources left behind (denied); delete them with:\n" +
		"  aws ec2 terminate-instances --region eu-west-1 --instance-ids i-1 i-2\n" +
		"  aws ec2 delete-security-group --region eu-west-1 --group-id sg-1\n" +
		"(delete the security groups once the instances are terminated)"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
}

// TestLeftovers: the cloud-neutral list names each resource beside the
// command for it alone, instances before groups.
func TestLeftovers(t *testing.T) {
	t.Parallel()
	var err error = fmt.Errorf("teardown of cluster c: %w", &LeftoverError{Region: "eu-west-1", Instances: []string{"i-2", "i-1"}, SecurityGroups: []string{"sg-1"}, Err: errors.New("denied")})
	var le cloud.LeftoverError
	if !errors.As(err, &le) {
		t.Fatalf("%v is not a cloud.LeftoverError", err)
	}
	want := []cloud.Leftover{
		{Resource: "instance i-2", Command: "aws ec2 terminate-instances --region eu-west-1 --instance-ids i-2"},
		{Resource: "instance i-1", Command: "aws ec2 terminate-instances --region eu-west-1 --instance-ids i-1"},
		{Resource: "security group sg-1", Command: "aws ec2 delete-security-group --region eu-west-1 --group-id sg-1"},
	}
	if got := le.Leftovers(); !reflect.DeepEqual(got, want) {
		t.Errorf("Leftovers:\n got %v\nwant %v", got, want)
	}
	if le.Unwrap() == nil || le.Unwrap().Error() != "denied" {
		t.Errorf("Unwrap: %v, want the cause", le.Unwrap())
	}
}
