package ec2

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
)

// Launch checks everything it can first (Preflight), then creates the
// per-run security group, launches every node at once (one RunInstances
// per node, since each carries its own host key in user data), failing
// over to other zones and instance types when EC2 has no room
// (launchCluster), and waits until all run with an address. A node whose instance fails to boot is
// launched again, once. It is all or nothing: on any failure it returns an
// error, and Teardown terminates whatever was created, recorded the moment
// each create call returned.
//
// Each node's SSHAddr is its public address, port 22; or its private
// address when use_private_ip is set or the instance has no public address
// (a subnet that does not map public addresses at launch, such as the test
// world's non-default subnets, whose containers have private addresses
// only).
func (p *Provider) Launch(ctx context.Context, spec cloud.Spec) ([]cloud.Node, error) {
	if err := checkSpec(spec, time.Now()); err != nil {
		return nil, err
	}
	a, err := p.bind(spec)
	if err != nil {
		return nil, err
	}
	plan, err := p.preflight(ctx, a, spec)
	if err != nil {
		return nil, fmt.Errorf("preflight, before anything was created: %w", err)
	}
	groupID, err := p.securityGroup(ctx, a, spec, plan)
	if err != nil {
		return nil, err
	}
	if plan.group == "" {
		if err := a.launchDryRuns(ctx, spec, plan, groupID); err != nil {
			return nil, fmt.Errorf("preflight, before any instance was launched: %w", err)
		}
	}
	ap, started, err := p.launchCluster(ctx, a, spec, plan, groupID)
	if err != nil {
		return p.withAttempts(nil, err)
	}
	logf(a.log, "sear: launched %d instances in %s (%s); waiting until they run", len(started), ap.subnet.az, a.region)
	return p.withAttempts(p.untilRunning(ctx, a, spec, ap, groupID, started))
}

// launched is a node whose RunInstances succeeded.
type launched struct {
	node nodePlan
	id   string
	spot bool
}

// launchAll launches the given nodes in parallel; attempt is 1 for the
// relaunch of nodes that failed to boot.
func (p *Provider) launchAll(ctx context.Context, a *api, spec cloud.Spec, plan *launchPlan, groupID string, nodes []nodePlan, attempt int) ([]launched, error) {
	out := make([]launched, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = p.launchNode(ctx, a, spec, plan, n, groupID, attempt)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// clientToken makes RunInstances idempotent per node and attempt
// ("Ensuring idempotency in Amazon EC2 API requests"): a retry of the same
// call (the SDK's, after a timeout or a throttle) returns the instance the
// first one launched instead of launching a second. The capacity
// failover's attempts (try), the on-demand fallback and the relaunch after
// a failed boot are new launches, with new tokens.
func clientToken(clusterID string, rank, try, relaunch int, onDemandFallback bool) string {
	t := fmt.Sprintf("%s-%d", clusterID, rank)
	if try > 0 {
		t += fmt.Sprintf("-t%d", try)
	}
	if relaunch > 0 {
		t += fmt.Sprintf("-r%d", relaunch)
	}
	if onDemandFallback {
		t += "-od"
	}
	return t
}

// launchNode starts one node in the attempt's zone: on the spot market
// when the attempt's market says so, and on demand when spot has no
// capacity for it and the market allows (spotElseOnDemand).
func (p *Provider) launchNode(ctx context.Context, a *api, spec cloud.Spec, plan *launchPlan, n nodePlan, groupID string, relaunch int) (launched, error) {
	c := spec.Cluster
	az := plan.subnet.az
	token := func(onDemand bool) string {
		return clientToken(spec.Keys.ID, n.file.Rank, plan.try, relaunch, onDemand)
	}
	trySpot := plan.market != onDemand
	if plan.market == spotElseOnDemand {
		if why, refused := plan.spot.refusedCode(az, n.itype); refused {
			logf(a.log, "sear: no spot capacity for %s in %s (%s, a moment ago); launching %s on demand instead", n.itype, az, why, n.file.Name)
			trySpot = false
		}
	}
	if trySpot {
		id, err := p.run(ctx, a, n, runInput(spec, plan, n, groupID, true, token(false)))
		if err == nil {
			return launched{node: n, id: id, spot: true}, nil
		}
		if !spotUnavailable(err) && !noRoom(err) {
			return launched{}, launchAdvice(c, n, az, explain("launch "+n.file.Name+" on the spot market", "ec2:RunInstances", err))
		}
		plan.spot.refuse(az, n.itype, code(err))
		if plan.market == spotOnly {
			return launched{}, launchAdvice(c, n, az, explain("launch "+n.file.Name+" on the spot market", "ec2:RunInstances", err))
		}
		logf(a.log, "sear: no spot capacity for %s in %s (%s); launching %s on demand instead", n.itype, az, code(err), n.file.Name)
	}
	id, err := p.run(ctx, a, n, runInput(spec, plan, n, groupID, false, token(c.Spot)))
	if err != nil {
		return launched{}, launchAdvice(c, n, az, explain("launch "+n.file.Name, "ec2:RunInstances", err))
	}
	return launched{node: n, id: id}, nil
}

// run sends RunInstances and records its instance before anything else.
// If teardown began while the call was in flight, the new instance is
// terminated at once, on a context of its own: the caller's may be the
// one that was cancelled.
func (p *Provider) run(ctx context.Context, a *api, n nodePlan, in *awsec2.RunInstancesInput) (string, error) {
	if p.stopping() {
		return "", errStopping
	}
	out, err := a.ec2.RunInstances(ctx, in)
	if err != nil {
		return "", err
	}
	var ids []string
	stopping := false
	for _, inst := range out.Instances {
		id := aws.ToString(inst.InstanceId)
		ids = append(ids, id)
		stopping = p.recordInstance(id, n.file.Name) || stopping
	}
	if stopping {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = a.terminate(tctx, ids) // if this fails, Teardown, which follows, tries again
		return "", errStopping
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("launch %s: RunInstances returned %d instances, expected 1", n.file.Name, len(ids))
	}
	return ids[0], nil
}

// runInput is the RunInstances request of one node.
func runInput(spec cloud.Spec, plan *launchPlan, n nodePlan, groupID string, spot bool, token string) *awsec2.RunInstancesInput {
	c := spec.Cluster
	// Every resource RunInstances creates is tagged in the same call, so
	// none exists untagged even for a moment, and the IAM policy can demand
	// sear's tags on each of them (aws:RequestTag is checked per resource
	// type, network interfaces and spot requests included).
	kinds := []types.ResourceType{types.ResourceTypeInstance, types.ResourceTypeVolume, types.ResourceTypeNetworkInterface}
	if spot {
		kinds = append(kinds, types.ResourceTypeSpotInstancesRequest)
	}
	in := &awsec2.RunInstancesInput{
		ImageId: aws.String(n.image.id), InstanceType: types.InstanceType(n.itype),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(plan.subnet.id), UserData: aws.String(n.userData),
		// The dead-man's switch powers the node off at its expiry; with
		// terminate, that ends the instance rather than stopping it.
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
		// IMDSv2 only, and its token may not leave the instance (hop limit
		// 1): a container on the node cannot reach the node's credentials.
		MetadataOptions: &types.InstanceMetadataOptionsRequest{
			HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1),
			HttpEndpoint: types.InstanceMetadataEndpointStateEnabled,
		},
		BlockDeviceMappings: []types.BlockDeviceMapping{rootVolume(c, n.image)},
		TagSpecifications:   tagSpecs(cloud.NodeTags(plan.tags, n.file), kinds...),
	}
	if token != "" {
		in.ClientToken = aws.String(token)
	}
	if groupID != "" {
		in.SecurityGroupIds = []string{groupID}
	}
	if spot {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypeOneTime,
				InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate}}
	}
	if c.Dedicated {
		in.Placement = &types.Placement{Tenancy: types.TenancyDedicated}
	}
	if prof := c.IAMInstanceProfile; strings.HasPrefix(prof, "arn:") {
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String(prof)}
	} else if prof != "" {
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(prof)}
	}
	return in
}

// rootVolume sizes the image's root device as volume_size and volume_type
// say, deleted with the instance. io1 and io2 need a provisioned IOPS
// figure; sear gives Flambé's 50 per GiB, within io1's limit of 64,000.
func rootVolume(c *config.Cluster, img imageInfo) types.BlockDeviceMapping {
	ebs := &types.EbsBlockDevice{VolumeSize: aws.Int32(int32(c.VolumeSize)), VolumeType: types.VolumeType(c.VolumeType),
		DeleteOnTermination: aws.Bool(true)}
	if c.VolumeType == "io1" || c.VolumeType == "io2" {
		ebs.Iops = aws.Int32(int32(min(50*c.VolumeSize, 64000)))
	}
	return types.BlockDeviceMapping{DeviceName: aws.String(img.rootDevice), Ebs: ebs}
}

// spotUnavailable reports the errors after which sear launches on demand:
// no spot capacity, a price cap below the market, the account's spot
// quota.
func spotUnavailable(err error) bool {
	return isCode(err, "InsufficientInstanceCapacity", "InsufficientCapacity", "SpotMaxPriceTooLow", "MaxSpotInstanceCountExceeded")
}

// launchAdvice adds what the user can change to a launch failure.
func launchAdvice(c *config.Cluster, n nodePlan, az string, err error) error {
	field := n.file.TypeField
	switch code(err) {
	case "InsufficientInstanceCapacity", "InsufficientCapacity":
		return fmt.Errorf("%w; EC2 has no capacity for %s %q in %s right now: try another type, a subnet_id in another zone, or later", err, field, n.itype, az)
	case "InstanceLimitExceeded", "VcpuLimitExceeded", "MaxSpotInstanceCountExceeded":
		return fmt.Errorf("%w; the account's quota for %s instances in this region is used up: %s, or use fewer or smaller nodes (factories_num, %s)",
			err, n.itype, quotaAdvice(n.itype, code(err) == "MaxSpotInstanceCountExceeded"), field)
	case "Unsupported":
		if c.Dedicated {
			return fmt.Errorf("%w; %s %q may not be available as a dedicated instance: check dedicated and %s", err, field, n.itype, field)
		}
		return fmt.Errorf("%w; check %s and subnet_id", err, field)
	case "InvalidParameterValue", "InvalidParameterCombination", "InvalidBlockDeviceMapping":
		return fmt.Errorf("%w; check %s, orchestrator_ami/factory_ami (same architecture as the type), volume_size, volume_type and iam_instance_profile", err, field)
	}
	return err
}
