package ec2

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// TestLaunchAndTeardown brings up 1 + 4 nodes and checks every property
// EC2 holds of them, then tears them down, twice.
func TestLaunchAndTeardown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	spec := newSpec(t, parseCluster(t, clusterYAML()), "run-42")
	nodes := launch(t, p, spec)

	st := f.srv.State()
	group := onlySearGroup(t, st)
	checkNodes(t, spec, nodes, st)
	for _, inst := range st.Instances {
		checkInstance(t, spec, inst, group.ID)
	}
	checkVolumes(t, st)
	checkGroup(t, spec, group, runnerIP+"/32")
	if n := len(calls(f, "CreateTags", false)); n != 0 {
		t.Errorf("%d CreateTags calls: every resource must be tagged at creation", n)
	}
	checkPreflightFirst(t, f)
	checkNoPrivateKeys(t, f, spec)

	teardown(t, p)
	assertClean(t, f)
	for _, v := range f.srv.State().Volumes {
		if v.State != "deleted" {
			t.Errorf("volume %s is %s after teardown", v.ID, v.State)
		}
	}
	before := len(f.srv.Calls())
	teardown(t, p)
	for _, c := range f.srv.Calls()[before:] {
		if c.Action != "DescribeInstances" && c.Action != "DescribeSecurityGroups" {
			t.Errorf("second teardown called %s", c.Action)
		}
	}
}

func onlySearGroup(t *testing.T, st fakeec2.StateSnapshot) fakeec2.SecurityGroupState {
	t.Helper()
	groups := searGroups(st)
	if len(groups) != 1 {
		t.Fatalf("%d sear security groups, want 1: %+v", len(groups), groups)
	}
	return groups[0]
}

func checkNodes(t *testing.T, spec cloud.Spec, nodes []cloud.Node, st fakeec2.StateSnapshot) {
	t.Helper()
	if len(nodes) != 5 || len(st.Instances) != 5 {
		t.Fatalf("%d nodes and %d instances, want 5 of each", len(nodes), len(st.Instances))
	}
	byID := map[string]fakeec2.InstanceState{}
	for _, i := range st.Instances {
		byID[i.ID] = i
	}
	for rank, n := range nodes {
		wantRole, wantName, wantType := cloud.Factory, fmt.Sprintf("exp_factory_%d", rank), "t3.micro"
		if rank == 0 {
			wantRole, wantName, wantType = cloud.Orchestrator, "exp_orchestrator", "t3.small"
		}
		inst, ok := byID[n.ID]
		switch {
		case !ok:
			t.Errorf("node %d: instance %q unknown to EC2", rank, n.ID)
		case n.Rank != rank || n.Role != wantRole || n.Name != wantName || n.Type != wantType:
			t.Errorf("node %d = %+v", rank, n)
		case n.User != "ubuntu" || n.Home != "/home/ubuntu" || n.Spot:
			t.Errorf("node %d user/home/spot = %q %q %v", rank, n.User, n.Home, n.Spot)
		case inst.State != "running":
			t.Errorf("node %d returned while %s", rank, inst.State)
		case n.PrivateIP != inst.PrivateIP || n.SSHAddr != net.JoinHostPort(inst.PrivateIP, "22"):
			t.Errorf("node %d addresses %q %q, instance has %q", rank, n.SSHAddr, n.PrivateIP, inst.PrivateIP)
		case inst.ClientToken != fmt.Sprintf("%s-%d", spec.Keys.ID, rank):
			t.Errorf("node %d client token %q", rank, inst.ClientToken)
		case inst.Tags["Name"] != wantName:
			t.Errorf("node %d Name tag %q", rank, inst.Tags["Name"])
		}
	}
}

func wantTags(spec cloud.Spec) map[string]string {
	return map[string]string{
		"creator": "tester", "Purpose": "flambe", "Cluster-Name": "exp", "team": "ml",
		"sear:cluster-id": spec.Keys.ID, "sear:run-id": spec.RunID, "sear:repository": "octo/repo",
		"sear:expires-at": spec.ExpiresAt.UTC().Format(time.RFC3339),
	}
}

func checkInstance(t *testing.T, spec cloud.Spec, inst fakeec2.InstanceState, group string) {
	t.Helper()
	want := wantTags(spec)
	want["Role"], want["Name"] = "Factory", inst.Tags["Name"]
	if inst.Tags["Name"] == "exp_orchestrator" {
		want["Role"] = "Orchestrator"
	}
	if !reflect.DeepEqual(inst.Tags, want) {
		t.Errorf("%s tags = %v\nwant %v", inst.ID, inst.Tags, want)
	}
	if m := inst.MetadataOptions; m.HTTPTokens != "required" || m.HTTPPutResponseHopLimit != 1 || m.HTTPEndpoint != "enabled" {
		t.Errorf("%s metadata options %+v: want IMDSv2 required, hop limit 1", inst.ID, m)
	}
	if inst.ShutdownBehavior != "terminate" || inst.Market != "on-demand" {
		t.Errorf("%s shutdown %q market %q", inst.ID, inst.ShutdownBehavior, inst.Market)
	}
	if inst.ImageID != fakeec2.UbuntuJammyImageID {
		t.Errorf("%s image %s, want the newest Ubuntu 22.04 %s", inst.ID, inst.ImageID, fakeec2.UbuntuJammyImageID)
	}
	if !reflect.DeepEqual(inst.SecurityGroups, []string{group}) || inst.AvailabilityZone != "us-east-1a" {
		t.Errorf("%s groups %v zone %s", inst.ID, inst.SecurityGroups, inst.AvailabilityZone)
	}
}

func checkVolumes(t *testing.T, st fakeec2.StateSnapshot) {
	t.Helper()
	tags := map[string]map[string]string{}
	for _, i := range st.Instances {
		tags[i.ID] = i.Tags
	}
	if len(st.Volumes) != 5 {
		t.Errorf("%d volumes, want one root volume per instance", len(st.Volumes))
	}
	for _, v := range st.Volumes {
		if !reflect.DeepEqual(v.Tags, tags[v.InstanceID]) {
			t.Errorf("volume %s tags %v, its instance's %v", v.ID, v.Tags, tags[v.InstanceID])
		}
		if v.Device != "/dev/sda1" || v.SizeGiB != 100 || v.VolumeType != "gp2" || !v.DeleteOnTermination {
			t.Errorf("volume %+v: want /dev/sda1, 100 GiB gp2, deleted on termination", v)
		}
	}
}

func checkGroup(t *testing.T, spec cloud.Spec, g fakeec2.SecurityGroupState, ssh string) {
	t.Helper()
	want := wantTags(spec)
	want["Name"] = spec.Keys.ID
	if g.Name != spec.Keys.ID || !reflect.DeepEqual(g.Tags, want) {
		t.Errorf("group %s tags %v\nwant %v", g.Name, g.Tags, want)
	}
	var got []string
	for _, r := range g.Ingress {
		got = append(got, fmt.Sprintf("%s %d-%d %s%s", r.Protocol, r.FromPort, r.ToPort, r.CIDR, r.GroupID))
	}
	wantRules := []string{"tcp 22-22 " + ssh, "-1 -1--1 " + g.ID}
	if !reflect.DeepEqual(got, wantRules) {
		t.Errorf("ingress rules %q, want %q: SSH from the runner only, anything from the group itself", got, wantRules)
	}
}

// checkPreflightFirst: every DryRun and describe comes before the first
// call that creates anything, but the launches' DryRuns, which come after
// the group sear creates (asked in no group, they would be asked in the
// VPC's default one, which sear's policy refuses) and before any
// instance, in that group.
func checkPreflightFirst(t *testing.T, f *fixture) {
	t.Helper()
	var seen, afterGroup []string
	group := false
	for _, c := range f.srv.Calls() {
		if c.Action == "CreateSecurityGroup" && c.Params["DryRun"] != "true" {
			group = true
			continue
		}
		if c.Action == "RunInstances" && c.Params["DryRun"] != "true" {
			break
		}
		if !group {
			seen = append(seen, c.Action)
		} else if c.Action == "RunInstances" {
			if c.Params["SecurityGroupId.1"] == "" {
				t.Errorf("a DryRun launch names no security group: %v", c.Params)
			}
			afterGroup = append(afterGroup, c.Action)
		}
	}
	all := strings.Join(seen, " ")
	for _, want := range []string{"DescribeInstanceTypeOfferings", "DescribeSubnets", "DescribeImages", "CreateSecurityGroup"} {
		if !strings.Contains(all, want) {
			t.Errorf("preflight did not call %s before creating anything: %s", want, all)
		}
	}
	if strings.Contains(all, "RunInstances") {
		t.Errorf("a launch was asked before its group existed: %s", all)
	}
	if len(afterGroup) != 2 {
		t.Errorf("%d DryRun launches between the group and the first instance, want 2 (orchestrator, factory)", len(afterGroup))
	}
}

// checkNoPrivateKeys looks at every request sent: each node's user data
// holds its own bootstrap host key and no other private key, and no other
// parameter holds any.
func checkNoPrivateKeys(t *testing.T, f *fixture, spec cloud.Spec) {
	t.Helper()
	names := keyNames(t, spec.Keys)
	launches := 0
	for _, form := range f.forms() {
		for k, vs := range form {
			for _, v := range vs {
				if k == "UserData" {
					launches++
					checkUserData(t, form.Get("ClientToken"), v, spec, names)
				} else if strings.Contains(v, "PRIVATE KEY") {
					t.Errorf("parameter %s carries a private key", k)
				}
			}
		}
	}
	if launches != 7 {
		t.Errorf("saw %d requests with user data, want 7 (2 DryRun, 5 launches)", launches)
	}
	for _, c := range f.srv.Calls() {
		for k, v := range c.Params {
			if strings.Contains(v, "PRIVATE KEY") {
				t.Errorf("call log %s %s carries a private key", c.Action, k)
			}
		}
	}
}

func checkUserData(t *testing.T, token, b64 string, spec cloud.Spec, names map[string]string) {
	t.Helper()
	doc, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("user data is not base64: %v", err)
	}
	if zr, err := gzip.NewReader(bytes.NewReader(doc)); err == nil {
		doc, _ = io.ReadAll(zr)
	}
	found := privateKeysIn(t, string(doc), names)
	// A DryRun launch carries the user data of rank 0 or 1, and a token
	// the SDK made up.
	dryRun := !strings.HasPrefix(token, spec.Keys.ID)
	var want []string
	for rank := range spec.Keys.Nodes {
		own := fmt.Sprintf("host key of node %d", rank)
		if token == fmt.Sprintf("%s-%d", spec.Keys.ID, rank) || (dryRun && rank < 2 && reflect.DeepEqual(found, []string{own})) {
			want = []string{own}
		}
	}
	if !reflect.DeepEqual(found, want) || strings.Count(string(doc), "PRIVATE KEY-----") != 2 {
		t.Errorf("user data of request %q holds %v, want %v", token, found, want)
	}
}

// TestSSHAddress: the public address when there is one; the private one
// in a subnet without public addresses, or when use_private_ip says so.
func TestSSHAddress(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		ownSubnet bool
		extra     []string
	}{
		{"public address of a default subnet", false, nil},
		{"use_private_ip", false, []string{"use_private_ip: true"}},
		{"subnet without public addresses", true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			extra := append([]string{"factories_num: 0"}, c.extra...)
			if c.ownSubnet {
				id, err := f.srv.SeedSubnet("us-east-1b", "172.31.128.0/24")
				if err != nil {
					t.Fatal(err)
				}
				extra = append(extra, "subnet_id: "+id)
			}
			p := f.provider()
			nodes := launch(t, p, newSpec(t, parseCluster(t, clusterYAML(extra...)), "run-1"))
			inst := f.srv.State().Instances[0]
			if nodes[0].SSHAddr != inst.PrivateIP+":22" {
				t.Errorf("SSHAddr %q, instance private address %q", nodes[0].SSHAddr, inst.PrivateIP)
			}
			teardown(t, p)
			assertClean(t, f)
		})
	}
}

// TestSSHIngressCIDR: the cluster file's range replaces the runner's
// address, and the address service is not asked.
func TestSSHIngressCIDR(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	spec := newSpec(t, parseCluster(t, clusterYAML("ssh_ingress_cidr: 198.51.100.0/24")), "run-1")
	launch(t, p, spec)
	checkGroup(t, spec, onlySearGroup(t, f.srv.State()), "198.51.100.0/24")
	if n := f.checkipHits.Load(); n != 0 {
		t.Errorf("address service asked %d times despite ssh_ingress_cidr", n)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestNamedSecurityGroup: the cluster file's group is used as it is;
// sear creates none, changes none and deletes none. It must admit SSH from
// the runner (TestNamedGroupMustAdmitSSH), so the address service is asked.
func TestNamedSecurityGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	groupID := namedGroup(t, f, tcp(22, 22, runnerIP+"/32"))
	setup := len(calls(f, "CreateSecurityGroup", false)) + len(calls(f, "AuthorizeSecurityGroupIngress", false))
	p := f.provider()
	spec := newSpec(t, parseCluster(t, clusterYAML("security_group: "+groupID)), "run-1")
	launch(t, p, spec)
	for _, inst := range f.srv.State().Instances {
		if !reflect.DeepEqual(inst.SecurityGroups, []string{groupID}) {
			t.Errorf("%s in groups %v, want %s", inst.ID, inst.SecurityGroups, groupID)
		}
	}
	teardown(t, p)
	assertClean(t, f)
	n := 0
	for _, a := range []string{"CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "DeleteSecurityGroup"} {
		n += len(calls(f, a, false)) + len(calls(f, a, true))
	}
	if n != setup {
		t.Errorf("%d security group calls with a named security group", n-setup)
	}
	if f.checkipHits.Load() != 1 {
		t.Errorf("address service asked %d times with a named security group, want once", f.checkipHits.Load())
	}
}

// TestRegionFromClusterFile: region_name wins over the configuration's.
func TestRegionFromClusterFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *fakeec2.Options) { o.Region = "eu-west-1" })
	p := f.provider() // configured for us-east-1, which this endpoint refuses
	spec := newSpec(t, parseCluster(t, clusterYAML("region_name: eu-west-1", "volume_type: io1", "volume_size: 20")), "run-1")
	launch(t, p, spec)
	for _, v := range f.srv.State().Volumes {
		if v.VolumeType != "io1" || v.SizeGiB != 20 {
			t.Errorf("volume %+v, want 20 GiB io1", v)
		}
	}
	for _, c := range calls(f, "RunInstances", false) {
		if c.Params["BlockDeviceMapping.1.Ebs.Iops"] != "1000" {
			t.Errorf("io1 volume with Iops %q, want 50 per GiB", c.Params["BlockDeviceMapping.1.Ebs.Iops"])
		}
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestThrottling: with every second call refused RequestLimitExceeded, the
// launch and the teardown still succeed.
func TestThrottling(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{ThrottleEvery: 2})
	p := f.provider()
	launch(t, p, newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	teardown(t, p)
	assertClean(t, f)
	throttled, total := 0, 0
	for _, c := range f.srv.Calls() {
		total++
		if c.ErrorCode == "RequestLimitExceeded" {
			throttled++
		}
	}
	if throttled < total/2-1 {
		t.Errorf("%d of %d calls throttled; the fault did not apply", throttled, total)
	}
}

// TestSpotFallsBackToOnDemand: without spot capacity for the factories'
// type anywhere, spot is tried in every zone first (cheapest first), then
// the factories launch on demand in the first zone, and the log says so;
// the orchestrator's type still has spot capacity. Capacity errors are
// not retried by the SDK, and spot is not asked again where it said no.
func TestSpotFallsBackToOnDemand(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{InsufficientCapacity: map[string]bool{"t3.micro/spot": true}})
	p := f.provider()
	spec := newSpec(t, parseCluster(t, clusterYAML("spot: true")), "run-1")
	nodes := launch(t, p, spec)
	for _, n := range nodes {
		if n.Spot != (n.Rank == 0) {
			t.Errorf("node %d Spot = %v", n.Rank, n.Spot)
		}
	}
	ids := map[string]bool{}
	for _, n := range nodes {
		ids[n.ID] = true
	}
	for _, inst := range f.srv.State().Instances {
		if !ids[inst.ID] {
			if inst.State == "running" || inst.State == "pending" {
				t.Errorf("%s of a failed attempt is %s", inst.ID, inst.State)
			}
			continue
		}
		wantMarket, wantToken := "on-demand", "-od"
		if inst.Tags["Role"] == "Orchestrator" {
			wantMarket, wantToken = "spot", spec.Keys.ID+"-0-t3" // the fourth attempt
		}
		if inst.Market != wantMarket || !strings.HasSuffix(inst.ClientToken, wantToken) {
			t.Errorf("%s market %s token %s", inst.Tags["Name"], inst.Market, inst.ClientToken)
		}
	}
	refused := 0
	for _, c := range calls(f, "RunInstances", false) {
		if c.ErrorCode == "InsufficientInstanceCapacity" {
			refused++
		}
	}
	if refused != 12 {
		t.Errorf("%d spot launches refused, want 12 (one per factory in each of 3 zones, not retried)", refused)
	}
	if got := strings.Count(f.log.String(), "launching exp_factory_"); got != 4 {
		t.Errorf("log tells of %d fallbacks, want 4:\n%s", got, f.log)
	}
	if got := strings.Count(f.log.String(), "failed: InsufficientInstanceCapacity"); got != 3 {
		t.Errorf("log tells of %d failed attempts, want 3:\n%s", got, f.log)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestPartialLaunch: all or nothing. When the factories cannot launch in
// any zone, the launch fails naming the field to change, and the
// orchestrator each zone's attempt did launch is already being terminated
// before Launch returns (failover cleans up after itself); teardown then
// finds nothing alive.
func TestPartialLaunch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{InsufficientCapacity: map[string]bool{"t3.micro": true}})
	p := f.provider()
	_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	if err == nil || !strings.Contains(err.Error(), `factories_type "t3.micro"`) || !strings.Contains(err.Error(), "InsufficientInstanceCapacity") {
		t.Fatalf("Launch error = %v", err)
	}
	orchestrators := 0
	for _, i := range f.srv.State().Instances {
		if i.Tags["Role"] != "Orchestrator" {
			t.Errorf("%s (%s) launched although its type has no capacity", i.ID, i.Tags["Role"])
			continue
		}
		orchestrators++
		if i.State == "running" || i.State == "pending" {
			t.Errorf("orchestrator %s of a failed attempt is still %s", i.ID, i.State)
		}
	}
	if orchestrators != 3 {
		t.Errorf("%d orchestrators launched, want one per zone tried (3)", orchestrators)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestPartialLaunchFaultOneEach: EC2 launching fewer instances than asked
// does not touch sear, which asks for one per call.
func TestPartialLaunchFaultOneEach(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{PartialLaunch: 1})
	p := f.provider()
	if nodes := launch(t, p, newSpec(t, parseCluster(t, clusterYAML()), "run-1")); len(nodes) != 5 {
		t.Errorf("%d nodes", len(nodes))
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestFailedBootIsLaunchedAgain: an instance EC2 terminates during boot is
// replaced once, with a new client token; the failed one is torn down too.
func TestFailedBootIsLaunchedAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetFaults(fakeec2.Faults{FailBoot: map[string]bool{"next": true}})
	p := f.provider()
	spec := newSpec(t, parseCluster(t, clusterYAML()), "run-1")
	nodes := launch(t, p, spec)
	st := f.srv.State()
	if len(nodes) != 5 || len(st.Instances) != 6 {
		t.Fatalf("%d nodes from %d instances, want 5 from 6", len(nodes), len(st.Instances))
	}
	var failed, again fakeec2.InstanceState
	for _, inst := range st.Instances {
		if inst.State == "terminated" {
			failed = inst
		}
		if strings.HasSuffix(inst.ClientToken, "-r1") {
			again = inst
		}
	}
	if failed.StateReason != "Server.InternalError" || again.Tags["Name"] != failed.Tags["Name"] || again.State != "running" {
		t.Errorf("failed %+v, relaunched %+v", failed, again)
	}
	if !strings.Contains(f.log.String(), "launching again: "+failed.ID) {
		t.Errorf("log does not tell of the relaunch:\n%s", f.log)
	}
	teardown(t, p)
	assertClean(t, f)
}

// failingBackend boots nothing: every instance fails to start.
type failingBackend struct{}

func (failingBackend) Start(context.Context, fakeec2.LaunchSpec) (string, error) {
	return "", fmt.Errorf("no room on the host")
}
func (failingBackend) Stop(context.Context, string) error { return nil }

// TestFailedBootTwice: a node that fails to boot again fails the launch.
func TestFailedBootTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *fakeec2.Options) { o.Backend = failingBackend{} })
	p := f.provider()
	_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML("factories_num: 1")), "run-1"))
	if err == nil || !strings.Contains(err.Error(), "failed to boot twice") || !strings.Contains(err.Error(), "Internal error on launch") {
		t.Fatalf("Launch error = %v", err)
	}
	if n := len(f.srv.State().Instances); n != 4 {
		t.Errorf("%d instances, want 2 nodes launched twice", n)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestDefaultImageFollowsArchitecture: without an AMI in the cluster file,
// each node gets Canonical's newest Ubuntu 22.04 for its type's
// architecture.
func TestDefaultImageFollowsArchitecture(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	launch(t, p, newSpec(t, parseCluster(t, clusterYAML("orchestrator_type: t4g.small", "factories_num: 1")), "run-1"))
	for _, inst := range f.srv.State().Instances {
		want := fakeec2.UbuntuJammyImageID
		if inst.InstanceType == "t4g.small" {
			want = fakeec2.UbuntuJammyArmImageID
		}
		if inst.ImageID != want {
			t.Errorf("%s (%s) runs %s, want %s", inst.Tags["Name"], inst.InstanceType, inst.ImageID, want)
		}
	}
	teardown(t, p)
	assertClean(t, f)
}

func TestArchitecture(t *testing.T) {
	t.Parallel()
	for itype, want := range map[string]string{
		"t3.micro": "x86_64", "g4dn.xlarge": "x86_64", "g5.xlarge": "x86_64", "p4d.24xlarge": "x86_64", "m5.large": "x86_64",
		"t4g.small": "arm64", "m6gd.large": "arm64", "c7gn.xlarge": "arm64", "g5g.xlarge": "arm64", "a1.medium": "arm64",
	} {
		if got := architecture(itype); got != want {
			t.Errorf("architecture(%q) = %s, want %s", itype, got, want)
		}
	}
}

// TestSSHAddrChoice: the public address when there is one and
// use_private_ip is not set; the private one otherwise.
func TestSSHAddrChoice(t *testing.T) {
	t.Parallel()
	inst := func(public string) types.Instance {
		return types.Instance{InstanceId: aws.String("i-1"), PrivateIpAddress: aws.String("172.31.0.9"), PublicIpAddress: aws.String(public)}
	}
	for _, c := range []struct {
		public, want string
		private      bool
	}{
		{"54.0.0.1", "54.0.0.1:22", false},
		{"54.0.0.1", "172.31.0.9:22", true},
		{"", "172.31.0.9:22", false},
	} {
		cl := parseCluster(t, clusterYAML(fmt.Sprintf("use_private_ip: %v", c.private)))
		got := readyNodes(cl, []launched{{id: "i-1"}}, map[string]types.Instance{"i-1": inst(c.public)})
		if got[0].SSHAddr != c.want || got[0].PrivateIP != "172.31.0.9" {
			t.Errorf("public %q, use_private_ip %v: SSHAddr %q", c.public, c.private, got[0].SSHAddr)
		}
	}
}
