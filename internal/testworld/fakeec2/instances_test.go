package fakeec2

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// sear's launch, as docs/design.md, "EC2" describes it: IMDSv2 with hop
// limit 1, terminate on shutdown, tags at creation, user data.
func searLaunch(in *ec2.RunInstancesInput) {
	in.MinCount, in.MaxCount = aws.Int32(2), aws.Int32(2)
	in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte("#cloud-config\nruncmd: [true]\n")))
	in.InstanceInitiatedShutdownBehavior = types.ShutdownBehaviorTerminate
	in.MetadataOptions = &types.InstanceMetadataOptionsRequest{
		HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1), HttpEndpoint: types.InstanceMetadataEndpointStateEnabled,
	}
	in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("sear-node")}
	in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sda1"),
		Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(40), VolumeType: types.VolumeTypeGp3}}}
	in.TagSpecifications = []types.TagSpecification{
		tagSpec(types.ResourceTypeInstance, tag("sear:cluster-id", "c-1"), tag("Role", "factory")),
		tagSpec(types.ResourceTypeVolume, tag("sear:cluster-id", "c-1")),
		tagSpec(types.ResourceTypeNetworkInterface, tag("sear:cluster-id", "c-1")),
	}
}

func TestInstanceLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	launched := f.run(t, searLaunch)
	if len(launched) != 2 || launched[0].State.Name != types.InstanceStateNamePending {
		t.Fatalf("RunInstances returned %d instances in %v, want 2 pending", len(launched), launched[0].State)
	}
	f.waitRunning(t, ids(launched)...)

	got := f.describe(t, ids(launched)[0])
	checkRunning(t, got)

	out, err := f.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids(launched)})
	if err != nil {
		t.Fatal(err)
	}
	change := out.TerminatingInstances[0]
	if change.PreviousState.Name != types.InstanceStateNameRunning || change.CurrentState.Name != types.InstanceStateNameShuttingDown {
		t.Errorf("terminate went %s → %s, want running → shutting-down", change.PreviousState.Name, change.CurrentState.Name)
	}
	f.waitTerminated(t, ids(launched)...)
	checkTerminated(t, f.describe(t, ids(launched)[0]))

	again, err := f.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids(launched)[:1]})
	if err != nil {
		t.Fatalf("terminating twice: %v", err)
	}
	if c := again.TerminatingInstances[0]; c.PreviousState.Name != types.InstanceStateNameTerminated || c.CurrentState.Name != types.InstanceStateNameTerminated {
		t.Errorf("second terminate went %s → %s, want terminated → terminated", c.PreviousState.Name, c.CurrentState.Name)
	}
	checkStateAfterTermination(t, f.srv.State())
}

func checkRunning(t *testing.T, got types.Instance) {
	t.Helper()
	if got.State.Name != types.InstanceStateNameRunning || aws.ToInt32(got.State.Code) != 16 {
		t.Errorf("state = %v", got.State)
	}
	if ip := aws.ToString(got.PrivateIpAddress); !strings.HasPrefix(ip, "172.31.") || aws.ToString(got.PublicIpAddress) != ip {
		t.Errorf("private %q, public %q: want a default-subnet address used for both", ip, aws.ToString(got.PublicIpAddress))
	}
	m := got.MetadataOptions
	if m.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != 1 ||
		m.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled || m.State != types.InstanceMetadataOptionsStateApplied {
		t.Errorf("metadata options = %+v", m)
	}
	if tags := tagMap(got.Tags); tags["sear:cluster-id"] != "c-1" || tags["Role"] != "factory" {
		t.Errorf("tags = %v", tags)
	}
	if got.LaunchTime == nil || got.LaunchTime.IsZero() || got.StateReason != nil {
		t.Errorf("launch time %v, state reason %v", got.LaunchTime, got.StateReason)
	}
	if got.IamInstanceProfile == nil || !strings.HasSuffix(aws.ToString(got.IamInstanceProfile.Arn), ":instance-profile/sear-node") {
		t.Errorf("iam instance profile = %+v", got.IamInstanceProfile)
	}
	if len(got.BlockDeviceMappings) != 1 || len(got.SecurityGroups) != 1 || aws.ToString(got.SecurityGroups[0].GroupName) != "default" {
		t.Errorf("block devices %d, groups %+v", len(got.BlockDeviceMappings), got.SecurityGroups)
	}
}

func checkTerminated(t *testing.T, got types.Instance) {
	t.Helper()
	if got.State.Name != types.InstanceStateNameTerminated || aws.ToInt32(got.State.Code) != 48 {
		t.Errorf("state = %v", got.State)
	}
	if got.StateReason == nil || aws.ToString(got.StateReason.Code) != "Client.UserInitiatedShutdown" {
		t.Errorf("state reason = %+v", got.StateReason)
	}
	if got.PrivateIpAddress != nil || got.PublicIpAddress != nil {
		t.Errorf("terminated instance still has addresses %v %v", got.PrivateIpAddress, got.PublicIpAddress)
	}
}

func checkStateAfterTermination(t *testing.T, st StateSnapshot) {
	t.Helper()
	if len(st.Instances) != 2 {
		t.Fatalf("state has %d instances", len(st.Instances))
	}
	inst := st.Instances[0]
	if inst.State != "terminated" || inst.TerminateTime == nil || inst.UserDataSize != len("#cloud-config\nruncmd: [true]\n") ||
		inst.MetadataOptions.HTTPTokens != "required" || inst.ShutdownBehavior != "terminate" || inst.Market != "on-demand" {
		t.Errorf("instance state = %+v", inst)
	}
	if len(st.Volumes) != 2 || st.Volumes[0].State != "deleted" || st.Volumes[0].SizeGiB != 40 || st.Volumes[0].Tags["sear:cluster-id"] != "c-1" {
		t.Errorf("volumes = %+v", st.Volumes)
	}
}
