package ec2

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
)

// untilRunning waits, within ready_timeout, until every node runs. Nodes
// whose instance failed to boot (EC2 terminated it, Server.InternalError)
// are launched again once; the failed instances stay recorded, and
// Teardown makes sure they are gone.
func (p *Provider) untilRunning(ctx context.Context, a *api, spec cloud.Spec, plan *launchPlan, groupID string, nodes []launched) ([]cloud.Node, error) {
	c := spec.Cluster
	ctx, cancel := withContextTimeout(ctx, c.ReadyTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		states, err := a.waitRunning(ctx, nodes)
		if err != nil {
			return nil, fmt.Errorf("%w (ready_timeout is %s; raise it in the cluster file if the image boots slowly)", err, c.ReadyTimeout)
		}
		var failed []nodePlan
		var why []string
		for _, l := range nodes {
			if st := states[l.id]; st.State == nil || st.State.Name != types.InstanceStateNameRunning {
				failed, why = append(failed, l.node), append(why, bootFailure(l, st))
			}
		}
		if len(failed) == 0 {
			return readyNodes(c, nodes, states), nil
		}
		if attempt > 0 {
			return nil, fmt.Errorf("nodes failed to boot twice: %s", strings.Join(why, "; "))
		}
		if p.stopping() {
			return nil, errStopping // Terminate ended them
		}
		logf(a.log, "sear: launching again: %s", strings.Join(why, "; "))
		again, err := p.launchAll(ctx, a, spec, plan, groupID, failed, 1)
		if err != nil {
			return nil, err
		}
		nodes = replaceLaunched(nodes, again)
	}
}

// waitRunning polls DescribeInstances until each instance is either
// running with an address or has ended (failed to boot). Instances are
// asked for with an instance-id filter rather than InstanceIds: right after
// RunInstances, EC2 may not know an id yet ("Eventual consistency in the
// Amazon EC2 API") and InstanceIds would fail the whole call with
// InvalidInstanceID.NotFound, where a filter just leaves it out.
func (a *api) waitRunning(ctx context.Context, nodes []launched) (map[string]types.Instance, error) {
	settled := map[string]types.Instance{}
	poll := a.timing.poller()
	for {
		var pending []string
		for _, l := range nodes {
			if _, ok := settled[l.id]; !ok {
				pending = append(pending, l.id)
			}
		}
		if len(pending) == 0 {
			return settled, nil
		}
		insts, err := a.describeIDs(ctx, pending)
		if err != nil && ctx.Err() == nil {
			return nil, explain("wait for the instances to run", "ec2:DescribeInstances", err)
		}
		for _, in := range insts {
			if booted(in) || ended(in) {
				settled[aws.ToString(in.InstanceId)] = in
			}
		}
		if len(settled) < len(nodes) && !poll.wait(ctx) {
			return nil, fmt.Errorf("instances not running when time ran out: %s", describePending(nodes, settled))
		}
	}
}

// booted reports a running instance with an address to dial.
func booted(in types.Instance) bool {
	return in.State != nil && in.State.Name == types.InstanceStateNameRunning && aws.ToString(in.PrivateIpAddress) != ""
}

// ended reports an instance that will not run: it is shutting down,
// terminated, or stopped (a node powered off during boot).
func ended(in types.Instance) bool {
	if in.State == nil {
		return false
	}
	switch in.State.Name {
	case types.InstanceStateNameShuttingDown, types.InstanceStateNameTerminated, types.InstanceStateNameStopping, types.InstanceStateNameStopped:
		return true
	}
	return false
}

func describePending(nodes []launched, settled map[string]types.Instance) string {
	var out []string
	for _, l := range nodes {
		if _, ok := settled[l.id]; !ok {
			out = append(out, l.id+" ("+l.node.file.Name+")")
		}
	}
	return strings.Join(out, ", ")
}

// bootFailure says why a node is not running: its state and EC2's reason.
func bootFailure(l launched, in types.Instance) string {
	state := "unknown"
	if in.State != nil {
		state = string(in.State.Name)
	}
	msg := fmt.Sprintf("%s (%s) is %s", l.id, l.node.file.Name, state)
	if in.StateReason != nil {
		msg += ": " + aws.ToString(in.StateReason.Message)
	}
	return msg
}

// replaceLaunched puts the relaunched nodes in place of the failed ones.
func replaceLaunched(nodes, again []launched) []launched {
	out := append([]launched(nil), nodes...)
	for _, r := range again {
		for i := range out {
			if out[i].node.file.Rank == r.node.file.Rank {
				out[i] = r
			}
		}
	}
	return out
}

// readyNodes turns running instances into cloud nodes, in rank order.
func readyNodes(c *config.Cluster, nodes []launched, states map[string]types.Instance) []cloud.Node {
	out := make([]cloud.Node, 0, len(nodes))
	for _, l := range nodes {
		in := states[l.id]
		private, public := aws.ToString(in.PrivateIpAddress), aws.ToString(in.PublicIpAddress)
		host := public
		if host == "" || c.UsePrivateIP {
			host = private
		}
		out = append(out, cloud.Node{
			Rank: l.node.file.Rank, Role: l.node.file.Role, Name: l.node.file.Name, ID: l.id,
			SSHAddr: net.JoinHostPort(host, "22"), PrivateIP: private,
			User: c.Username, Home: home(c.Username), Spot: l.spot, Type: l.node.itype, GPUs: l.node.gpus,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rank < out[j].Rank })
	return out
}

// home is where cloud-init puts the user's home directory.
func home(user string) string {
	if user == "root" {
		return "/root"
	}
	return path.Join("/home", user)
}

// describeIDs returns the instances with the given ids that EC2 knows.
func (a *api) describeIDs(ctx context.Context, ids []string) ([]types.Instance, error) {
	var out []types.Instance
	var errs []error
	for _, chunk := range chunks(ids, 200) {
		insts, err := a.describe(ctx, []types.Filter{{Name: aws.String("instance-id"), Values: chunk}})
		out = append(out, insts...)
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// describe lists the instances matching filters, every page.
func (a *api) describe(ctx context.Context, filters []types.Filter) ([]types.Instance, error) {
	var out []types.Instance
	pages := awsec2.NewDescribeInstancesPaginator(a.ec2, &awsec2.DescribeInstancesInput{Filters: filters, MaxResults: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, nil
}
