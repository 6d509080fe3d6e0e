package fakeec2

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func spotMarket(behavior types.InstanceInterruptionBehavior) func(*ec2.RunInstancesInput) {
	return func(in *ec2.RunInstancesInput) {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypePersistent, InstanceInterruptionBehavior: behavior}}
		if behavior == types.InstanceInterruptionBehaviorTerminate {
			in.InstanceMarketOptions.SpotOptions.SpotInstanceType = types.SpotInstanceTypeOneTime
		}
		in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired}
	}
}

// TestSpotInterruption: the notice is in the metadata at once, with the action's time; the
// instance is interrupted at that time, with the state reason EC2 gives.
func TestSpotInterruption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		behavior   types.InstanceInterruptionBehavior
		state      types.InstanceStateName
		reason     string
		transition string
	}{
		{types.InstanceInterruptionBehaviorTerminate, types.InstanceStateNameTerminated, "Server.SpotInstanceTermination", "Server.SpotInstanceTermination"},
		{types.InstanceInterruptionBehaviorStop, types.InstanceStateNameStopped, "Server.SpotInstanceShutdown", "Server.SpotInstanceShutdown"},
	} {
		t.Run(string(tc.behavior), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			id := aws.ToString(f.run(t, spotMarket(tc.behavior))[0].InstanceId)
			f.waitFor(t, id, types.InstanceStateNameRunning)
			if m, _ := f.srv.MetadataInstance(id); m.Action != nil || !m.Spot || !m.TokensRequired {
				t.Fatalf("before the notice: %+v", m)
			}
			// Long enough that the signed DescribeInstances below still
			// lands inside the notice on a loaded machine.
			at, err := f.srv.InterruptSpot(id, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := f.srv.MetadataInstance(id)
			if m.Action == nil || m.Action.Action != string(tc.behavior) || !m.Action.Time.Equal(at) {
				t.Fatalf("after the notice: %+v, want %s at %v", m.Action, tc.behavior, at)
			}
			if got := f.describe(t, id); got.State.Name != types.InstanceStateNameRunning {
				t.Fatalf("during the notice: %s, want running", got.State.Name)
			}
			got := f.waitFor(t, id, tc.state)
			if time.Now().Before(at) {
				t.Errorf("interrupted before the notice's time %v", at)
			}
			if aws.ToString(got.StateReason.Code) != tc.reason || aws.ToString(got.StateTransitionReason) != tc.transition {
				t.Errorf("state reason %q, transition %q; want %q, %q", aws.ToString(got.StateReason.Code), aws.ToString(got.StateTransitionReason), tc.reason, tc.transition)
			}
			if _, ok := f.srv.MetadataInstance(id); ok {
				t.Error("the metadata service still answers for the interrupted instance")
			}
		})
	}
}

func TestSpotInterruptionRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := aws.ToString(f.run(t)[0].InstanceId)
	f.waitFor(t, id, types.InstanceStateNameRunning)
	if _, err := f.srv.InterruptSpot(id, time.Second); !errors.Is(err, ErrNotSpot) {
		t.Errorf("on-demand instance: %v, want ErrNotSpot", err)
	}
	if _, err := f.srv.InterruptSpot("i-0000000000000000a", time.Second); !errors.Is(err, ErrNotSpot) {
		t.Errorf("unknown instance: %v, want ErrNotSpot", err)
	}
}

// TestSpotInterruptionFault: an interruption by rank waits for a running Spot Instance of that
// rank, fires once, and is used up.
func TestSpotInterruptionFault(t *testing.T) {
	t.Parallel()
	// A boot long enough that both launches, and the count of what is
	// pending, happen inside it on a loaded machine.
	f := newFixture(t, func(o *Options) { o.BootDelay = time.Second })
	f.srv.SetFaults(Faults{SpotInterruptions: []SpotInterruption{{Rank: 1, Notice: 100 * time.Millisecond}}})
	tags := func(role, name string) func(*ec2.RunInstancesInput) {
		return func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{tagSpec(types.ResourceTypeInstance, tag("Role", role), tag("Name", name))}
		}
	}
	orch := aws.ToString(f.run(t, spotMarket(types.InstanceInterruptionBehaviorTerminate), tags("Orchestrator", "c_orchestrator"))[0].InstanceId)
	fact := aws.ToString(f.run(t, spotMarket(types.InstanceInterruptionBehaviorTerminate), tags("Factory", "c_factory_1"))[0].InstanceId)
	if n := len(f.srv.CurrentFaults().SpotInterruptions); n != 1 {
		t.Fatalf("%d interruptions pending while the instances boot, want 1", n)
	}
	got := f.waitFor(t, fact, types.InstanceStateNameTerminated)
	if aws.ToString(got.StateReason.Code) != "Server.SpotInstanceTermination" {
		t.Errorf("factory: %q", aws.ToString(got.StateReason.Code))
	}
	if st := f.describe(t, orch).State.Name; st != types.InstanceStateNameRunning {
		t.Errorf("orchestrator: %s, want running", st)
	}
	if n := len(f.srv.CurrentFaults().SpotInterruptions); n != 0 {
		t.Errorf("%d interruptions left after firing, want 0", n)
	}
}

// waitFor polls DescribeInstances until the instance is in state.
func (f *fixture) waitFor(t *testing.T, id string, state types.InstanceStateName) types.Instance {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := f.describe(t, id)
		if got.State.Name == state {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s, want %s", id, got.State.Name, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
