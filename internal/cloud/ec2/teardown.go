package ec2

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
)

// Terminate is the first thing to do on a signal: it sends
// TerminateInstances for every instance known now, recorded or found by
// the cluster's tag, and returns without waiting for them to go. It also
// stops Launch from launching anything more; an instance whose
// RunInstances answer arrives later is terminated the moment it does.
// Teardown does the waiting and deletes the security group.
func (p *Provider) Terminate(ctx context.Context) error {
	ids, _ := p.known()
	a, clusterID := p.bound()
	if a == nil {
		return nil
	}
	// Recorded ids first: that call needs no lookup before it.
	_, err := a.terminate(ctx, ids)
	found, ferr := a.describe(ctx, clusterFilters(clusterID))
	_, terr := a.terminate(ctx, missing(instanceIDs(found), ids))
	return errors.Join(err, explain("find the cluster's instances by tag", "ec2:DescribeInstances", ferr), terr)
}

// Teardown terminates every instance of the cluster, waits until they are
// terminated, and deletes the per-run security group. The instances are
// those recorded by Launch and those EC2 finds by the sear:cluster-id tag,
// which catches an instance whose RunInstances answer was lost to a
// cancellation. It is idempotent, and meant for a fresh context (the
// launch's may be cancelled): what is already gone counts as deleted.
// What it could not delete is returned as a *LeftoverError, with the
// commands that delete it.
func (p *Provider) Teardown(ctx context.Context) error {
	ids, groups := p.known()
	a, clusterID := p.bound()
	if a == nil {
		return nil
	}
	var causes []error
	found, err := a.describe(ctx, clusterFilters(clusterID))
	if err != nil {
		causes = append(causes, explain("find the cluster's instances by tag", "ec2:DescribeInstances", err))
	}
	ids = append(ids, missing(instanceIDs(found), ids)...)
	taggedGroups, err := a.groupsByFilter(ctx, []types.Filter{tagFilter(cloud.TagClusterID, clusterID)})
	if err != nil {
		causes = append(causes, explain("find the cluster's security groups by tag", "ec2:DescribeSecurityGroups", err))
	}
	groups = append(groups, missing(groupIDs(taggedGroups), groups)...)
	res, err := a.reap(ctx, ids, groups, causes)
	p.markGone(res)
	if err != nil {
		return fmt.Errorf("teardown of cluster %s: %w", clusterID, err)
	}
	return nil
}

// reapResult is what a reap saw gone.
type reapResult struct {
	terminated map[string]bool // instance ids
	deleted    map[string]bool // security group ids
}

// reap terminates instances, waits until they are terminated, then
// deletes groups (EC2 refuses to delete a group its instances still use).
// Anything left is returned as a *LeftoverError, with causes and the
// errors met on the way.
func (a *api) reap(ctx context.Context, instances, groups []string, causes []error) (reapResult, error) {
	res := reapResult{terminated: map[string]bool{}, deleted: map[string]bool{}}
	left := &LeftoverError{Region: a.region}
	if len(instances) > 0 {
		logf(a.log, "sear: terminating %s", strings.Join(instances, " "))
		failed, err := a.terminate(ctx, instances)
		causes = append(causes, err)
		// Waiting is for the instances EC2 agreed to terminate.
		remaining, err := a.waitTerminated(ctx, missing(instances, failed))
		causes = append(causes, err)
		left.Instances = append(failed, remaining...)
		for _, id := range missing(instances, left.Instances) {
			res.terminated[id] = true
		}
	}
	for _, g := range groups {
		if len(left.Instances) > 0 {
			left.SecurityGroups = append(left.SecurityGroups, g) // still in use
			continue
		}
		if err := a.deleteGroup(ctx, g); err != nil {
			causes = append(causes, err)
			left.SecurityGroups = append(left.SecurityGroups, g)
			continue
		}
		res.deleted[g] = true
		logf(a.log, "sear: deleted security group %s", g)
	}
	left.Err = errors.Join(causes...)
	if len(left.Instances) == 0 && len(left.SecurityGroups) == 0 {
		return res, left.Err
	}
	return res, left
}

// terminate sends TerminateInstances and returns the ids it could not
// terminate. A call naming an id EC2 does not know fails as a whole and
// terminates none ("TerminateInstances": "If you specify multiple
// instances and the request fails (for example, because of a single
// incorrect instance ID), none of the instances are terminated"), so then
// each id is sent alone, and an unknown one counts as gone. Terminating a
// terminated instance succeeds, so this is idempotent.
func (a *api) terminate(ctx context.Context, ids []string) (failed []string, err error) {
	var errs []error
	for _, chunk := range chunks(ids, 1000) {
		err := a.terminateCall(ctx, chunk)
		switch {
		case notFound(err):
			for _, id := range chunk {
				if err := a.terminateOne(ctx, id); err != nil {
					failed, errs = append(failed, id), append(errs, err)
				}
			}
		case err != nil:
			failed, errs = append(failed, chunk...), append(errs, explain("terminate "+strings.Join(chunk, " "), "ec2:TerminateInstances", err))
		}
	}
	return failed, errors.Join(errs...)
}

func (a *api) terminateCall(ctx context.Context, ids []string) error {
	_, err := a.ec2.TerminateInstances(ctx, &awsec2.TerminateInstancesInput{InstanceIds: ids})
	return err
}

// terminateOne terminates one instance. EC2 may not know an id for a few
// seconds after RunInstances returned it ("Eventual consistency in the
// Amazon EC2 API"), so a not-found answer is asked again a few times
// before the instance counts as gone.
func (a *api) terminateOne(ctx context.Context, id string) error {
	poll := a.timing.poller()
	for try := 0; ; try++ {
		err := a.terminateCall(ctx, []string{id})
		if !notFound(err) {
			return explain("terminate "+id, "ec2:TerminateInstances", err)
		}
		if try == 2 || !poll.wait(ctx) {
			return nil
		}
	}
}

// waitTerminated polls until every instance is terminated or unknown to
// EC2 (terminated ones disappear after a while), and returns those that
// are not, when ctx ends or EC2 cannot be asked.
func (a *api) waitTerminated(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	poll := a.timing.poller()
	remaining := ids
	for {
		insts, err := a.describeIDs(ctx, remaining)
		if err != nil {
			return remaining, explain("wait for the instances to terminate", "ec2:DescribeInstances", err)
		}
		var live []string
		for _, in := range insts {
			if in.State == nil || in.State.Name != types.InstanceStateNameTerminated {
				live = append(live, aws.ToString(in.InstanceId))
			}
		}
		remaining = live
		if len(remaining) == 0 {
			return nil, nil
		}
		if !poll.wait(ctx) {
			return remaining, fmt.Errorf("instances not terminated when time ran out: %w", ctx.Err())
		}
	}
}

// clusterFilters find the cluster's instances that are not terminated.
func clusterFilters(clusterID string) []types.Filter {
	return []types.Filter{tagFilter(cloud.TagClusterID, clusterID), {Name: aws.String("instance-state-name"), Values: stillLive}}
}

func tagFilter(key string, values ...string) types.Filter {
	return types.Filter{Name: aws.String("tag:" + key), Values: values}
}

// groupsByFilter lists the security groups matching filters, every page.
func (a *api) groupsByFilter(ctx context.Context, filters []types.Filter) ([]types.SecurityGroup, error) {
	var out []types.SecurityGroup
	pages := awsec2.NewDescribeSecurityGroupsPaginator(a.ec2, &awsec2.DescribeSecurityGroupsInput{Filters: filters, MaxResults: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, page.SecurityGroups...)
	}
	return out, nil
}

func instanceIDs(insts []types.Instance) []string {
	out := make([]string, len(insts))
	for i, in := range insts {
		out[i] = aws.ToString(in.InstanceId)
	}
	return out
}

func groupIDs(groups []types.SecurityGroup) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = aws.ToString(g.GroupId)
	}
	return out
}

// missing returns the ids of have that are not in known, in order.
func missing(have, known []string) []string {
	seen := map[string]bool{}
	for _, id := range known {
		seen[id] = true
	}
	var out []string
	for _, id := range have {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// LeftoverError is a teardown or sweep that could not delete everything,
// EC2's cloud.LeftoverError. Its message lists each resource with a
// command that deletes it, for the user to run once the cause (Err) is
// fixed.
type LeftoverError struct {
	Region         string
	Instances      []string // not terminated
	SecurityGroups []string // not deleted
	Err            error    // why, when known
}

// Error lists the leftovers and the commands; instances first, since a
// group can be deleted only once its instances are terminated.
func (e *LeftoverError) Error() string {
	var b strings.Builder
	b.WriteString("resources left behind")
	if e.Err != nil {
		fmt.Fprintf(&b, " (%s)", strings.ReplaceAll(e.Err.Error(), "\n", "; "))
	}
	b.WriteString("; delete them with:")
	if len(e.Instances) > 0 {
		ids := append([]string(nil), e.Instances...)
		sort.Strings(ids)
		b.WriteString("\n  " + terminateCommand(e.Region, ids...))
	}
	for _, g := range e.SecurityGroups {
		b.WriteString("\n  " + deleteGroupCommand(e.Region, g))
	}
	if len(e.Instances) > 0 && len(e.SecurityGroups) > 0 {
		b.WriteString("\n(delete the security groups once the instances are terminated)")
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As the cause.
func (e *LeftoverError) Unwrap() error { return e.Err }

// Leftovers are the instances, each with its own command, then the
// security groups (EC2 deletes a group only once no instance uses it): a
// report lists each resource beside the command for it alone.
func (e *LeftoverError) Leftovers() []cloud.Leftover {
	var out []cloud.Leftover
	for _, id := range e.Instances {
		out = append(out, cloud.Leftover{Resource: "instance " + id, Command: terminateCommand(e.Region, id)})
	}
	for _, g := range e.SecurityGroups {
		out = append(out, cloud.Leftover{Resource: "security group " + g, Command: deleteGroupCommand(e.Region, g)})
	}
	return out
}

// terminateCommand and deleteGroupCommand are the AWS CLI commands that
// delete what a teardown left, for the error and the report alike.
func terminateCommand(region string, ids ...string) string {
	return fmt.Sprintf("aws ec2 terminate-instances --region %s --instance-ids %s", region, strings.Join(ids, " "))
}

func deleteGroupCommand(region, group string) string {
	return fmt.Sprintf("aws ec2 delete-security-group --region %s --group-id %s", region, group)
}

// A teardown's leftovers reach the report through the cloud-neutral
// interface.
var _ cloud.LeftoverError = (*LeftoverError)(nil)
