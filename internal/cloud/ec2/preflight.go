package ec2

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
)

// nodePlan is one node's launch, as preflight prepared it.
type nodePlan struct {
	// file is the node as the cluster file describes it: its rank, role,
	// Flambé name (<cluster>_orchestrator, <cluster>_factory_<rank>),
	// types and the fields that set them.
	file     config.Node
	itype    string
	gpus     int // NVIDIA GPUs of itype, for SEAR_GPUS
	image    imageInfo
	userData string // base64, as RunInstances takes it
}

func newNodePlan(n config.Node, userData string) nodePlan {
	return nodePlan{file: n, userData: userData}
}

// launchPlan is everything Launch needs, checked before anything costs
// money. Each attempt of the capacity failover (failover.go) launches a
// copy of it with its own subnet, nodes and market.
type launchPlan struct {
	nodes  []nodePlan // the first choice's types
	subnet subnetInfo // the first subnet; an attempt's own in its copy
	// subnets are every subnet the cluster may launch into, in the order
	// sear tries them, all in the VPC of the first (the per-run security
	// group is per VPC).
	subnets []subnetInfo
	// offered is where each instance type is offered: type → zones.
	offered map[string]map[string]bool
	// choices are each role's instance types, first choice first, with
	// their images: the orchestrator's, then the factories' (none when
	// there are no factories).
	choices  [2][]typeChoice
	userData []string // by rank
	market   market   // the attempt's market
	try      int      // the attempt's number, from 0: it makes its client tokens
	spot     *spotMemo
	group    string       // the id of the cluster file's security_group; "" when sear makes one
	ssh      netip.Prefix // where SSH may come from, when sear makes the group
	tags     map[string]string
}

// typeChoice is one instance type a role may launch as, with its image.
type typeChoice struct {
	itype string
	gpus  int
	image imageInfo
}

// Preflight checks that Launch(spec) can work, and creates nothing: the
// AMIs exist (or Canonical's Ubuntu 22.04 is found) for every instance
// type listed, alternates included, in its architecture, the subnets
// exist in one VPC and their zones offer the instance types, user data fits, the runner's address
// is known, and EC2 answers DryRun requests for the security group and the
// launches with DryRunOperation (so the role's permissions suffice). Launch
// runs it first.
func (p *Provider) Preflight(ctx context.Context, spec cloud.Spec) error {
	if err := checkSpec(spec, time.Now()); err != nil {
		return err
	}
	region, err := regionFor(p.cfg, spec.Cluster)
	if err != nil {
		return err
	}
	_, err = p.preflight(ctx, newAPI(p.cfg, region, p.opts.Timing, p.opts.Log), spec)
	return err
}

func (p *Provider) preflight(ctx context.Context, a *api, spec cloud.Spec) (*launchPlan, error) {
	c := spec.Cluster
	plan := &launchPlan{tags: commonTags(spec, p.opts.Creator), spot: &spotMemo{refused: map[string]string{}}}
	if err := a.subnets(ctx, c, plan); err != nil {
		return nil, err
	}
	plan.subnet = plan.subnets[0]
	if err := a.nodePlans(ctx, spec, newSSM(p.cfg, a.region, a.timing), plan); err != nil {
		return nil, err
	}
	// Before the DryRun launches, which the emulator and CloudTrail log as RunInstances.
	if c.CheckQuotas {
		if err := a.checkQuotas(ctx, newServiceQuotas(p.cfg, a.region, a.timing), spec, plan); err != nil {
			return nil, err
		}
	}
	var err error
	if c.SecurityGroup != "" {
		plan.group, err = a.namedGroup(ctx, c, c.SecurityGroup, plan.subnet.vpc)
	} else {
		plan.ssh, err = sshSource(ctx, c, p.opts.HTTPClient, p.opts.CheckIPURL)
	}
	if err != nil {
		return nil, err
	}
	if plan.group != "" {
		if err := p.checkNamedGroup(ctx, a, c, plan.group); err != nil {
			return nil, err
		}
	}
	if err := a.dryRuns(ctx, spec, plan); err != nil {
		return nil, err
	}
	return plan, nil
}

// checkSpec refuses a Spec no launch could serve. Configuration files are
// validated by package config; these are the provider's own needs.
func checkSpec(spec cloud.Spec, now time.Time) error {
	c := spec.Cluster
	switch {
	case c == nil || spec.Keys == nil:
		return errors.New("launch: the spec needs a cluster and its keys")
	case c.Kind != config.AWS:
		return fmt.Errorf("the EC2 provider launches !AWSCluster clusters; %s is a !%s", c.File, c.Kind)
	case len(spec.Keys.Nodes) != c.Nodes():
		return fmt.Errorf("launch: %d node keys for %d nodes", len(spec.Keys.Nodes), c.Nodes())
	case spec.RunID == "":
		// `sear sweep --run-id` finds resources by it (docs/design.md, "Tags").
		return errors.New("launch: no run id; every resource must carry sear:run-id for teardown to find it")
	case !spec.ExpiresAt.After(now):
		return fmt.Errorf("launch: expiry %s is not in the future", cloud.FormatExpiry(spec.ExpiresAt))
	case c.OrchestratorType == "":
		return c.FieldError("orchestrator_type", "orchestrator_type is empty; name an instance type such as t3.large")
	case c.FactoriesNum > 0 && c.FactoriesType == "":
		return c.FieldError("factories_type", "factories_type is empty; name an instance type such as g5.xlarge")
	}
	return checkTagCount(spec)
}

// nodePlans resolves every instance type each role may launch as (its
// GPUs and architecture) and its image, so that an alternate is as
// checked as the first choice before anything is created, and renders
// each node's user data. plan.nodes are the first choice's.
func (a *api) nodePlans(ctx context.Context, spec cloud.Spec, ssm *awsssm.Client, plan *launchPlan) error {
	c := spec.Cluster
	images := imageCache{}
	var all []string
	for _, n := range c.Roles() {
		all = append(all, n.Types...)
	}
	infos, err := a.typeInfos(ctx, all...)
	if err != nil {
		return err
	}
	for _, n := range c.Roles() {
		for _, itype := range n.Types {
			img, err := a.image(ctx, ssm, images, c, n, itype, infos[itype])
			if err != nil {
				return err
			}
			if err := checkArchitecture(c, n, img, itype, infos[itype]); err != nil {
				return err
			}
			if err := checkVolume(c, n, img); err != nil {
				return err
			}
			r := roleIndex(n.Role)
			plan.choices[r] = append(plan.choices[r], typeChoice{itype: itype, gpus: infos[itype].gpus, image: img})
		}
	}
	plan.userData = make([]string, c.Nodes())
	for rank := range plan.userData {
		if plan.userData[rank], err = userData(spec, rank); err != nil {
			return fmt.Errorf("user data for %s: %w", c.Node(rank).Name, err)
		}
	}
	plan.nodes = plan.nodesFor(c, [2]int{})
	return nil
}

// nodesFor are the nodes of the cluster with each role's choice idx.
func (plan *launchPlan) nodesFor(c *config.Cluster, idx [2]int) []nodePlan {
	out := make([]nodePlan, c.Nodes())
	for rank := range out {
		n := newNodePlan(c.Node(rank), plan.userData[rank])
		r := roleIndex(n.file.Role)
		t := plan.choices[r][idx[r]]
		n.itype, n.gpus, n.image = t.itype, t.gpus, t.image
		out[rank] = n
	}
	return out
}

// checkArchitecture refuses a named AMI of another architecture than an
// instance type it would launch as, which RunInstances refuses with
// InvalidParameterValue only once the failover reaches that type. It
// points at the AMI, or, when the node has alternates, at the type.
func checkArchitecture(c *config.Cluster, n config.Node, img imageInfo, itype string, t typeInfo) error {
	if img.arch == "" || t.arch == "" || img.arch == t.arch {
		return nil
	}
	msg := fmt.Sprintf("%s %s is an %s image, but %s %q is %s: ", n.AMIField, img.id, img.arch, n.TypeField, itype, t.arch)
	if len(n.Types) > 1 {
		return c.ItemError(n.TypeField, itype, msg+"list types of one architecture in "+n.TypeField+", or leave "+n.AMIField+" out and sear picks an image per type")
	}
	return c.FieldError(n.AMIField, msg+"choose a type of the image's architecture, or leave "+n.AMIField+" out and sear picks an image per type")
}

// checkVolume refuses a root volume smaller than the image's snapshot,
// which RunInstances would refuse with InvalidBlockDeviceMapping. It
// points at volume_size, or at the image when volume_size is sear's
// default.
func checkVolume(c *config.Cluster, n config.Node, img imageInfo) error {
	if img.rootSize == 0 || c.VolumeSize >= int(img.rootSize) {
		return nil
	}
	field := "volume_size"
	if _, ok := c.Set[field]; !ok {
		field = n.AMIField
	}
	return c.FieldError(field, fmt.Sprintf("volume_size %d GiB is smaller than the %d GiB root snapshot of %s (%s); give volume_size %d or more",
		c.VolumeSize, img.rootSize, img.id, n.AMIField, img.rootSize))
}

// userData is the node's #cloud-config, encoded for RunInstances. It
// carries the node's bootstrap host key and nothing else private.
func userData(spec cloud.Spec, rank int) (string, error) {
	host := spec.Keys.Nodes[rank].HostKey
	pem, err := host.PrivatePEM()
	if err != nil {
		return "", err
	}
	doc, err := UserData{
		Username: spec.Cluster.Username, HostPrivateKey: pem, HostPublicKey: host.AuthorizedKey(),
		AuthorizedKey: spec.Keys.Client.AuthorizedKey(), ExpiresAt: spec.ExpiresAt,
	}.Render()
	if err != nil {
		return "", err
	}
	return Encode(doc)
}

// dryRuns asks EC2 whether the real calls would be allowed: DryRun
// requests are answered DryRunOperation when the caller has the
// permissions and the parameters are valid, UnauthorizedOperation when not
// (EC2 API Reference, "DryRun"), and create nothing.
//
// The launches are asked here only when the cluster names its group. A
// launch asked without one would be asked in the VPC's default group,
// which the policy sear plan prints refuses (it lets instances join only
// groups tagged for the repository, or the one the cluster file names):
// for a group of sear's own, Launch asks once the group exists, still
// before any instance.
func (a *api) dryRuns(ctx context.Context, spec cloud.Spec, plan *launchPlan) error {
	if plan.group != "" {
		return a.launchDryRuns(ctx, spec, plan, plan.group)
	}
	in := groupInput(spec, plan)
	in.DryRun = ptr(true)
	_, err := a.ec2.CreateSecurityGroup(ctx, in)
	return dryRunResult("create the cluster's security group", "ec2:CreateSecurityGroup (with ec2:CreateTags at creation)", err)
}

// launchDryRuns asks whether the orchestrator's and a factory's launches
// in group would be allowed.
func (a *api) launchDryRuns(ctx context.Context, spec cloud.Spec, plan *launchPlan, group string) error {
	for _, n := range plan.nodes {
		if n.file.Rank > 1 {
			break // the factories differ only in their user data
		}
		in := runInput(spec, plan, n, group, spec.Cluster.Spot, "")
		in.DryRun = ptr(true)
		_, err := a.ec2.RunInstances(ctx, in)
		if err := dryRunResult("launch "+n.file.Name, "ec2:RunInstances (with ec2:CreateTags at launch)", err); err != nil {
			return atType(spec.Cluster, n, launchAdvice(spec.Cluster, n, plan.subnet.az, err))
		}
	}
	return nil
}

// fieldError is an AWS refusal that a field of the cluster file may fix:
// its chain holds both the AWS error (for code) and a *config.Error at
// the field, so the action annotates the line; its text is err's.
type fieldError struct {
	err error
	at  *config.Error
}

func (e *fieldError) Error() string   { return e.err.Error() }
func (e *fieldError) Unwrap() []error { return []error{e.err, e.at} }

// atType puts a refused launch of n at its instance type in the cluster
// file when the refusal is about the launch's parameters (the type, its
// image, its volume): EC2 says which call it refused, not which field, and
// the type is the field launchAdvice leads with. Other refusals (a
// permission) are no field's.
func atType(c *config.Cluster, n nodePlan, err error) error {
	if !isCode(err, "Unsupported", "InvalidParameterValue", "InvalidParameterCombination", "InvalidBlockDeviceMapping") {
		return err
	}
	return &fieldError{err: err, at: c.ItemError(n.file.TypeField, n.itype, err.Error())}
}

// dryRunResult turns a DryRun answer into nil (it would have worked) or
// the reason it would not.
func dryRunResult(what, action string, err error) error {
	switch {
	case err == nil:
		// EC2 never answers a DryRun with success; an endpoint that does
		// would also create the resource.
		return fmt.Errorf("%s: EC2 answered a DryRun request with success instead of DryRunOperation; is the endpoint really EC2?", what)
	case isCode(err, "DryRunOperation"):
		return nil
	}
	return explain(what, action, err)
}

func ptr[T any](v T) *T { return &v }
