package fakeec2

import (
	"context"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func filterOf(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// describeIDs returns the ids DescribeInstances finds for the filters.
func (f *fixture) describeIDs(t *testing.T, filters ...types.Filter) []string {
	t.Helper()
	out, err := f.client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: filters})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	var got []string
	for _, r := range out.Reservations {
		got = append(got, ids(r.Instances)...)
	}
	sort.Strings(got)
	return got
}

func TestDescribeInstancesFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	named := func(name, cluster string) func(*ec2.RunInstancesInput) {
		return tagged(tag("Name", name), tag("sear:cluster-id", cluster))
	}
	a := ids(f.run(t, named("orchestrator", "c-1")))[0]
	b := ids(f.run(t, named("factory-1", "c-1")))[0]
	c := ids(f.run(t, named("factory?", "c-2")))[0]
	if _, err := f.client.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{c}}); err != nil {
		t.Fatal(err)
	}
	f.waitTerminated(t, c)
	cases := []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"tag value", []types.Filter{filterOf("tag:sear:cluster-id", "c-1")}, []string{a, b}},
		{"tag key", []types.Filter{filterOf("tag-key", "sear:cluster-id")}, []string{a, b, c}},
		{"star wildcard", []types.Filter{filterOf("tag:Name", "factory*")}, []string{b, c}},
		{"question mark wildcard", []types.Filter{filterOf("tag:Name", "factory-?")}, []string{b}},
		{"escaped question mark", []types.Filter{filterOf("tag:Name", `factory\?`)}, []string{c}},
		{"values are ORed", []types.Filter{filterOf("tag:Name", "orchestrator", "factory-1")}, []string{a, b}},
		{"filters are ANDed", []types.Filter{filterOf("tag:sear:cluster-id", "c-*"), filterOf("instance-state-name", "pending", "running")}, []string{a, b}},
		{"state", []types.Filter{filterOf("instance-state-name", "terminated")}, []string{c}},
		{"instance id", []types.Filter{filterOf("instance-id", a)}, []string{a}},
		{"values are case-sensitive", []types.Filter{filterOf("tag:Name", "ORCHESTRATOR")}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if got := f.describeIDs(t, tc.filters...); !equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	_, err := f.client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []types.Filter{filterOf("colour", "red")}})
	wantCode(t, err, "InvalidParameterValue")
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDescribeInstancesPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.run(t, func(in *ec2.RunInstancesInput) { in.MinCount, in.MaxCount = aws.Int32(12), aws.Int32(12) })
	p := ec2.NewDescribeInstancesPaginator(f.client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	var sizes []int
	seen := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range page.Reservations {
			for _, id := range ids(r.Instances) {
				seen[id] = true
				n++
			}
		}
		sizes = append(sizes, n)
	}
	if len(seen) != 12 || len(sizes) != 3 || sizes[0] != 5 || sizes[2] != 2 {
		t.Errorf("pages of %v covering %d instances, want 5,5,2 covering 12", sizes, len(seen))
	}
	_, err := f.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = f.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: []string{"i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = f.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), NextToken: aws.String("garbage!")})
	wantCode(t, err, "InvalidPaginationToken")
}

func TestDescribeInstancesUnknownIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	known := ids(f.run(t))[0]
	_, err := f.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{known, "i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = f.client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"web-1"}})
	wantCode(t, err, "InvalidInstanceID.Malformed")
	_, err = f.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{known, "i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	if got := f.describe(t, known).State.Name; got == types.InstanceStateNameShuttingDown {
		t.Error("a failed TerminateInstances still terminated the known instance")
	}
}

func TestDescribeImages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	mine := f.srv.SeedImage(Image{Name: "sear-test-image"})
	out, err := f.client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{CanonicalOwnerID},
		Filters: []types.Filter{filterOf("name", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 2 {
		t.Fatalf("found %d jammy amd64 images, want 2", len(out.Images))
	}
	newest := out.Images[0]
	for _, im := range out.Images[1:] {
		if aws.ToString(im.CreationDate) > aws.ToString(newest.CreationDate) {
			newest = im
		}
	}
	if aws.ToString(newest.ImageId) != UbuntuJammyImageID || aws.ToString(newest.OwnerId) != CanonicalOwnerID {
		t.Errorf("newest image = %s owned by %s", aws.ToString(newest.ImageId), aws.ToString(newest.OwnerId))
	}
	self, err := f.client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil || len(self.Images) != 1 || aws.ToString(self.Images[0].ImageId) != mine {
		t.Errorf("Owners=self: %v, %+v", err, self)
	}
	_, err = f.client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	f.run(t, func(in *ec2.RunInstancesInput) { in.ImageId = aws.String(mine) })
}

func TestDescribeNetworkAndOfferings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	vpcs, err := f.client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filterOf("is-default", "true")}})
	if err != nil || len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].CidrBlock) != "172.31.0.0/16" {
		t.Fatalf("default VPC: %v %+v", err, vpcs)
	}
	subnets, err := f.client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		filterOf("vpc-id", aws.ToString(vpcs.Vpcs[0].VpcId)), filterOf("default-for-az", "true")}})
	if err != nil || len(subnets.Subnets) != 3 {
		t.Fatalf("default subnets: %v, %d", err, len(subnets.Subnets))
	}
	if sn := subnets.Subnets[0]; aws.ToInt32(sn.AvailableIpAddressCount) != 4091 || !aws.ToBool(sn.MapPublicIpOnLaunch) {
		t.Errorf("subnet %+v", sn)
	}
	_, err = f.client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
	wantCode(t, err, "InvalidSubnetID.NotFound")
	region, err := f.client.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{
		Filters: []types.Filter{filterOf("instance-type", "t3.micro")}})
	if err != nil || len(region.InstanceTypeOfferings) != 1 || aws.ToString(region.InstanceTypeOfferings[0].Location) != testRegion {
		t.Fatalf("region offerings: %v %+v", err, region)
	}
	zones, err := f.client.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{
		LocationType: types.LocationTypeAvailabilityZone, Filters: []types.Filter{filterOf("instance-type", "p4d.*")}})
	if err != nil || len(zones.InstanceTypeOfferings) != 2 {
		t.Fatalf("p4d zones: %v %+v", err, zones)
	}
	azs, err := f.client.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil || len(azs.AvailabilityZones) != 3 || aws.ToString(azs.AvailabilityZones[0].ZoneId) != "use1-az1" {
		t.Fatalf("zones: %v %+v", err, azs)
	}
}
