package plan_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/plan"
)

// testAccount replaces plan.AccountPlaceholder, as the README's set-up
// does with the account's id.
const testAccount = "123456789012"

// request is one authorisation IAM makes: an action on one resource,
// with the request's condition context (RunInstances is authorised once
// per resource it uses or creates, each with that resource's keys).
type request struct {
	action, resource string
	ctx              map[string]string
}

// allows is the subset of IAM's evaluation the policies use: Allow
// statements only, Action and Resource with "*" and "?" wildcards, and
// the StringEquals, StringLike and Null operators, whose keys must all
// hold (IAM User Guide, "Policy evaluation logic"; "Condition operators":
// a key missing from the request fails StringEquals and StringLike). An
// operator it does not know fails the test rather than allowing.
func allows(t *testing.T, doc plan.Document, r request) bool {
	t.Helper()
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || !anyLike(st.Action, r.action, true) {
			continue
		}
		if len(st.Resource) > 0 && !anyLike(st.Resource, r.resource, false) {
			continue
		}
		if conditionsHold(t, st.Condition, r.ctx) {
			return true
		}
	}
	return false
}

func anyLike(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		p = strings.ReplaceAll(p, plan.AccountPlaceholder, testAccount)
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if like(p, s) {
			return true
		}
	}
	return false
}

// like is IAM's wildcard match: "*" any run of characters, "?" one.
func like(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if like(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && like(p[1:], s[1:])
	}
	return s != "" && p[0] == s[0] && like(p[1:], s[1:])
}

func values(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	}
	panic(fmt.Sprintf("condition value %T", v))
}

func conditionsHold(t *testing.T, cond map[string]any, ctx map[string]string) bool {
	t.Helper()
	for op, block := range cond {
		for key, want := range block.(map[string]any) {
			got, present := ctx[key]
			ok := false
			switch op {
			case "StringEquals", "StringLike":
				for _, w := range values(want) {
					ok = ok || present && (got == w || op == "StringLike" && like(w, got))
				}
			case "Null":
				ok = values(want)[0] == fmt.Sprint(!present)
			default:
				t.Fatalf("the test's IAM evaluator does not know the operator %s", op)
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// launch is what package cloud/ec2 asks RunInstances for one node, as IAM
// sees it: one request per resource, with sear's tags on what it creates.
type launch struct {
	region, itype, tokens, image, imageOwner, subnet, group string
	groupTags                                               map[string]string
	spot                                                    bool
	tags                                                    map[string]string // tags requested for what the launch creates
}

// searLaunch is the launch sear makes of a node of c for repo: IMDSv2
// required, every sear tag in the request, the cluster's own group (or
// the cluster file's), the named AMI or a Canonical one.
func searLaunch(c *config.Cluster, repo string, factory bool) launch {
	l := launch{region: c.RegionName, itype: c.OrchestratorType, tokens: "required", image: c.OrchestratorAMI,
		subnet: c.SubnetID, group: c.SecurityGroup, spot: c.Spot,
		tags: map[string]string{"sear:repository": repo, "sear:cluster-id": "k7", "sear:run-id": "42", "sear:expires-at": "2030-01-01T00:00:00Z"}}
	if factory {
		l.itype, l.image = c.FactoriesType, c.FactoryAMI
	}
	if l.image == "" {
		l.image, l.imageOwner = "ami-0c0ffee0c0ffee000", ec2.CanonicalOwner
	}
	if l.subnet == "" {
		l.subnet = "subnet-0defa017"
	}
	if l.group == "" {
		l.group, l.groupTags = "sg-0ca11ed0", map[string]string{"sear:repository": repo}
	}
	return l
}

// requests are the authorisations of l.
func (l launch) requests() []request {
	arn := func(kind, id string) string {
		return "arn:aws:ec2:" + l.region + ":" + testAccount + ":" + kind + "/" + id
	}
	tagged := func(extra map[string]string) map[string]string {
		ctx := map[string]string{}
		for k, v := range l.tags {
			ctx["aws:RequestTag/"+k] = v
		}
		for k, v := range extra {
			ctx[k] = v
		}
		return ctx
	}
	imageCtx := map[string]string{}
	if l.imageOwner != "" {
		imageCtx["ec2:Owner"] = l.imageOwner
	} else {
		imageCtx["ec2:Owner"] = "999999999999" // a named AMI: the owner is whoever it is
	}
	groupCtx := map[string]string{}
	for k, v := range l.groupTags {
		groupCtx["aws:ResourceTag/"+k] = v
	}
	out := []request{
		{"ec2:RunInstances", arn("instance", "*"), tagged(map[string]string{"ec2:InstanceType": l.itype, "ec2:MetadataHttpTokens": l.tokens})},
		{"ec2:RunInstances", arn("volume", "*"), tagged(nil)},
		{"ec2:RunInstances", arn("network-interface", "*"), tagged(nil)},
		{"ec2:RunInstances", "arn:aws:ec2:" + l.region + "::image/" + l.image, imageCtx},
		{"ec2:RunInstances", arn("subnet", l.subnet), map[string]string{}},
		{"ec2:RunInstances", arn("security-group", l.group), groupCtx},
	}
	if l.spot {
		out = append(out, request{"ec2:RunInstances", arn("spot-instances-request", "*"), tagged(nil)})
	}
	return out
}

// denied returns the first of l's requests doc does not allow, or "".
func denied(t *testing.T, doc plan.Document, l launch) string {
	t.Helper()
	for _, r := range l.requests() {
		if !allows(t, doc, r) {
			return r.resource
		}
	}
	return ""
}

func loadCluster(t *testing.T, path string) *config.Cluster {
	t.Helper()
	c, err := config.LoadCluster(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadRunnable(t *testing.T, path string) *config.Runnable {
	t.Helper()
	r, err := config.LoadRunnable(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	repo         = "octo/exp"
	someRunnable = "../../examples/script/runnable.yaml"
)

func policyFor(t *testing.T, cluster string, in plan.Input) *plan.Policies {
	t.Helper()
	in.Runnable, in.Cluster, in.Repository = loadRunnable(t, someRunnable), loadCluster(t, cluster), repo
	p := plan.Make(in)
	if p.Policy == nil {
		t.Fatalf("%s: no IAM policy", cluster)
	}
	return p.Policy
}

// awsClusters are every !AWSCluster the tests know: the examples and the
// testdata.
func awsClusters(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../../examples/*/cluster.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	var out []string
	for _, f := range append(files, more...) {
		if loadCluster(t, f).Kind == config.AWS {
			out = append(out, f)
		}
	}
	if len(out) < 5 {
		t.Fatalf("found %d AWS cluster files, want the examples and the testdata", len(out))
	}
	return out
}

// TestSearsOwnLaunchIsAllowed guards the other side of narrowing: every
// request sear makes to launch each node of each cluster file is allowed
// by the policy made from that file, so tightening never breaks a run.
func TestSearsOwnLaunchIsAllowed(t *testing.T) {
	for _, f := range awsClusters(t) {
		c := loadCluster(t, f)
		perm := policyFor(t, f, plan.Input{}).Permissions
		for _, factory := range []bool{false, true} {
			if factory && c.FactoriesNum == 0 {
				continue
			}
			if r := denied(t, perm, searLaunch(c, repo, factory)); r != "" {
				t.Errorf("%s (factory %v): the policy denies sear's own launch on %s", f, factory, r)
			}
		}
		if prof := c.IAMInstanceProfile; prof != "" {
			role := "arn:aws:iam::" + testAccount + ":role/" + prof[strings.LastIndex(prof, "/")+1:]
			if !allows(t, perm, request{"iam:PassRole", role, map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}}) {
				t.Errorf("%s: the policy denies passing the profile's role %s to EC2", f, role)
			}
		}
	}
}

// TestPullRequestCannotPassAdminRole is the attack the PassRole finding
// describes. The role's policy is deployed from the cluster file on the
// default branch (instance profile sear-nodes). A pull request controls
// the cluster file the run reads, and changes iam_instance_profile to
// AdminAccess, whose role administers the account: with iam:PassRole on
// role/*, its job would run on nodes holding admin credentials. The
// deployed policy must name sear-nodes' role only, so IAM refuses to pass
// AdminAccess's role and the launch fails; and the policy made from the
// pull request's file names exactly its role, so granting it is a change
// a person with IAM rights has to make, and can read first.
func TestPullRequestCannotPassAdminRole(t *testing.T) {
	deployed := policyFor(t, "testdata/base-profile.yaml", plan.Input{}).Permissions
	admin := "arn:aws:iam::" + testAccount + ":role/AdminAccess"
	toEC2 := map[string]string{"iam:PassedToService": "ec2.amazonaws.com"}
	if allows(t, deployed, request{"iam:PassRole", admin, toEC2}) {
		t.Errorf("the deployed policy lets a pull request pass %s to its nodes", admin)
	}
	if !allows(t, deployed, request{"iam:PassRole", "arn:aws:iam::" + testAccount + ":role/sear-nodes", toEC2}) {
		t.Error("the deployed policy does not let sear pass the role of its own instance profile")
	}
	if allows(t, deployed, request{"iam:PassRole", "arn:aws:iam::" + testAccount + ":role/sear-nodes", map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}) {
		t.Error("the deployed policy lets the node role be passed to another service than EC2")
	}

	pr := policyFor(t, "testdata/pr-admin-profile.yaml", plan.Input{}).Permissions
	var pass []string
	for _, st := range pr.Statement {
		if contains(st.Action, "iam:PassRole") {
			pass = append(pass, st.Resource...)
		}
	}
	if want := "arn:aws:iam::" + plan.AccountPlaceholder + ":role/AdminAccess"; len(pass) != 1 || pass[0] != want {
		t.Errorf("the pull request's policy passes %q, want exactly [%s]", pass, want)
	}
}

// TestDeployedPolicyRefusesEditedClusterFile: a pull request that edits
// the cluster file to launch bigger instances, its own AMI, into another
// subnet or security group, without IMDSv2 or without sear's tags is
// refused by the policy deployed from the original file.
func TestDeployedPolicyRefusesEditedClusterFile(t *testing.T) {
	c := loadCluster(t, "testdata/pinned.yaml")
	deployed := policyFor(t, "testdata/pinned.yaml", plan.Input{}).Permissions
	edits := map[string]func(l *launch){
		"a bigger instance type":     func(l *launch) { l.itype = "p4d.24xlarge" },
		"IMDSv1":                     func(l *launch) { l.tokens = "optional" },
		"an AMI of its own":          func(l *launch) { l.image = "ami-0bad0bad0bad0bad0" },
		"another subnet":             func(l *launch) { l.subnet = "subnet-0e0e0e0e0e0e0e0e0" },
		"another security group":     func(l *launch) { l.group = "sg-0bad0bad0bad0bad0" },
		"no sear:run-id tag":         func(l *launch) { delete(l.tags, "sear:run-id") },
		"another repository's tag":   func(l *launch) { l.tags["sear:repository"] = "evil/fork" },
		"no sear:expires-at tag":     func(l *launch) { delete(l.tags, "sear:expires-at") },
		"no sear:cluster-id tag":     func(l *launch) { delete(l.tags, "sear:cluster-id") },
		"another region's resources": func(l *launch) { l.region = "ap-south-1" },
	}
	for name, edit := range edits {
		l := searLaunch(c, repo, false)
		l.tags = map[string]string{"sear:repository": repo, "sear:cluster-id": "k7", "sear:run-id": "42", "sear:expires-at": "2030-01-01T00:00:00Z"}
		edit(&l)
		if denied(t, deployed, l) == "" {
			t.Errorf("%s: the deployed policy allows the launch", name)
		}
	}

	// Without the file naming them, the image must still be Canonical's
	// and the group the run's own.
	plain := loadCluster(t, "../../examples/script/cluster.yaml")
	deployed = policyFor(t, "../../examples/script/cluster.yaml", plan.Input{}).Permissions
	for name, edit := range map[string]func(l *launch){
		"an image Canonical does not own":         func(l *launch) { l.imageOwner = "999999999999" },
		"a group not tagged for this repository":  func(l *launch) { l.group, l.groupTags = "sg-0de1a017", nil },
		"a group tagged for another repository":   func(l *launch) { l.groupTags = map[string]string{"sear:repository": "other/repo"} },
		"an instance type the file does not name": func(l *launch) { l.itype = "c6i.32xlarge" },
	} {
		l := searLaunch(plain, repo, true)
		edit(&l)
		if denied(t, deployed, l) == "" {
			t.Errorf("%s: the policy made from the example allows the launch", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestPoliciesAreNarrow checks every cluster file's policies for the
// findings' shapes: no iam:PassRole on "*" or on a wildcard role, IMDSv2
// required on every statement that lets RunInstances create instances, no
// RunInstances on "*", and a trust policy that does not admit every
// workflow of the repository.
func TestPoliciesAreNarrow(t *testing.T) {
	for _, f := range awsClusters(t) {
		pol := policyFor(t, f, plan.Input{})
		instances := 0
		for _, st := range pol.Permissions.Statement {
			for _, r := range st.Resource {
				if contains(st.Action, "iam:PassRole") && (r == "*" || strings.ContainsAny(r[strings.LastIndex(r, ":")+1:], "*?")) {
					t.Errorf("%s: %s passes %q", f, st.Sid, r)
				}
				if contains(st.Action, "ec2:RunInstances") && r == "*" {
					t.Errorf("%s: %s allows RunInstances on *", f, st.Sid)
				}
				if contains(st.Action, "ec2:RunInstances") && strings.Contains(r, ":instance/") {
					instances++
					eq, _ := st.Condition["StringEquals"].(map[string]any)
					if eq["ec2:MetadataHttpTokens"] != "required" {
						t.Errorf("%s: %s launches instances without ec2:MetadataHttpTokens = required", f, st.Sid)
					}
					if eq["ec2:InstanceType"] == nil {
						t.Errorf("%s: %s launches any instance type", f, st.Sid)
					}
				}
			}
		}
		if instances == 0 {
			t.Errorf("%s: no statement launches instances", f)
		}
		for _, st := range pol.Trust.Statement {
			for op, block := range st.Condition {
				sub, ok := block.(map[string]any)[plan.GitHubOIDCIssuer+":sub"]
				if !ok {
					continue
				}
				for _, v := range values(sub) {
					if v == "repo:"+repo+":*" || strings.ContainsAny(v, "*?") || op != "StringEquals" {
						t.Errorf("%s: the trust policy admits %s %q by default", f, op, v)
					}
				}
			}
		}
	}
}

func TestNoInstanceProfileNoPassRole(t *testing.T) {
	for _, st := range policyFor(t, "../../examples/script/cluster.yaml", plan.Input{}).Permissions.Statement {
		if contains(st.Action, "iam:PassRole") {
			t.Errorf("a cluster file without iam_instance_profile gets %s: %v", st.Sid, st.Resource)
		}
	}
}

// TestNodeRole: --node-role names the role when it is not the profile's
// name, and a profile given as an ARN gives the account and partition.
func TestNodeRole(t *testing.T) {
	passed := func(p *plan.Policies) []string {
		for _, st := range p.Permissions.Statement {
			if contains(st.Action, "iam:PassRole") {
				return st.Resource
			}
		}
		return nil
	}
	tests := []struct {
		cluster, nodeRole, want string
	}{
		{"testdata/base-profile.yaml", "", "arn:aws:iam::<ACCOUNT_ID>:role/sear-nodes"},
		{"testdata/base-profile.yaml", "ml-node-role", "arn:aws:iam::<ACCOUNT_ID>:role/ml-node-role"},
		{"testdata/base-profile.yaml", "teams/ml/node", "arn:aws:iam::<ACCOUNT_ID>:role/teams/ml/node"},
		{"testdata/base-profile.yaml", "arn:aws:iam::210987654321:role/x", "arn:aws:iam::210987654321:role/x"},
		{"testdata/pinned.yaml", "", "arn:aws:iam::123456789012:role/sear-nodes"},
	}
	for _, tt := range tests {
		p := policyFor(t, tt.cluster, plan.Input{NodeRole: tt.nodeRole})
		if got := passed(p); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s --node-role %q: PassRole on %q, want [%s]", tt.cluster, tt.nodeRole, got, tt.want)
		}
		scope := strings.Join(p.Scope, "\n")
		if !strings.Contains(scope, tt.want) || (tt.nodeRole == "") != strings.Contains(scope, "run sear plan --node-role ROLE") {
			t.Errorf("%s --node-role %q: the scope does not say which role and how to change it:\n%s", tt.cluster, tt.nodeRole, scope)
		}
	}
}

// TestTrust: the default admits pull_request runs only; flags add exact
// subjects under StringEquals, and a wildcard moves them all to StringLike.
func TestTrust(t *testing.T) {
	sub := plan.GitHubOIDCIssuer + ":sub"
	tests := []struct {
		name  string
		trust *plan.Trust
		op    string
		want  any
	}{
		{"default", nil, "StringEquals", "repo:octo/exp:pull_request"},
		{"branch and environment", &plan.Trust{PullRequests: true, Branches: []string{"main"}, Environments: []string{"gpu:prod"}}, "StringEquals",
			[]string{"repo:octo/exp:pull_request", "repo:octo/exp:ref:refs/heads/main", "repo:octo/exp:environment:gpu%3Aprod"}},
		{"branch only", &plan.Trust{Branches: []string{"main"}}, "StringEquals", "repo:octo/exp:ref:refs/heads/main"},
		{"a tag pattern", &plan.Trust{PullRequests: true, Branches: []string{"refs/tags/v*"}}, "StringLike",
			[]string{"repo:octo/exp:pull_request", "repo:octo/exp:ref:refs/tags/v*"}},
	}
	for _, tt := range tests {
		st := policyFor(t, "../../examples/script/cluster.yaml", plan.Input{Trust: tt.trust}).Trust.Statement[0]
		block, _ := st.Condition[tt.op].(map[string]any)
		if got := fmt.Sprint(block[sub]); got != fmt.Sprint(tt.want) {
			t.Errorf("%s: %s sub = %s, want %v", tt.name, tt.op, got, tt.want)
		}
		if aud := st.Condition["StringEquals"].(map[string]any)[plan.GitHubOIDCIssuer+":aud"]; aud != "sts.amazonaws.com" {
			t.Errorf("%s: aud = %v", tt.name, aud)
		}
		doc := plan.Document{Statement: []plan.Statement{{Effect: "Allow", Action: st.Action, Condition: st.Condition}}}
		assume := func(s string) bool {
			return allows(t, doc, request{"sts:AssumeRoleWithWebIdentity", "", map[string]string{sub: s, plan.GitHubOIDCIssuer + ":aud": "sts.amazonaws.com"}})
		}
		if tt.name == "default" && (!assume("repo:octo/exp:pull_request") || assume("repo:octo/exp:ref:refs/heads/feature") || assume("repo:octo/exp:environment:prod")) {
			t.Errorf("default: the trust policy admits more or less than pull_request runs")
		}
	}
}
