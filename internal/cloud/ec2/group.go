package ec2

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
)

// groupName is the per-run security group's name: unique per VPC, as
// CreateSecurityGroup requires, since the cluster id is.
func groupName(clusterID string) string { return clusterID } // "sear-…" already

// groupInput is the CreateSecurityGroup request of the per-run group,
// tagged at creation like the instances.
func groupInput(spec cloud.Spec, plan *launchPlan) *awsec2.CreateSecurityGroupInput {
	name := groupName(spec.Keys.ID)
	return &awsec2.CreateSecurityGroupInput{
		GroupName:         aws.String(name),
		Description:       aws.String(fmt.Sprintf("sear cluster %s (%s), run %s: SSH from the runner, all traffic within the group", spec.Keys.ID, spec.Cluster.Name, spec.RunID)),
		VpcId:             aws.String(plan.subnet.vpc),
		TagSpecifications: tagSpecs(cloud.WithTags(plan.tags, cloud.TagName, name), types.ResourceTypeSecurityGroup),
	}
}

// securityGroup returns the group the nodes launch in: the cluster file's,
// or a new one that admits SSH from plan.ssh only and any traffic between
// its members (node to node, which the engine protects with mutual TLS).
func (p *Provider) securityGroup(ctx context.Context, a *api, spec cloud.Spec, plan *launchPlan) (string, error) {
	if plan.group != "" {
		return plan.group, nil
	}
	if p.stopping() {
		return "", errStopping
	}
	in := groupInput(spec, plan)
	id, err := a.createGroup(ctx, in)
	if err != nil {
		return "", explain("create security group "+aws.ToString(in.GroupName), "ec2:CreateSecurityGroup", err)
	}
	p.recordGroup(id)
	if err := a.authorize(ctx, id, plan.ssh); err != nil {
		return "", explain("add the rules of security group "+id, "ec2:AuthorizeSecurityGroupIngress", err)
	}
	logf(a.log, "sear: security group %s admits SSH from %s only", id, plan.ssh)
	return id, nil
}

// createGroup creates the group. CreateSecurityGroup takes no client
// token: if the SDK's retry follows an attempt whose answer was lost, the
// name is taken (InvalidGroup.Duplicate), and the group found by name is
// the one the first attempt made.
func (a *api) createGroup(ctx context.Context, in *awsec2.CreateSecurityGroupInput) (string, error) {
	out, err := a.ec2.CreateSecurityGroup(ctx, in)
	if err == nil {
		return aws.ToString(out.GroupId), nil
	}
	if !isCode(err, "InvalidGroup.Duplicate") {
		return "", err
	}
	found, ferr := a.ec2.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("group-name"), Values: []string{aws.ToString(in.GroupName)}},
		{Name: aws.String("vpc-id"), Values: []string{aws.ToString(in.VpcId)}},
	}})
	if ferr != nil || len(found.SecurityGroups) == 0 {
		return "", err
	}
	return aws.ToString(found.SecurityGroups[0].GroupId), nil
}

// authorize adds the group's two inbound rules. A rule that exists already
// (InvalidPermission.Duplicate, a retried call) is what was asked for.
func (a *api) authorize(ctx context.Context, id string, ssh netip.Prefix) error {
	sshRule := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22)}
	why := aws.String("sear: SSH from the runner")
	if ssh.Addr().Is4() {
		sshRule.IpRanges = []types.IpRange{{CidrIp: aws.String(ssh.String()), Description: why}}
	} else {
		sshRule.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String(ssh.String()), Description: why}}
	}
	// IpProtocol -1 is every protocol and port ("IpPermission").
	members := types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{
		{GroupId: aws.String(id), Description: aws.String("sear: node to node")},
	}}
	_, err := a.ec2.AuthorizeSecurityGroupIngress(ctx, &awsec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{sshRule, members},
	})
	if isCode(err, "InvalidPermission.Duplicate") {
		return nil
	}
	return err
}

// deleteGroup deletes a group once nothing uses it. EC2 refuses to delete
// a group that an instance not yet terminated still uses, and for a while
// after termination too, until the instance's network interface is
// released, with DependencyViolation ("DeleteSecurityGroup"); that is
// retried with backoff until ctx ends. A group already gone is deleted.
func (a *api) deleteGroup(ctx context.Context, id string) error {
	wait := a.timing.poller()
	var inUse error // the last DependencyViolation
	for {
		_, err := a.ec2.DeleteSecurityGroup(ctx, &awsec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		switch {
		case err == nil || notFound(err):
			return nil
		case isCode(err, "DependencyViolation"):
			inUse = err
		case ctx.Err() == nil || inUse == nil:
			return explain("delete security group "+id, "ec2:DeleteSecurityGroup", err)
		}
		if ctx.Err() != nil || !wait.wait(ctx) {
			return fmt.Errorf("delete security group %s: still in use when time ran out: %w", id, inUse)
		}
	}
}
