package fakeec2

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestThrottlingIsRetried throttles every second call (50%): the SDK's
// standard retryer treats RequestLimitExceeded as a throttle and retries, so
// every call still succeeds; without retries the error shows.
func TestThrottlingIsRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.srv.SetFaults(Faults{ThrottleEvery: 2})
	inst := ids(f.run(t))[0]
	for i := 0; i < 10; i++ {
		f.describe(t, inst)
	}
	f.waitRunning(t, inst)
	throttled := 0
	for _, c := range f.srv.Calls() {
		if c.ErrorCode == "RequestLimitExceeded" {
			throttled++
			if c.Status != 503 {
				t.Errorf("throttled call answered %d, want 503", c.Status)
			}
		}
	}
	if throttled < 10 {
		t.Errorf("only %d calls were throttled", throttled)
	}
	noRetry := f.newClient(credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	f.srv.SetFaults(Faults{ThrottleEvery: 1})
	_, err := noRetry.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	wantCode(t, err, "RequestLimitExceeded")
}

func TestCapacityFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	spot := func(in *ec2.RunInstancesInput) {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot}
	}
	f.srv.SetFaults(Faults{InsufficientCapacity: map[string]bool{"t3.micro/spot": true, "g5.xlarge": true}})
	_, err := f.client.RunInstances(ctx, runInput(spot))
	wantCode(t, err, "InsufficientInstanceCapacity")
	f.run(t) // on-demand t3.micro still has capacity: sear's fallback
	_, err = f.client.RunInstances(ctx, runInput(func(in *ec2.RunInstancesInput) { in.InstanceType = types.InstanceTypeG5Xlarge }))
	wantCode(t, err, "InsufficientInstanceCapacity")
}

func TestPartialLaunch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(Faults{PartialLaunch: 2})
	got := f.run(t, func(in *ec2.RunInstancesInput) { in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(5) })
	if len(got) != 2 {
		t.Errorf("launched %d, want the 2 available", len(got))
	}
	_, err := f.client.RunInstances(context.Background(), runInput(func(in *ec2.RunInstancesInput) {
		in.MinCount, in.MaxCount = aws.Int32(3), aws.Int32(5)
	}))
	wantCode(t, err, "InsufficientInstanceCapacity")
	if n := len(f.srv.State().Instances); n != 2 {
		t.Errorf("%d instances exist after a launch below MinCount, want 2", n)
	}
}

func TestFailBoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(Faults{FailBoot: map[string]bool{"next": true}})
	bad := ids(f.run(t))[0]
	good := ids(f.run(t))[0]
	w := ec2.NewInstanceRunningWaiter(f.client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	})
	if err := w.Wait(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{bad}}, 5*time.Second); err == nil {
		t.Fatal("the running waiter succeeded on an instance that failed to boot")
	}
	got := f.describe(t, bad)
	if got.State.Name != types.InstanceStateNameTerminated || aws.ToString(got.StateReason.Code) != "Server.InternalError" {
		t.Errorf("failed boot: %s %+v", got.State.Name, got.StateReason)
	}
	f.waitRunning(t, good)
}

func TestFailBootByInstanceID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.BootDelay = 300 * time.Millisecond })
	inst := ids(f.run(t))[0]
	f.srv.SetFaults(Faults{FailBoot: map[string]bool{inst: true}})
	eventually(t, "the named instance to fail its boot", func() bool {
		got := f.describe(t, inst)
		return got.State.Name == types.InstanceStateNameTerminated && aws.ToString(got.StateReason.Code) == "Server.InternalError"
	})
}

func TestKillAndInstanceExited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	killed := ids(f.run(t))[0]
	exitTerminate := ids(f.run(t, func(in *ec2.RunInstancesInput) {
		in.InstanceInitiatedShutdownBehavior = types.ShutdownBehaviorTerminate
	}))[0]
	exitStop := ids(f.run(t))[0]
	f.waitRunning(t, killed, exitTerminate, exitStop)

	f.srv.Kill(killed)
	f.srv.InstanceExited(exitTerminate)
	f.srv.InstanceExited(exitStop)
	if got := f.describe(t, killed); got.State.Name != types.InstanceStateNameTerminated || aws.ToString(got.StateReason.Code) != "Server.InternalError" {
		t.Errorf("killed: %s %+v", got.State.Name, got.StateReason)
	}
	f.waitTerminated(t, exitTerminate)
	if got := f.describe(t, exitTerminate); aws.ToString(got.StateReason.Code) != "Client.InstanceInitiatedShutdown" {
		t.Errorf("self-terminated: %+v", got.StateReason)
	}
	w := ec2.NewInstanceStoppedWaiter(f.client, func(o *ec2.InstanceStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	})
	if err := w.Wait(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{exitStop}}, 5*time.Second); err != nil {
		t.Fatalf("stop-on-shutdown instance did not stop: %v", err)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(Faults{Latency: 100 * time.Millisecond})
	start := time.Now()
	f.run(t)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("call took %v with 100ms latency injected", d)
	}
}

// recordingBackend is a Backend that remembers what it was asked.
type recordingBackend struct {
	mu       sync.Mutex
	started  map[string]LaunchSpec
	stopped  map[string]int
	startErr error
}

func (b *recordingBackend) Start(_ context.Context, spec LaunchSpec) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.startErr != nil {
		return "", b.startErr
	}
	b.started[spec.InstanceID] = spec
	return "10.99.0.7", nil
}

func (b *recordingBackend) Stop(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped[id]++
	return nil
}

func (b *recordingBackend) stops(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopped[id]
}

func TestBackendSeesLaunchAndTermination(t *testing.T) {
	t.Parallel()
	b := &recordingBackend{started: map[string]LaunchSpec{}, stopped: map[string]int{}}
	f := newFixture(t, func(o *Options) { o.Backend = b })
	inst := ids(f.run(t, searLaunch))[0]
	f.waitRunning(t, inst)
	b.mu.Lock()
	spec := b.started[inst]
	b.mu.Unlock()
	if string(spec.UserData) != "#cloud-config\nruncmd: [true]\n" || spec.ShutdownBehavior != "terminate" || spec.Tags["Role"] != "factory" || len(spec.SecurityGroups) != 1 {
		t.Errorf("backend got %+v", spec)
	}
	if ip := aws.ToString(f.describe(t, inst).PrivateIpAddress); ip != "10.99.0.7" {
		t.Errorf("private address %q, want the backend's", ip)
	}
	if _, err := f.client.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{inst}}); err != nil {
		t.Fatal(err)
	}
	f.waitTerminated(t, inst)
	if b.stops(inst) == 0 {
		t.Error("terminated instance was not stopped on the backend")
	}

	b.mu.Lock()
	b.startErr = errors.New("no docker")
	b.mu.Unlock()
	failed := ids(f.run(t))[0]
	eventually(t, "failed start to terminate", func() bool {
		return f.describe(t, failed).State.Name == types.InstanceStateNameTerminated
	})
	if st := f.srv.State().Instances[2]; st.BackendError != "no docker" || st.StateReason != "Server.InternalError" {
		t.Errorf("state after a failed start = %+v", st)
	}
}

func TestCloseStopsTransitions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.BootDelay = time.Hour })
	inst := ids(f.run(t))[0]
	done := make(chan struct{})
	go func() {
		f.srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a boot was pending")
	}
	if st := f.describe(t, inst).State.Name; st != types.InstanceStateNamePending {
		t.Errorf("state after Close = %s, want it frozen at pending", st)
	}
}
