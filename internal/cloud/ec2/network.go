package ec2

import (
	"context"
	"fmt"
	"slices"
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

// instanceTypes are every instance type the cluster file lists, first
// choices and alternates, each once per field.
func instanceTypes(c *config.Cluster) []typeField {
	var out []typeField
	for _, n := range c.Roles() {
		for _, t := range n.Types {
			out = append(out, typeField{n.TypeField, t})
		}
	}
	return out
}

// subnets finds the subnets the cluster may launch into, in the order the
// failover tries them: those subnet_id lists, or the default subnet of
// each zone that offers a type of each role (RunInstances would otherwise
// pick a default subnet itself, possibly in a zone without the type, and
// fail with Unsupported). Every listed type must be offered in one of
// their zones: a type that could never launch is a mistake in the file.
func (a *api) subnets(ctx context.Context, c *config.Cluster, plan *launchPlan) error {
	tf := instanceTypes(c)
	zones, err := a.offeredZones(ctx, c, tf)
	if err != nil {
		return err
	}
	plan.offered = zones
	if ids := c.Subnets(); len(ids) > 0 {
		plan.subnets, err = a.namedSubnets(ctx, c, ids, tf, zones)
	} else {
		plan.subnets, err = a.defaultSubnets(ctx, c, tf, zones)
	}
	return err
}

// offeredZones asks DescribeInstanceTypeOfferings where each type is
// offered, and refuses a type offered nowhere in the region (a typo, or a
// type this region lacks).
func (a *api) offeredZones(ctx context.Context, c *config.Cluster, tf []typeField) (map[string]map[string]bool, error) {
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
			return nil, c.ItemError(t.field, t.itype, fmt.Sprintf("%s %q is not offered in region %s; check the name (`aws ec2 describe-instance-type-offerings --region %s` lists them)",
				t.field, t.itype, a.region, a.region))
		}
	}
	return zones, nil
}

// namedSubnets looks up subnet_id's subnets, which must all exist and lie
// in one VPC.
func (a *api) namedSubnets(ctx context.Context, c *config.Cluster, ids []string, tf []typeField, zones map[string]map[string]bool) ([]subnetInfo, error) {
	out, err := a.ec2.DescribeSubnets(ctx, &awsec2.DescribeSubnetsInput{SubnetIds: ids})
	if notFound(err) || isCode(err, "InvalidSubnetID.Malformed") || (err == nil && len(out.Subnets) < len(ids)) {
		if len(ids) == 1 {
			return nil, c.FieldError("subnet_id", fmt.Sprintf("subnet_id %q does not exist in region %s; check the id and region_name", ids[0], a.region))
		}
		msg := fmt.Sprintf("subnet_id lists a subnet that does not exist in region %s (%s); check the ids and region_name", a.region, describeErr(err, ids))
		if err == nil {
			return nil, c.ItemError("subnet_id", missingSubnet(ids, out.Subnets), msg)
		}
		return nil, c.FieldError("subnet_id", msg)
	}
	if err != nil {
		return nil, explain("look up subnet_id "+strings.Join(ids, ", "), "ec2:DescribeSubnets", err)
	}
	byID := map[string]subnetInfo{}
	for _, s := range out.Subnets {
		byID[aws.ToString(s.SubnetId)] = subnetOf(s)
	}
	subnets := make([]subnetInfo, 0, len(ids))
	for _, id := range ids {
		sn := byID[id]
		if sn.vpc != byID[ids[0]].vpc {
			return nil, c.ItemError("subnet_id", id, fmt.Sprintf("subnet_id lists %s in %s and %s in %s; list subnets of one VPC, since the run's security group is made in one",
				ids[0], byID[ids[0]].vpc, id, sn.vpc))
		}
		subnets = append(subnets, sn)
	}
	for _, t := range tf {
		var in []string
		for _, sn := range subnets {
			if zones[t.itype][sn.az] {
				in = append(in, sn.az)
			}
		}
		if len(in) > 0 {
			continue
		}
		if len(subnets) == 1 {
			return nil, c.ItemError(t.field, t.itype, fmt.Sprintf("%s %q is not offered in %s, the zone of subnet_id %q; it is offered in %s: choose a subnet_id there, or another type",
				t.field, t.itype, subnets[0].az, subnets[0].id, strings.Join(sortedKeys(zones[t.itype]), ", ")))
		}
		return nil, c.ItemError(t.field, t.itype, fmt.Sprintf("%s %q is not offered in any zone of subnet_id (%s); it is offered in %s: add a subnet there to subnet_id, or remove the type",
			t.field, t.itype, strings.Join(subnetZones(subnets), ", "), strings.Join(sortedKeys(zones[t.itype]), ", ")))
	}
	return subnets, nil
}

// missingSubnet is the first of ids that DescribeSubnets did not return.
func missingSubnet(ids []string, found []types.Subnet) string {
	for _, id := range ids {
		if !slices.ContainsFunc(found, func(s types.Subnet) bool { return aws.ToString(s.SubnetId) == id }) {
			return id
		}
	}
	return ""
}

// describeErr names the ids DescribeSubnets did not find.
func describeErr(err error, ids []string) string {
	if err != nil {
		return err.Error()
	}
	return "asked for " + strings.Join(ids, ", ")
}

func subnetZones(subnets []subnetInfo) []string {
	out := make([]string, len(subnets))
	for i, sn := range subnets {
		out[i] = sn.az
	}
	return out
}

// defaultSubnets are the default VPC's default subnets, one per zone, in
// zone order, of the zones that offer a type of each role.
func (a *api) defaultSubnets(ctx context.Context, c *config.Cluster, tf []typeField, zones map[string]map[string]bool) ([]subnetInfo, error) {
	out, err := a.ec2.DescribeSubnets(ctx, &awsec2.DescribeSubnetsInput{
		Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}},
	})
	if err != nil {
		return nil, explain("find the default subnets", "ec2:DescribeSubnets", err)
	}
	if len(out.Subnets) == 0 {
		// On the file as a whole: the fix is a field it does not give yet.
		return nil, c.FieldError("subnet_id", fmt.Sprintf("region %s has no default VPC; set subnet_id in the cluster file to a subnet whose instances get a public address (or set use_private_ip)", a.region))
	}
	subnets := make([]subnetInfo, len(out.Subnets))
	for i, s := range out.Subnets {
		subnets[i] = subnetOf(s)
	}
	sort.Slice(subnets, func(i, j int) bool { return subnets[i].az < subnets[j].az })
	var usable []subnetInfo
	for _, sn := range subnets {
		if offersEachRole(c, zones, sn.az) {
			usable = append(usable, sn)
		}
	}
	if len(usable) == 0 {
		return nil, c.FieldError("subnet_id", fmt.Sprintf("no zone of region %s with a default subnet offers all of %s; set subnet_id to a subnet in a zone that does",
			a.region, describeTypes(tf)))
	}
	return usable, nil
}

// offersEachRole reports whether az offers one of the orchestrator's types
// and one of the factories'.
func offersEachRole(c *config.Cluster, zones map[string]map[string]bool, az string) bool {
	for _, n := range c.Roles() {
		if len(n.Types) > 0 && !slices.ContainsFunc(n.Types, func(t string) bool { return zones[t][az] }) {
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
func (a *api) namedGroup(ctx context.Context, c *config.Cluster, group, vpc string) (string, error) {
	in := &awsec2.DescribeSecurityGroupsInput{GroupIds: []string{group}}
	if !strings.HasPrefix(group, "sg-") {
		in = &awsec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
			{Name: aws.String("group-name"), Values: []string{group}},
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
		}}
	}
	out, err := a.ec2.DescribeSecurityGroups(ctx, in)
	if notFound(err) || isCode(err, "InvalidGroupId.Malformed") || (err == nil && len(out.SecurityGroups) == 0) {
		return "", c.FieldError("security_group", fmt.Sprintf("security_group %q does not exist in VPC %s of region %s; name an existing group, or leave security_group out and sear makes one per run", group, vpc, a.region))
	}
	if err != nil {
		return "", explain("look up security_group "+group, "ec2:DescribeSecurityGroups", err)
	}
	g := out.SecurityGroups[0]
	if v := aws.ToString(g.VpcId); v != vpc {
		return "", c.FieldError("security_group", fmt.Sprintf("security_group %q is in VPC %s, but the nodes' subnet is in VPC %s; they must be in the same VPC", group, v, vpc))
	}
	return aws.ToString(g.GroupId), nil
}
