package fakeec2

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// fakeClock is a clock a test moves by hand; it starts at the real time so
// that SigV4's five-minute skew check still passes.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestENIReleaseDelay: under the fault, a terminated instance's network
// interface keeps its security group in use until the delay has passed on
// EC2's clock; DeleteSecurityGroup answers DependencyViolation until then,
// and succeeds after. Without the fault, the group is free at termination.
func TestENIReleaseDelay(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Now()}
	f := newFixture(t, func(o *Options) { o.Now = clock.Now })
	ctx := context.Background()
	del := func(id string) error {
		_, err := f.client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		return err
	}
	terminate := func(id string) {
		if _, err := f.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		f.waitTerminated(t, id)
	}

	free := f.createGroup(t, "sear-free")
	terminate(ids(f.run(t, func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{free} }))[0])
	if err := del(free); err != nil {
		t.Errorf("without the fault, deleting the group of a terminated instance: %v", err)
	}

	f.srv.SetFaults(Faults{ENIReleaseDelay: time.Minute})
	if got := f.srv.CurrentFaults().ENIReleaseDelay; got != time.Minute {
		t.Errorf("CurrentFaults ENIReleaseDelay = %v, want 1m", got)
	}
	held := f.createGroup(t, "sear-held")
	terminate(ids(f.run(t, func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{held} }))[0])
	wantCode(t, del(held), "DependencyViolation")
	clock.advance(59 * time.Second)
	wantCode(t, del(held), "DependencyViolation")
	clock.advance(2 * time.Second)
	if err := del(held); err != nil {
		t.Errorf("a minute after termination, with the interface released: %v", err)
	}
}
