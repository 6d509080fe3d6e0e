package plan

import (
	"github.com/sear-ci/sear/internal/config"
)

// Policies are the IAM documents the role sear assumes needs.
type Policies struct {
	Permissions Document `json:"permissions"`
	Trust       Document `json:"trust"`
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
const repoTag = "sear:repository"

// policies builds least-privilege permissions for exactly the calls that
// package cloud/ec2 makes (keep the two in step): creation only with sear's
// tags in the request, tagging only as part of creation, changes and deletes
// only on resources tagged for this repository. Describe calls do not
// support resource-level permissions in EC2, so they stay on "*".
func policies(c *config.Cluster, repo, region string) *Policies {
	if region == "" {
		region = "*"
	}
	arn := func(kind string) string { return "arn:aws:ec2:" + region + ":*:" + kind + "/*" }
	launched := []string{arn("instance"), arn("volume"), arn("network-interface")}
	if c.Spot {
		launched = append(launched, arn("spot-instances-request"))
	}
	ownTag := map[string]any{"StringEquals": map[string]any{"aws:RequestTag/" + repoTag: repo}}
	perm := Document{Version: "2012-10-17", Statement: []Statement{
		{Sid: "LaunchOnlyTaggedInstances", Effect: "Allow", Action: []string{"ec2:RunInstances"}, Resource: launched, Condition: ownTag},
		{Sid: "LaunchFromImagesSubnetsGroups", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{"arn:aws:ec2:" + region + "::image/*", arn("subnet"), arn("security-group")}},
		{Sid: "TagOnlyAtCreation", Effect: "Allow", Action: []string{"ec2:CreateTags"},
			Resource:  append(append([]string(nil), launched...), arn("security-group")),
			Condition: map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": []string{"RunInstances", "CreateSecurityGroup"}}}},
		{Sid: "ManageOnlyOwnResources", Effect: "Allow",
			Action:    []string{"ec2:TerminateInstances", "ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup"},
			Resource:  []string{arn("instance"), arn("security-group")},
			Condition: map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + repoTag: repo}}},
		{Sid: "Describe", Effect: "Allow", Resource: []string{"*"},
			Action: []string{"ec2:DescribeInstances", "ec2:DescribeSecurityGroups", "ec2:DescribeImages", "ec2:DescribeSubnets", "ec2:DescribeInstanceTypeOfferings"}},
	}}
	if c.SecurityGroup == "" {
		perm.Statement = append(perm.Statement[:2], append([]Statement{
			{Sid: "CreateOnlyTaggedSecurityGroups", Effect: "Allow", Action: []string{"ec2:CreateSecurityGroup"}, Resource: []string{arn("security-group")}, Condition: ownTag},
			{Sid: "CreateSecurityGroupsInVPCs", Effect: "Allow", Action: []string{"ec2:CreateSecurityGroup"}, Resource: []string{arn("vpc")}},
		}, perm.Statement[2:]...)...)
	}
	if c.IAMInstanceProfile != "" {
		perm.Statement = append(perm.Statement, Statement{Sid: "PassNodeRoleToEC2", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource: []string{"arn:aws:iam::*:role/*"}, Condition: map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "ec2.amazonaws.com"}}})
	}
	return &Policies{Permissions: perm, Trust: trust(repo)}
}

// GitHubOIDCIssuer is the issuer of the Actions OIDC tokens; the role's
// trust policy names its provider.
const GitHubOIDCIssuer = "token.actions.githubusercontent.com"

// trust lets only this repository's workflows assume the role, with tokens
// minted for STS.
func trust(repo string) Document {
	return Document{Version: "2012-10-17", Statement: []Statement{{
		Sid: "GitHubActionsOIDC", Effect: "Allow",
		Principal: map[string]any{"Federated": "arn:aws:iam::<ACCOUNT_ID>:oidc-provider/" + GitHubOIDCIssuer},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]any{
			"StringEquals": map[string]any{GitHubOIDCIssuer + ":aud": "sts.amazonaws.com"},
			"StringLike":   map[string]any{GitHubOIDCIssuer + ":sub": "repo:" + repo + ":*"},
		},
	}}}
}
