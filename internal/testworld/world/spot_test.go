package world

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func spotNode(role, name string) func(*awsec2.RunInstancesInput) {
	return func(in *awsec2.RunInstancesInput) {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypeOneTime, InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate}}
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
			{Key: aws.String("sear:run-id"), Value: aws.String("world-test")},
			{Key: aws.String("Role"), Value: aws.String(role)}, {Key: aws.String("Name"), Value: aws.String(name)}}}}
	}
}

// TestSpotInterruptionFault posts a spot_interruption for rank 1 through the control endpoint:
// the factory gets the notice, is terminated after it, and the AWS CLI's describe-instances
// shows the state and the state reason EC2 gives; the orchestrator stays, and the fault is used up.
func TestSpotInterruptionFault(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	c := ec2Client(env, assume(t, env))
	orch := *launch(t, c, spotNode("Orchestrator", "demo_orchestrator"))[0].InstanceId
	fact := *launch(t, c, spotNode("Factory", "demo_factory_1"))[0].InstanceId
	waitState(t, env, orch, "running")
	waitState(t, env, fact, "running")

	var f Faults
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"spot_interruption": [{"rank": 1, "notice": "500ms"}]}}`, &f)
	if n := len(f.EC2.SpotInterruption); n != 0 {
		t.Errorf("the faults still list %d interruptions after firing: %+v", n, f.EC2.SpotInterruption)
	}
	st := instanceState(t, env, fact)
	if si := st.SpotInterruption; si == nil || si.Action != "terminate" || si.ActionTime.Sub(si.NoticedAt) != 500*time.Millisecond {
		t.Fatalf("the factory's notice: %+v", si)
	}
	waitState(t, env, fact, "terminated")
	if st := instanceState(t, env, orch); st.State != "running" || st.SpotInterruption != nil {
		t.Errorf("the orchestrator is %s with notice %+v", st.State, st.SpotInterruption)
	}

	creds := assume(t, env)
	out, stderr, err := awsCLI(t, env, "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken)("ec2", "describe-instances", "--instance-ids", fact)
	if err != nil {
		t.Fatalf("aws ec2 describe-instances: %v\n%s", err, stderr)
	}
	var desc struct {
		Reservations []struct {
			Instances []struct {
				State                 struct{ Name string }
				StateReason           struct{ Code, Message string }
				StateTransitionReason string
				InstanceLifecycle     string
			}
		}
	}
	if err := json.Unmarshal(out, &desc); err != nil || len(desc.Reservations) != 1 {
		t.Fatalf("aws ec2 printed %s: %v", out, err)
	}
	got := desc.Reservations[0].Instances[0]
	if got.State.Name != "terminated" || got.StateReason.Code != "Server.SpotInstanceTermination" ||
		!strings.HasPrefix(got.StateReason.Message, "Server.SpotInstanceTermination: ") || got.InstanceLifecycle != "spot" {
		t.Errorf("the CLI shows %+v", got)
	}
}

func TestSpotInterruptionControl(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	c := ec2Client(env, assume(t, env))
	spot := *launch(t, c, spotNode("Orchestrator", "demo_orchestrator"))[0].InstanceId
	onDemand := *launch(t, c)[0].InstanceId
	waitState(t, env, spot, "running")
	waitState(t, env, onDemand, "running")
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"an on-demand instance", "/_testworld/instances/" + onDemand + "/spot-interruption", 409},
		{"an unknown instance", "/_testworld/instances/i-00000000000000000/spot-interruption", 404},
		{"a bad notice", "/_testworld/instances/" + spot + "/spot-interruption?notice=soon", 400},
		{"a spot instance", "/_testworld/instances/" + spot + "/spot-interruption?notice=200ms", 200},
	} {
		if status, raw := control(t, env, http.MethodPost, tc.path, nil, nil); status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, raw, tc.status)
		}
	}
	if st := waitState(t, env, spot, "terminated"); st.StateReason != "Server.SpotInstanceTermination" {
		t.Errorf("state reason %q", st.StateReason)
	}
	for _, doc := range []string{
		`{"ec2": {"spot_interruption": [{"notice": "2s"}]}}`,
		`{"ec2": {"spot_interruption": [{"instance": "i-1", "rank": 0}]}}`,
		`{"ec2": {"spot_interruption": [{"instance": "x"}]}}`,
		`{"ec2": {"spot_interruption": [{"rank": -1}]}}`,
	} {
		if status, raw := control(t, env, http.MethodPost, "/_testworld/faults", doc, nil); status != 400 || !strings.Contains(string(raw), "spot_interruption") {
			t.Errorf("%s: %d %s, want 400 naming spot_interruption", doc, status, raw)
		}
	}
}
