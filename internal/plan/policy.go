package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
)

// Policies are the IAM documents the role sear assumes needs.
type Policies struct {
	Permissions Document `json:"permissions"`
	Trust       Document `json:"trust"`
	// Scope says, one line each, what the two documents pin and what they
	// cannot, and which flag or cluster file field changes it: the
	// policies are only as narrow as the files they were made from.
	Scope []string `json:"scope"`
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// repoTag is the tag every resource sear creates carries; the policy lets
// the role touch only resources that carry this repository's value.
const repoTag = cloud.TagRepository

// requiredTags are the other tags every resource sear creates carries
// (cloud.Tags): teardown, the post step and sweep find what a run left
// behind by them, so the policy refuses to create anything without them.
var requiredTags = []string{cloud.TagClusterID, cloud.TagRunID, cloud.TagExpiresAt}

// AccountPlaceholder stands for the AWS account in ARNs that cannot say
// "*" and that sear cannot know offline; the README's set-up replaces it.
const AccountPlaceholder = "<ACCOUNT_ID>"

// NodeRoleFlag is the sear plan flag that names the role of the cluster
// file's instance profile, for the messages that point at it.
const NodeRoleFlag = "--node-role"

// partition is the ARN partition of a region: IAM and EC2 ARNs in China
// and GovCloud do not start with arn:aws.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// oneOrMany is a condition value as a person writes it: a string for one
// value, a list for several.
func oneOrMany(values []string) any {
	if len(values) == 1 {
		return values[0]
	}
	return values
}

// sortedSet is values without duplicates or empty strings, sorted.
func sortedSet(values ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// taggedAtCreation is the condition that a created resource carries this
// repository's tag and sear's other tags in the request; extra adds
// StringEquals keys. aws:RequestTag is evaluated per resource type of a
// RunInstances call, so a statement with it may name only resources the
// call tags (instances, volumes, network interfaces, spot requests).
func taggedAtCreation(repo string, extra map[string]any) map[string]any {
	equals := map[string]any{"aws:RequestTag/" + repoTag: repo}
	for k, v := range extra {
		equals[k] = v
	}
	present := map[string]any{}
	for _, k := range requiredTags {
		present["aws:RequestTag/"+k] = "false"
	}
	return map[string]any{"StringEquals": equals, "Null": present}
}

// policyInput is what the permission and trust policies are made from.
type policyInput struct {
	cluster  *config.Cluster
	repo     string
	region   string // "" when unknown: the ARNs say "*"
	nodeRole string // --node-role; "" means the instance profile's name
	trust    Trust
}

// policies builds least-privilege permissions for exactly the calls that
// package cloud/ec2 makes (keep the two in step): creation only with sear's
// tags in the request, tagging only as part of creation, changes and deletes
// only on resources tagged for this repository, and launches only of what
// the cluster file names: its instance types, its AMIs (or Canonical's), its
// subnet and security group, with IMDSv2 required, passing only its
// instance profile's role. A pull request that edits the cluster file to
// launch something else is refused by IAM until someone with IAM rights
// deploys a policy made from the edited file. Describe calls do not support
// resource-level permissions in EC2, so they stay on "*".
func policies(in policyInput) *Policies {
	c, repo := in.cluster, in.repo
	region := in.region
	if region == "" {
		region = "*"
	}
	part := partition(in.region)
	arn := func(kind, id string) string { return "arn:" + part + ":ec2:" + region + ":*:" + kind + "/" + id }
	var scope []string

	// Every type the capacity failover may launch (the lists' alternates
	// too): a type left out would be denied exactly when failover needs it.
	types := sortedSet(append(c.OrchestratorTypeChoices(), c.FactoriesTypeChoices()...)...)
	scope = append(scope, fmt.Sprintf("instance types: only %s (orchestrator_type, factories_type), with IMDSv2 required", strings.Join(types, ", ")))
	launch := []Statement{
		{Sid: "LaunchOnlyTaggedIMDSv2Instances", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{arn("instance", "*")},
			Condition: taggedAtCreation(repo, map[string]any{
				"ec2:InstanceType": oneOrMany(types),
				// sear launches with HttpTokens required (cloud/ec2,
				// runInput): the nodes' credentials need IMDSv2's token.
				"ec2:MetadataHttpTokens": "required",
			})},
	}
	created := []string{arn("volume", "*"), arn("network-interface", "*")}
	if c.Spot {
		created = append(created, arn("spot-instances-request", "*"))
	}
	launch = append(launch, Statement{Sid: "LaunchOnlyTaggedVolumesAndInterfaces", Effect: "Allow", Action: []string{"ec2:RunInstances"},
		Resource: created, Condition: taggedAtCreation(repo, nil)})
	imgs, imgScope := imageStatements(c, part, region)
	launch = append(launch, imgs...)
	if gpuDefaultImage(c) {
		launch = append(launch, dlamiStatements(part, region)...)
	}
	scope = append(scope, imgScope)
	sn, snScope := subnetStatement(c, arn)
	launch = append(launch, sn)
	scope = append(scope, snScope)
	sg, sgScope := groupStatement(c, repo, arn)
	launch = append(launch, sg)
	scope = append(scope, sgScope)

	tagged := append(append([]string{arn("instance", "*")}, created...), arn("security-group", "*"))
	perm := Document{Version: "2012-10-17", Statement: launch}
	if c.SecurityGroup == "" {
		perm.Statement = append(perm.Statement,
			Statement{Sid: "CreateOnlyTaggedSecurityGroups", Effect: "Allow", Action: []string{"ec2:CreateSecurityGroup"},
				Resource: []string{arn("security-group", "*")}, Condition: taggedAtCreation(repo, nil)},
			Statement{Sid: "CreateSecurityGroupsInVPCs", Effect: "Allow", Action: []string{"ec2:CreateSecurityGroup"}, Resource: []string{arn("vpc", "*")}})
	}
	perm.Statement = append(perm.Statement,
		Statement{Sid: "TagOnlyAtCreation", Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: tagged,
			Condition: map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": []string{"RunInstances", "CreateSecurityGroup"}}}},
		Statement{Sid: "ManageOnlyOwnResources", Effect: "Allow",
			Action:    []string{"ec2:TerminateInstances", "ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup"},
			Resource:  []string{arn("instance", "*"), arn("security-group", "*")},
			Condition: map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + repoTag: repo}}},
		Statement{Sid: "Describe", Effect: "Allow", Resource: []string{"*"}, Action: describeActions(c)})
	if c.CheckQuotas {
		// Read-only, and only the caller's own limits; "*" because a quota's ARN holds the account,
		// which sear plan cannot know offline, and the check reads whichever quota the types count
		// against (package cloud/ec2, checkQuotas).
		perm.Statement = append(perm.Statement, Statement{Sid: "ReadVcpuQuotas", Effect: "Allow",
			Action: []string{"servicequotas:GetServiceQuota"}, Resource: []string{"*"}})
		scope = append(scope, "servicequotas:GetServiceQuota: read-only, for check_quotas; leave check_quotas out to drop it")
	}
	if c.LivePrices {
		// The Price List API has no resources to name ("Actions, resources, and condition keys
		// for AWS Price List": every action is on "*"), and it reads public prices only.
		perm.Statement = append(perm.Statement, Statement{Sid: "ReadPrices", Effect: "Allow",
			Action: []string{"pricing:GetProducts"}, Resource: []string{"*"}})
		scope = append(scope, "pricing:GetProducts: read-only public prices, for live_prices; leave live_prices out to drop it")
	}
	if pass, passScope := passRole(c, part, in.nodeRole); pass != nil {
		perm.Statement = append(perm.Statement, *pass)
		scope = append(scope, passScope)
	} else {
		scope = append(scope, "iam:PassRole: none, so the nodes launch with no instance profile and hold no AWS credentials (iam_instance_profile adds PassRole on its role only)")
	}
	trustDoc, trustScope := trust(repo, in.trust)
	return &Policies{Permissions: perm, Trust: trustDoc, Scope: append(scope, trustScope)}
}

// clusterNode is one kind of node of a cluster file: its instance type
// and the AMI it names ("" for sear's default).
type clusterNode struct{ itype, ami string }

// Each instance type a role may launch on is a kind of its own: the
// image sear picks depends on the type (a GPU type gets the Deep Learning
// AMI), and failover may reach any of them.
func clusterNodes(c *config.Cluster) []clusterNode {
	var out []clusterNode
	for _, n := range c.Roles() {
		for _, t := range n.Types {
			out = append(out, clusterNode{t, n.AMI})
		}
	}
	return out
}

// gpuDefaultImage reports whether some node of c has an NVIDIA GPU type
// and no AMI named, so that sear resolves the Deep Learning AMI for it
// with ssm:GetParameter (package cloud/ec2, gpuImage).
func gpuDefaultImage(c *config.Cluster) bool {
	for _, n := range clusterNodes(c) {
		if n.ami == "" && ec2.GPUInstanceType(n.itype) {
			return true
		}
	}
	return false
}

// describeActions are the Describe calls sear makes for c:
// DescribeInstanceTypes only when a node has a GPU type, whose GPUs sear
// counts with it (typeInfos), or check_quotas is set, whose check counts
// vCPUs with it (checkQuotas); DescribeSpotPriceHistory only for a spot
// cluster with live_prices.
func describeActions(c *config.Cluster) []string {
	out := []string{"ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeImages", "ec2:DescribeSubnets", "ec2:DescribeInstanceTypeOfferings"}
	if c.LivePrices && c.Spot {
		// live_prices reads a spot cluster's Spot prices (package pricelist).
		out = append(out, "ec2:DescribeSpotPriceHistory")
	}
	if c.CheckQuotas {
		return append(out, "ec2:DescribeInstanceTypes")
	}
	for _, n := range clusterNodes(c) {
		if ec2.GPUInstanceType(n.itype) {
			return append(out, "ec2:DescribeInstanceTypes")
		}
	}
	return out
}

// DLAMIOwners are the values of ec2:Owner for the Deep Learning AMIs:
// Amazon publishes them from account 898082745236 under the owner alias
// "amazon" (the DLAMI Developer Guide's "Finding the ID of a DLAMI" finds
// them with describe-images --owners amazon). The condition admits both,
// since the key may carry either form of an AWS-owned image's owner.
var DLAMIOwners = []string{"amazon", "898082745236"}

// dlamiStatements let the role read AWS's public Deep Learning AMI
// parameters, and nothing else of Parameter Store, and launch the images
// Amazon publishes. Public parameters live in no account, so their ARNs
// have an empty account field (arn:aws:ssm:REGION::parameter/aws/service/…),
// the form AWS's own examples and Karpenter's controller policy use.
func dlamiStatements(part, region string) []Statement {
	return []Statement{
		{Sid: "LaunchFromDeepLearningImages", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource:  []string{"arn:" + part + ":ec2:" + region + "::image/*"},
			Condition: map[string]any{"StringEquals": map[string]any{"ec2:Owner": DLAMIOwners}}},
		{Sid: "ReadDeepLearningImageParameters", Effect: "Allow", Action: []string{"ssm:GetParameter"},
			Resource: []string{"arn:" + part + ":ssm:" + region + "::parameter" + strings.TrimSuffix(ec2.DLAMIParameterPath, "/") + "/*"}},
	}
}

// imageStatements lets the role launch only the AMIs the cluster file
// names, by ARN, and, for the nodes of a CPU type whose AMI it leaves out,
// only images Canonical publishes: sear resolves the newest Ubuntu 22.04
// at launch (DescribeImages, owner ec2.CanonicalOwner), whose id changes
// with every release, so the owner is as far as the policy can pin it.
// GPU nodes without an AMI get dlamiStatements instead.
func imageStatements(c *config.Cluster, part, region string) ([]Statement, string) {
	var named []string
	canonical := false
	for _, n := range clusterNodes(c) {
		if n.ami == "" && !ec2.GPUInstanceType(n.itype) {
			canonical = true
		}
		named = append(named, n.ami)
	}
	named = sortedSet(named...)
	var out []Statement
	var scope []string
	if len(named) > 0 {
		var res []string
		for _, a := range named {
			res = append(res, "arn:"+part+":ec2:"+region+"::image/"+a)
		}
		out = append(out, Statement{Sid: "LaunchFromNamedImages", Effect: "Allow", Action: []string{"ec2:RunInstances"}, Resource: res})
		scope = append(scope, "only "+strings.Join(named, ", ")+" (orchestrator_ami, factory_ami)")
	}
	if canonical {
		out = append(out, Statement{Sid: "LaunchFromCanonicalImages", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource:  []string{"arn:" + part + ":ec2:" + region + "::image/*"},
			Condition: map[string]any{"StringEquals": map[string]any{"ec2:Owner": ec2.CanonicalOwner}}})
		scope = append(scope, "any image Canonical (account "+ec2.CanonicalOwner+") publishes, since sear finds the newest Ubuntu 22.04 at launch; name orchestrator_ami and factory_ami to pin exact AMIs")
	}
	if gpuDefaultImage(c) {
		scope = append(scope, "for the GPU nodes without an AMI, any image Amazon publishes, since sear finds the newest Deep Learning Base OSS Nvidia Driver GPU AMI at launch "+
			"from AWS's public parameter (ssm:GetParameter on "+ec2.DLAMIParameterPath+"* only); name the AMI to pin it and drop both")
	}
	return out, "images: " + strings.Join(scope, "; ")
}

// subnetStatement pins the cluster file's subnet_id. Without one, sear
// picks a default subnet at launch in a zone that offers the instance
// types, which the policy cannot know.
func subnetStatement(c *config.Cluster, arn func(kind, id string) string) (Statement, string) {
	st := Statement{Sid: "LaunchIntoSubnet", Effect: "Allow", Action: []string{"ec2:RunInstances"}, Resource: []string{arn("subnet", "*")}}
	if subnets := c.Subnets(); len(subnets) > 0 {
		// Every subnet the capacity failover may try.
		st.Resource = nil
		for _, id := range subnets {
			st.Resource = append(st.Resource, arn("subnet", id))
		}
		return st, "subnet: only " + strings.Join(subnets, ", ") + " (subnet_id)"
	}
	return st, "subnet: any in the region, since sear picks a default subnet at launch; set subnet_id to pin one"
}

// groupStatement pins the security group the nodes launch in: the one
// sear creates per run, which is the only kind that carries this
// repository's tag, or the cluster file's security_group by id. A group
// given by name cannot be pinned: security group ARNs hold ids, and EC2
// has no condition key for a group's name.
func groupStatement(c *config.Cluster, repo string, arn func(kind, id string) string) (Statement, string) {
	st := Statement{Sid: "LaunchInSecurityGroup", Effect: "Allow", Action: []string{"ec2:RunInstances"}, Resource: []string{arn("security-group", "*")}}
	switch g := c.SecurityGroup; {
	case g == "":
		st.Condition = map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + repoTag: repo}}
		return st, "security group: only groups tagged " + repoTag + "=" + repo + ", which is the one sear creates for each run"
	case strings.HasPrefix(g, "sg-"):
		st.Resource = []string{arn("security-group", g)}
		return st, "security group: only " + g + " (security_group)"
	default:
		return st, fmt.Sprintf("security group: ANY in the region, because security_group %q is a name and IAM pins security groups by id only; write its id (sg-…) to pin it", g)
	}
}

// passRole lets the role pass the instance profile's role, and no other,
// to EC2. RunInstances with an instance profile is authorised by
// iam:PassRole on the profile's role (the profile itself is not a resource
// of the call), and the role's name cannot be read offline: sear assumes
// the AWS console's convention, where a role made for EC2 gets an instance
// profile of the same name, unless --node-role names it.
func passRole(c *config.Cluster, part, nodeRole string) (*Statement, string) {
	prof := c.IAMInstanceProfile
	if prof == "" {
		return nil, ""
	}
	account, profName := AccountPlaceholder, prof
	if strings.HasPrefix(prof, "arn:") {
		// arn:PARTITION:iam::ACCOUNT:instance-profile/[PATH/]NAME
		fields := strings.SplitN(prof, ":", 6)
		if len(fields) == 6 {
			part, account = fields[1], fields[4]
			profName = fields[5][strings.LastIndex(fields[5], "/")+1:]
		}
	}
	role, how := nodeRole, "named with "+NodeRoleFlag
	if role == "" {
		role = profName
		how = "assumed to have the instance profile's name, as the AWS console makes them; if it has another, run sear plan " + NodeRoleFlag + " ROLE"
	}
	roleARN := role
	if !strings.HasPrefix(role, "arn:") {
		roleARN = "arn:" + part + ":iam::" + account + ":role/" + role
	}
	st := &Statement{Sid: "PassNodeRoleToEC2", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: []string{roleARN},
		Condition: map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}}
	return st, fmt.Sprintf("iam:PassRole: only role %s, the role of instance profile %s (iam_instance_profile), %s", roleARN, prof, how)
}

// GitHubOIDCIssuer is the issuer of the Actions OIDC tokens; the role's
// trust policy names its provider.
const GitHubOIDCIssuer = "token.actions.githubusercontent.com"

// Trust says which of the repository's workflow runs may assume the role,
// by the sub claim GitHub puts in their OIDC tokens ("OpenID Connect
// reference", example subject claims): a job with an environment gets
// repo:OWNER/REPO:environment:NAME whatever its event; otherwise a
// pull_request event gets repo:OWNER/REPO:pull_request, and any other event
// (push, workflow_dispatch, schedule) repo:OWNER/REPO:ref:REF.
type Trust struct {
	PullRequests bool     // pull_request events, the README's main workflow
	Branches     []string // branch names, or full refs (refs/tags/v*)
	Environments []string // environment names
}

// DefaultTrust admits the pull_request workflow and nothing else: the
// narrowest trust the README's main workflow runs with.
var DefaultTrust = Trust{PullRequests: true}

// Subjects are the sub claims t admits for repo.
func (t Trust) Subjects(repo string) []string {
	var out []string
	if t.PullRequests {
		out = append(out, "repo:"+repo+":pull_request")
	}
	for _, b := range t.Branches {
		if !strings.HasPrefix(b, "refs/") {
			b = "refs/heads/" + b
		}
		out = append(out, "repo:"+repo+":ref:"+b)
	}
	for _, e := range t.Environments {
		// GitHub writes a ":" inside a claim's value as %3A, so that the
		// sub splits at its own colons only.
		out = append(out, "repo:"+repo+":environment:"+strings.ReplaceAll(e, ":", "%3A"))
	}
	return out
}

// trust lets only this repository's workflow runs that t names assume the
// role, with tokens minted for STS. Exact subjects use StringEquals; a
// wildcard ("*", "?") in any of them needs StringLike for all, since two
// operators on the same key would both have to match.
func trust(repo string, t Trust) (Document, string) {
	subs := t.Subjects(repo)
	equals := map[string]any{GitHubOIDCIssuer + ":aud": "sts.amazonaws.com"}
	cond := map[string]any{"StringEquals": equals}
	if strings.ContainsAny(strings.Join(subs, ""), "*?") {
		cond["StringLike"] = map[string]any{GitHubOIDCIssuer + ":sub": oneOrMany(subs)}
	} else {
		equals[GitHubOIDCIssuer+":sub"] = oneOrMany(subs)
	}
	doc := Document{Version: "2012-10-17", Statement: []Statement{{
		Sid: "GitHubActionsOIDC", Effect: "Allow",
		Principal: map[string]any{"Federated": "arn:aws:iam::" + AccountPlaceholder + ":oidc-provider/" + GitHubOIDCIssuer},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: cond,
	}}}
	scope := "trust: only " + strings.Join(subs, ", ") + "; add --trust-branch main for workflow_dispatch and schedule runs on main, " +
		"--trust-environment NAME for a job with environment: NAME (whatever its event), --trust-pull-requests=false to drop pull requests"
	return doc, scope
}
