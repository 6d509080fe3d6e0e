package fakeec2

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func manyTags(n int) []types.Tag {
	var out []types.Tag
	for i := 0; i < n; i++ {
		out = append(out, tag(fmt.Sprintf("k%d", i), "v"))
	}
	return out
}

func TestRunInstancesValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	armImage := func(in *ec2.RunInstancesInput) { in.ImageId = aws.String(UbuntuJammyArmImageID) }
	cases := []struct {
		name string
		mod  func(*ec2.RunInstancesInput)
		code string
	}{
		{"unknown image", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-0123456789abcdef0") }, "InvalidAMIID.NotFound"},
		{"malformed image", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ubuntu") }, "InvalidAMIID.Malformed"},
		{"unknown instance type", func(in *ec2.RunInstancesInput) { in.InstanceType = "t3.gigantic" }, "InvalidParameterValue"},
		{"architecture mismatch", armImage, "InvalidParameterValue"},
		{"type not offered in the zone", func(in *ec2.RunInstancesInput) {
			in.InstanceType = types.InstanceTypeP4d24xlarge
			in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1c")}
		}, "Unsupported"},
		{"min above max", func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(3) }, "InvalidParameterValue"},
		{"zero min", func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(0) }, "InvalidParameterValue"},
		{"user data not base64", func(in *ec2.RunInstancesInput) { in.UserData = aws.String("#cloud-config!") }, "InvalidUserData.Malformed"},
		{"user data over 16 KB", func(in *ec2.RunInstancesInput) { in.UserData = aws.String(b64(maxUserData + 1)) }, "InvalidUserData.Malformed"},
		{"aws: tag prefix", tagged(tag("aws:cloudformation:stack", "x")), "InvalidParameterValue"},
		{"tag key too long", tagged(tag(strings.Repeat("k", 129), "v")), "InvalidParameterValue"},
		{"tag value too long", tagged(tag("k", strings.Repeat("é", 257))), "InvalidParameterValue"},
		{"51 tags", tagged(manyTags(51)...), "TagLimitExceeded"},
		{"untaggable resource type", func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{tagSpec(types.ResourceTypeVpc, tag("k", "v"))}
		}, "InvalidParameterValue"},
		{"hop limit 65", func(in *ec2.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(65)}
		}, "InvalidParameterValue"},
		{"http tokens invalid", func(in *ec2.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: "sometimes"}
		}, "InvalidParameterValue"},
		{"shutdown behavior invalid", func(in *ec2.RunInstancesInput) { in.InstanceInitiatedShutdownBehavior = "explode" }, "InvalidParameterValue"},
		{"unknown subnet", func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("subnet-0123456789abcdef0") }, "InvalidSubnetID.NotFound"},
		{"unknown security group", func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{"sg-0123456789abcdef0"} }, "InvalidGroup.NotFound"},
		{"malformed security group", func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{"my-group"} }, "InvalidGroupId.Malformed"},
		{"root volume below snapshot", func(in *ec2.RunInstancesInput) {
			in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sda1"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(4)}}}
		}, "InvalidBlockDeviceMapping"},
		{"client token too long", func(in *ec2.RunInstancesInput) { in.ClientToken = aws.String(strings.Repeat("t", 65)) }, "InvalidParameterValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.client.RunInstances(context.Background(), runInput(c.mod))
			wantCode(t, err, c.code)
		})
	}
	if n := len(f.srv.State().Instances); n != 0 {
		t.Errorf("failed launches created %d instances", n)
	}
}

func tagged(tags ...types.Tag) func(*ec2.RunInstancesInput) {
	return func(in *ec2.RunInstancesInput) {
		in.TagSpecifications = []types.TagSpecification{tagSpec(types.ResourceTypeInstance, tags...)}
	}
}

// b64 is n bytes of user data, base64-encoded as the API carries it.
func b64(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", n))) }

func TestUserDataLimitIs16KBDecoded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// 16384 bytes encode to 21848 base64 characters: the limit applies to the
	// raw size, not the encoded one.
	f.run(t, func(in *ec2.RunInstancesInput) { in.UserData = aws.String(b64(maxUserData)) })
	_, err := f.client.RunInstances(context.Background(), runInput(func(in *ec2.RunInstancesInput) { in.UserData = aws.String(b64(maxUserData + 1)) }))
	wantCode(t, err, "InvalidUserData.Malformed")
}

func TestRunInstancesDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dry := func(in *ec2.RunInstancesInput) { in.DryRun = aws.Bool(true) }
	_, err := f.client.RunInstances(context.Background(), runInput(dry))
	wantCode(t, err, "DryRunOperation")
	_, err = f.client.RunInstances(context.Background(), runInput(dry, func(in *ec2.RunInstancesInput) { in.InstanceType = "t3.gigantic" }))
	wantCode(t, err, "InvalidParameterValue")
	if n := len(f.srv.State().Instances); n != 0 {
		t.Errorf("dry runs created %d instances", n)
	}
	calls := f.srv.Calls()
	if c := calls[0]; c.Status != 412 || c.ErrorCode != "DryRunOperation" {
		t.Errorf("dry run answered %d %s, want 412 DryRunOperation", c.Status, c.ErrorCode)
	}
}

func TestClientTokenIdempotency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	token := func(in *ec2.RunInstancesInput) { in.ClientToken = aws.String("sear-run-42") }
	first := f.run(t, token)
	second := f.run(t, token)
	if ids(first)[0] != ids(second)[0] {
		t.Errorf("same token launched %v then %v", ids(first), ids(second))
	}
	_, err := f.client.RunInstances(ctx, runInput(token, func(in *ec2.RunInstancesInput) { in.InstanceType = types.InstanceTypeT3Small }))
	wantCode(t, err, "IdempotentParameterMismatch")
	if n := len(f.srv.State().Instances); n != 1 {
		t.Errorf("%d instances exist, want 1", n)
	}
	// The SDK fills in a client token of its own when none is given, so two
	// plain calls are two launches.
	f.run(t)
	f.run(t)
	if n := len(f.srv.State().Instances); n != 3 {
		t.Errorf("%d instances exist, want 3", n)
	}
}

func TestSpotLaunch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spot := func(in *ec2.RunInstancesInput) {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypeOneTime, InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate}}
		in.TagSpecifications = []types.TagSpecification{tagSpec(types.ResourceTypeSpotInstancesRequest, tag("sear:run-id", "r1"))}
	}
	inst := f.run(t, spot)[0]
	if inst.InstanceLifecycle != types.InstanceLifecycleTypeSpot || !strings.HasPrefix(aws.ToString(inst.SpotInstanceRequestId), "sir-") {
		t.Errorf("lifecycle %q, spot request %q", inst.InstanceLifecycle, aws.ToString(inst.SpotInstanceRequestId))
	}
	out, err := f.client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-lifecycle"), Values: []string{"spot"}}}})
	if err != nil || len(out.Reservations) != 1 {
		t.Fatalf("spot filter: %v, %d reservations", err, len(out.Reservations))
	}
}

func TestSubnetsAndGroupsAtLaunch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	subnetID, err := f.srv.SeedSubnet("us-east-1b", "172.31.128.0/24")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := f.client.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("sear-c1"), Description: aws.String("sear cluster")})
	if err != nil {
		t.Fatal(err)
	}
	inst := f.run(t, func(in *ec2.RunInstancesInput) {
		in.SubnetId, in.SecurityGroupIds = aws.String(subnetID), []string{aws.ToString(sg.GroupId)}
	})[0]
	if aws.ToString(inst.SubnetId) != subnetID || aws.ToString(inst.Placement.AvailabilityZone) != "us-east-1b" ||
		aws.ToString(inst.PrivateIpAddress) != "172.31.128.4" || inst.PublicIpAddress != nil {
		t.Errorf("subnet %s zone %s private %s public %v", aws.ToString(inst.SubnetId), aws.ToString(inst.Placement.AvailabilityZone),
			aws.ToString(inst.PrivateIpAddress), inst.PublicIpAddress)
	}
	if aws.ToString(inst.SecurityGroups[0].GroupName) != "sear-c1" {
		t.Errorf("groups = %+v", inst.SecurityGroups)
	}
	// A /24 holds 256 - 5 reserved addresses; one is taken.
	_, err = f.client.RunInstances(ctx, runInput(func(in *ec2.RunInstancesInput) {
		in.SubnetId, in.MinCount, in.MaxCount = aws.String(subnetID), aws.Int32(251), aws.Int32(251)
	}))
	wantCode(t, err, "InsufficientFreeAddressesInSubnet")
}
