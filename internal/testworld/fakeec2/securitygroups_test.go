package fakeec2

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func sshFrom(cidr string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []types.IpRange{{CidrIp: aws.String(cidr)}}}
}

func allFrom(groupID string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(groupID)}}}
}

func (f *fixture) createGroup(t *testing.T, name string, tags ...types.Tag) string {
	t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("sear cluster " + name)}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{tagSpec(types.ResourceTypeSecurityGroup, tags...)}
	}
	out, err := f.client.CreateSecurityGroup(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateSecurityGroup: %v", err)
	}
	return aws.ToString(out.GroupId)
}

// TestClusterSecurityGroup walks sear's per-run group: SSH from the runner,
// everything within the group, refused deletion while instances use it.
func TestClusterSecurityGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sg := f.createGroup(t, "sear-run-1", tag("sear:run-id", "1"))
	_, err := f.client.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("sear-run-1"), Description: aws.String("again")})
	wantCode(t, err, "InvalidGroup.Duplicate")

	auth, err := f.client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg),
		IpPermissions: []types.IpPermission{sshFrom("203.0.113.7/32"), allFrom(sg)}})
	if err != nil || !aws.ToBool(auth.Return) || len(auth.SecurityGroupRules) != 2 {
		t.Fatalf("authorize: %v %+v", err, auth)
	}
	_, err = f.client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg),
		IpPermissions: []types.IpPermission{sshFrom("203.0.113.7/32")}})
	wantCode(t, err, "InvalidPermission.Duplicate")
	checkGroupRules(t, f, sg)

	inst := ids(f.run(t, func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{sg} }))[0]
	_, err = f.client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg)})
	wantCode(t, err, "DependencyViolation")
	if _, err := f.client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg)})
	wantCode(t, err, "DependencyViolation") // shutting-down still holds the group
	f.waitTerminated(t, inst)
	if _, err := f.client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg)}); err != nil {
		t.Fatalf("delete after termination: %v", err)
	}
	_, err = f.client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg)})
	wantCode(t, err, "InvalidGroup.NotFound")
	_, err = f.client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sg}})
	wantCode(t, err, "InvalidGroup.NotFound")
	if g := f.srv.State().SecurityGroups[1]; !g.Deleted || g.ID != sg || len(g.Ingress) != 2 {
		t.Errorf("state of the deleted group = %+v", g)
	}
}

func checkGroupRules(t *testing.T, f *fixture, sg string) {
	t.Helper()
	out, err := f.client.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{filterOf("tag:sear:run-id", "1"), filterOf("group-name", "sear-*")}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("describe by tag: %v, %+v", err, out)
	}
	g := out.SecurityGroups[0]
	if aws.ToString(g.GroupId) != sg || len(g.IpPermissions) != 2 || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("group = %+v", g)
	}
	ssh, self := g.IpPermissions[0], g.IpPermissions[1]
	if aws.ToInt32(ssh.FromPort) != 22 || aws.ToString(ssh.IpRanges[0].CidrIp) != "203.0.113.7/32" {
		t.Errorf("ssh rule = %+v", ssh)
	}
	if aws.ToString(self.IpProtocol) != "-1" || aws.ToString(self.UserIdGroupPairs[0].GroupId) != sg || self.FromPort != nil {
		t.Errorf("self rule = %+v", self)
	}
}

func TestRevokeIngress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	sg := f.createGroup(t, "revoke")
	if _, err := f.client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg),
		IpPermissions: []types.IpPermission{sshFrom("10.0.0.0/8")}}); err != nil {
		t.Fatal(err)
	}
	out, err := f.client.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(sg),
		IpPermissions: []types.IpPermission{sshFrom("10.0.0.0/8"), sshFrom("192.0.2.0/24")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.RevokedSecurityGroupRules) != 1 || len(out.UnknownIpPermissions) != 1 ||
		aws.ToString(out.UnknownIpPermissions[0].IpRanges[0].CidrIp) != "192.0.2.0/24" {
		t.Errorf("revoked %+v, unknown %+v", out.RevokedSecurityGroupRules, out.UnknownIpPermissions)
	}
}

func TestSecurityGroupErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.createGroup(t, "a"), f.createGroup(t, "b")
	if _, err := f.client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(b),
		IpPermissions: []types.IpPermission{allFrom(a)}}); err != nil {
		t.Fatal(err)
	}
	def, err := f.client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"referenced by another group", deleteGroup(f, a), "DependencyViolation"},
		{"default group", deleteGroup(f, aws.ToString(def.SecurityGroups[0].GroupId)), "CannotDelete"},
		{"malformed id", deleteGroup(f, "web"), "InvalidGroupId.Malformed"},
		{"unknown id", deleteGroup(f, "sg-0123456789abcdef0"), "InvalidGroup.NotFound"},
		{"name like an id", func() error {
			_, err := f.client.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("sg-1"), Description: aws.String("x")})
			return err
		}, "InvalidParameterValue"},
		{"bad CIDR", authorize(f, a, sshFrom("10.0.0.300/8")), "InvalidParameterValue"},
		{"unknown peer group", authorize(f, a, allFrom("sg-0123456789abcdef0")), "InvalidGroup.NotFound"},
		{"bad port range", authorize(f, a, types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(100), ToPort: aws.Int32(99),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}), "InvalidParameterValue"},
		{"unknown protocol", authorize(f, a, types.IpPermission{IpProtocol: aws.String("sctp-ish"),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}), "InvalidParameterValue"},
		{"dry run", func() error {
			_, err := f.client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(b), DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantCode(t, c.call(), c.code) })
	}
}

func deleteGroup(f *fixture, id string) func() error {
	return func() error {
		_, err := f.client.DeleteSecurityGroup(context.Background(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		return err
	}
}

func authorize(f *fixture, id string, perm types.IpPermission) func() error {
	return func() error {
		_, err := f.client.AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId: aws.String(id), IpPermissions: []types.IpPermission{perm}})
		return err
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	inst := ids(f.run(t))[0]
	sg := f.createGroup(t, "tagged")
	if _, err := f.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{inst, sg},
		Tags: []types.Tag{tag("sear:expires-at", "2030-01-01T00:00:00Z"), tag("Name", "x")}}); err != nil {
		t.Fatal(err)
	}
	if got := tagMap(f.describe(t, inst).Tags); got["sear:expires-at"] != "2030-01-01T00:00:00Z" || got["Name"] != "x" {
		t.Errorf("instance tags = %v", got)
	}
	if _, err := f.client.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{inst},
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("not-x")}, {Key: aws.String("sear:expires-at")}}}); err != nil {
		t.Fatal(err)
	}
	if got := tagMap(f.describe(t, inst).Tags); len(got) != 1 || got["Name"] != "x" {
		t.Errorf("after DeleteTags, tags = %v (a value mismatch keeps the tag, a bare key removes it)", got)
	}
	groups := f.describeGroupsByTag(t, "Name", "x")
	if len(groups) != 1 || groups[0] != sg {
		t.Errorf("groups tagged Name=x: %v", groups)
	}
	_, err := f.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []types.Tag{tag("k", "v")}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = f.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{inst}, Tags: []types.Tag{tag("aws:x", "v")}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = f.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{inst}, Tags: manyTags(50)})
	wantCode(t, err, "TagLimitExceeded") // 50 new plus the one it has
	_, err = f.client.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"bucket-1"}, Tags: []types.Tag{tag("k", "v")}})
	wantCode(t, err, "InvalidID")
}

func (f *fixture) describeGroupsByTag(t *testing.T, k, v string) []string {
	t.Helper()
	out, err := f.client.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters: []types.Filter{filterOf("tag:"+k, v)}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range out.SecurityGroups {
		got = append(got, aws.ToString(g.GroupId))
	}
	return got
}
