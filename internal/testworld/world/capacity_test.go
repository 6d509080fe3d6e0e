package world

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// TestCapacityFaults: capacity runs out per zone and type, as set over
// HTTP: a type in one zone fails there and launches in the next, a whole
// zone fails for every type, a market narrows it, and Unsupported is
// answered as EC2 does (400), InsufficientInstanceCapacity as a server
// error (500).
func TestCapacityFaults(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	client := ec2Client(env, assume(t, env))
	ctx := context.Background()
	mustControl(t, env, http.MethodPost, "/_testworld/faults", `{"ec2": {"capacity": [
		{"az": "us-east-1a", "type": "t3.micro"}, {"az": "us-east-1b", "code": "Unsupported"},
		{"az": "us-east-1c", "type": "t3.small", "market": "spot"}]}}`, nil)
	run := func(az string, itype types.InstanceType, spot bool) error {
		in := &awsec2.RunInstancesInput{ImageId: aws.String(fakeec2.UbuntuJammyImageID), InstanceType: itype,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &types.Placement{AvailabilityZone: aws.String(az)}}
		if spot {
			in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot}
		}
		_, err := client.RunInstances(ctx, in)
		return err
	}
	for _, tc := range []struct {
		az   string
		typ  types.InstanceType
		spot bool
		want string
	}{
		{"us-east-1a", types.InstanceTypeT3Micro, false, "InsufficientInstanceCapacity"},
		{"us-east-1a", types.InstanceTypeT3Small, false, ""},
		{"us-east-1b", types.InstanceTypeT3Small, false, "Unsupported"},
		{"us-east-1c", types.InstanceTypeT3Micro, false, ""},
		{"us-east-1c", types.InstanceTypeT3Small, true, "InsufficientInstanceCapacity"},
		{"us-east-1c", types.InstanceTypeT3Small, false, ""},
	} {
		if got := code(t, run(tc.az, tc.typ, tc.spot)); got != tc.want {
			t.Errorf("%s in %s (spot %v): %q, want %q", tc.typ, tc.az, tc.spot, got, tc.want)
		}
	}
	var f Faults
	mustControl(t, env, http.MethodGet, "/_testworld/faults", nil, &f)
	if len(f.EC2.Capacity) != 3 || f.EC2.Capacity[0] != (CapacityFault{AZ: "us-east-1a", Type: "t3.micro"}) {
		t.Errorf("capacity read back as %+v", f.EC2.Capacity)
	}
	if err := w.SetFaults(Faults{EC2: &EC2Faults{Capacity: []CapacityFault{{}, {AZ: "us-east-1a", Market: "reserved"}}}}); err == nil {
		t.Error("a capacity fault naming nothing, and one with an unknown market, were accepted")
	}
}
