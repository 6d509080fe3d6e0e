package ec2

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/config"
)

// checkNamedGroup refuses, before anything is launched, a cluster file's
// security_group that does not let sear reach the nodes: sear connects to
// each node's port 22 from the runner's address (or from ssh_ingress_cidr),
// and without an inbound rule for it the launch would pay for nodes sear
// then waits on until its SSH deadline. With use_private_ip the runner is
// inside the VPC at an address sear does not know, so the group is not
// checked unless ssh_ingress_cidr names the range.
func (p *Provider) checkNamedGroup(ctx context.Context, a *api, c *config.Cluster, id string) error {
	if c.UsePrivateIP && c.SSHIngressCIDR == "" {
		logf(a.log, "sear: security group %s is not checked for an SSH rule: with use_private_ip sear connects from inside the VPC, from an address it does not know (set ssh_ingress_cidr to have it checked)", id)
		return nil
	}
	src, err := sshSource(ctx, c, p.opts.HTTPClient, p.opts.CheckIPURL)
	if err != nil {
		return err
	}
	out, err := a.ec2.DescribeSecurityGroups(ctx, &awsec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err == nil && len(out.SecurityGroups) == 0 {
		err = fmt.Errorf("EC2 describes no group %s", id)
	}
	if err != nil {
		return explain("read the inbound rules of security_group "+c.SecurityGroup, "ec2:DescribeSecurityGroups", err)
	}
	admits, prefixLists := admitsSSH(out.SecurityGroups[0].IpPermissions, src)
	switch {
	case admits:
		return nil
	case prefixLists:
		// Whether a managed prefix list holds the address would take
		// DescribeManagedPrefixLists and GetManagedPrefixListEntries,
		// which the policy does not grant; the rule may well admit it.
		logf(a.log, "sear: security group %s admits SSH only from prefix lists, which sear does not read; if none holds %s, the nodes will be unreachable", id, src)
		return nil
	}
	name := fmt.Sprintf("%q", c.SecurityGroup)
	if c.SecurityGroup != id {
		name += " (" + id + ")"
	}
	from := "the runner's address " + src.String()
	if c.SSHIngressCIDR != "" {
		from = "ssh_ingress_cidr " + src.String()
	}
	return fmt.Errorf("security_group %s does not admit SSH from %s, where sear connects to the nodes from: it needs an inbound rule for tcp port 22 from %s "+
		"(a rule that admits another security group does not count: the runner is in none). Add it with\n  %s\n"+
		"or set ssh_ingress_cidr to a range the group admits, or leave security_group out and sear makes a group for each run that admits SSH from the runner only",
		name, from, src, authorizeCommand(a.region, id, src))
}

// admitsSSH reports whether one of perms admits tcp port 22 from every
// address of src: a rule for tcp (protocol 6) whose port range covers 22,
// or for every protocol (-1), from a CIDR range that contains src ("Security
// group rules", EC2 User Guide). Rules from other groups admit only their
// members' private addresses, so they do not count. prefixLists says some
// rule covering port 22 names a managed prefix list instead.
func admitsSSH(perms []types.IpPermission, src netip.Prefix) (admits, prefixLists bool) {
	for _, perm := range perms {
		proto := aws.ToString(perm.IpProtocol)
		covers := proto == "-1" || proto == "all" ||
			(proto == "tcp" || proto == "6") && aws.ToInt32(perm.FromPort) <= 22 && 22 <= aws.ToInt32(perm.ToPort)
		if !covers {
			continue
		}
		var ranges []string
		if src.Addr().Is4() {
			for _, r := range perm.IpRanges {
				ranges = append(ranges, aws.ToString(r.CidrIp))
			}
		} else {
			for _, r := range perm.Ipv6Ranges {
				ranges = append(ranges, aws.ToString(r.CidrIpv6))
			}
		}
		for _, r := range ranges {
			if pf, err := netip.ParsePrefix(r); err == nil && pf.Bits() <= src.Bits() && pf.Masked().Contains(src.Addr()) {
				return true, false
			}
		}
		prefixLists = prefixLists || len(perm.PrefixListIds) > 0
	}
	return false, prefixLists
}

// authorizeCommand is the AWS CLI command that adds the rule sear needs.
func authorizeCommand(region, id string, src netip.Prefix) string {
	if src.Addr().Is4() {
		return fmt.Sprintf("aws ec2 authorize-security-group-ingress --region %s --group-id %s --protocol tcp --port 22 --cidr %s", region, id, src)
	}
	return fmt.Sprintf("aws ec2 authorize-security-group-ingress --region %s --group-id %s --ip-permissions 'IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges=[{CidrIpv6=%s}]'", region, id, src)
}
