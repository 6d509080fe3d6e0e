package ec2

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/config"
)

// subnetInfo is where the nodes go.
type subnetInfo struct{ id, vpc, az string }

// typeField is an instance type with the cluster file field that names it.
type typeField struct{ field, itype string }

func instanceTypes(c *config.Cluster) []typeField {
	out := []typeField{{"orchestrator_type", c.OrchestratorType}}
	if c.FactoriesNum > 0 {
		out = append(out, typeField{"factories_type", c.FactoriesType})
	}
	return out
}

// subnet finds the subnet the cluster launches into: subnet_id, or a
// default subnet in a zone that offers every instance type of the cluster
// (RunInstances would otherwise pick a default subnet itself, possibly in
// a zone without the type, and fail with Unsupported).
func (a *api) subnet(ctx context.Context, c *config.Cluster) (subnetInfo, error) {
	types := instanceTypes(c)
	zones, err := a.offeredZones(ctx, types)
	if err != nil {
		return subnetInfo{}, err
	}
	if c.SubnetID != "" {
		return a.namedSubnet(ctx, c.SubnetID, types, zones)
	}
	return a.defaultSubnet(ctx, types, zones)
}

// offeredZones asks DescribeInstanceTypeOfferings where each type is
// offered, and refuses a type offered nowhere in the region (a typo, or a
// type this region lacks).
func (a *api) offeredZones(ctx context.Context, tf []typeField) (map[string]map[string]bool, error) {
	var names []string
	for _, t := range tf {
		names = append(names, t.itype)
	}
	zones := map[string]map[string]bool{}
	pages := awsec2.NewDescribeInstanceTypeOfferingsPaginator(a.ec2, &awsec2.DescribeInstanceTypeOfferingsInput{
		LocationType: types.LocationTypeAvailabilityZone,
		Filters:      []types.Filter{{Name: aws.String("instance-type"), Values: names}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, explain("check where the instance types are offered", "ec2:DescribeInstanceTypeOfferings", err)
		}
		for _, o := range page.InstanceTypeOfferings {
			t := string(o.InstanceType)
			if zones[t] == nil {
				zones[t] = map[string]bool{}
			}
			zones[t][aws.ToString(o.Location)] = true
		}
	}
	for _, t := range tf {
		if len(zones[t.itype]) == 0 {
			return nil, fmt.Errorf("%s %q is not offered in region %s; check the name (`aws ec2 describe-instance-type-offerings --region %s` lists them)",
				t.field, t.itype, a.region, a.region)
		}
	}
	return zones, nil
}

func (a *api) namedSubnet(ctx context.Context, id string, tf []typeField, zones map[string]map[string]bool) (subnetInfo, error) {
	out, err := a.ec2.DescribeSubnets(ctx, &awsec2.DescribeSubnetsInput{SubnetIds: []string{id}})
	if notFound(err) || isCode(err, "InvalidSubnetID.Malformed") || (err == nil && len(out.Subnets) == 0) {
		return subnetInfo{}, fmt.Errorf("subnet_id %q does not exist in region %s; check the id and region_name", id, a.region)
	}
	if err != nil {
		return subnetInfo{}, explain("look up subnet_id "+id, "ec2:DescribeSubnets", err)
	}
	sn := subnetOf(out.Subnets[0])
	for _, t := range tf {
		if !zones[t.itype][sn.az] {
			return subnetInfo{}, fmt.Errorf("%s %q is not offered in %s, the zone of subnet_id %q; it is offered in %s: choose a subnet_id there, or another type",
				t.field, t.itype, sn.az, id, strings.Join(sortedKeys(zones[t.itype]), ", "))
		}
	}
	return sn, nil
}

func (a *api) defaultSubnet(ctx context.Context, tf []typeField, zones map[string]map[string]bool) (subnetInfo, error) {
	out, err := a.ec2.DescribeSubnets(ctx, &awsec2.DescribeSubnetsInput{
		Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}},
	})
	if err != nil {
		return subnetInfo{}, explain("find the default subnets", "ec2:DescribeSubnets", err)
	}
	if len(out.Subnets) == 0 {
		return subnetInfo{}, fmt.Errorf("region %s has no default VPC; set subnet_id in the cluster file to a subnet whose instances get a public address (or set use_private_ip)", a.region)
	}
	subnets := make([]subnetInfo, len(out.Subnets))
	for i, s := range out.Subnets {
		subnets[i] = subnetOf(s)
	}
	sort.Slice(subnets, func(i, j int) bool { return subnets[i].az < subnets[j].az })
	for _, sn := range subnets {
		if offeredEverywhere(tf, zones, sn.az) {
			return sn, nil
		}
	}
	return subnetInfo{}, fmt.Errorf("no zone of region %s with a default subnet offers all of %s; set subnet_id to a subnet in a zone that does",
		a.region, describeTypes(tf))
}

func offeredEverywhere(tf []typeField, zones map[string]map[string]bool, az string) bool {
	for _, t := range tf {
		if !zones[t.itype][az] {
			return false
		}
	}
	return true
}

func describeTypes(tf []typeField) string {
	var parts []string
	for _, t := range tf {
		parts = append(parts, fmt.Sprintf("%s %q", t.field, t.itype))
	}
	return strings.Join(parts, " and ")
}

func subnetOf(s types.Subnet) subnetInfo {
	return subnetInfo{id: aws.ToString(s.SubnetId), vpc: aws.ToString(s.VpcId), az: aws.ToString(s.AvailabilityZone)}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// namedGroup resolves the cluster file's security_group, an id (Flambé
// passes it to SecurityGroupIds) or a name in the subnet's VPC. It must be
// in the subnet's VPC, or RunInstances refuses the pair.
func (a *api) namedGroup(ctx context.Context, group, vpc string) (string, error) {
	in := &awsec2.DescribeSecurityGroupsInput{GroupIds: []string{group}}
	if !strings.HasPrefix(group, "sg-") {
		in = &awsec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
			{Name: aws.String("group-name"), Values: []string{group}},
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
		}}
	}
	out, err := a.ec2.DescribeSecurityGroups(ctx, in)
	if notFound(err) || isCode(err, "InvalidGroupId.Malformed") || (err == nil && len(out.SecurityGroups) == 0) {
		return "", fmt.Errorf("security_group %q does not exist in VPC %s of region %s; name an existing group, or leave security_group out and sear makes one per run", group, vpc, a.region)
	}
	if err != nil {
		return "", explain("look up security_group "+group, "ec2:DescribeSecurityGroups", err)
	}
	g := out.SecurityGroups[0]
	if v := aws.ToString(g.VpcId); v != vpc {
		return "", fmt.Errorf("security_group %q is in VPC %s, but the nodes' subnet is in VPC %s; they must be in the same VPC", group, v, vpc)
	}
	return aws.ToString(g.GroupId), nil
}
