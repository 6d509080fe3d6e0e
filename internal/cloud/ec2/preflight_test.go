package ec2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
)

// TestPreflightFailures: each problem is reported naming the cluster file
// field (or the permission) to fix, before anything is created; a problem
// with a field holds a *config.Error at the field's line (at, as
// file:line:col), which the action turns into an annotation.
func TestPreflightFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		extra   []string
		subnet  string // a subnet to seed in this zone and name in subnet_id
		hook    func(http.ResponseWriter, url.Values) bool
		checkip string
		want    []string
		at      string // "" for a problem that is not a field's
		// launchAsked: the launch is refused when it is asked, after the
		// group sear makes exists (see dryRuns) and before any instance.
		launchAsked bool
	}{
		{name: "missing AMI", extra: []string{"orchestrator_ami: ami-0123456789abcdef0"},
			want: []string{`orchestrator_ami "ami-0123456789abcdef0" does not exist in region us-east-1`}, at: "cluster.yaml:8:1"},
		{name: "missing factory AMI", extra: []string{"factory_ami: ami-0123456789abcdef1"},
			want: []string{`factory_ami "ami-0123456789abcdef1"`}, at: "cluster.yaml:8:1"},
		{name: "bad subnet", extra: []string{"subnet_id: subnet-0123456789abcdef0"},
			want: []string{`subnet_id "subnet-0123456789abcdef0" does not exist`}, at: "cluster.yaml:8:1"},
		{name: "type not offered in the subnet's zone", subnet: "us-east-1c", extra: []string{"factories_type: p4d.24xlarge"},
			want: []string{`factories_type "p4d.24xlarge" is not offered in us-east-1c`, "us-east-1a, us-east-1b"}, at: "cluster.yaml:4:1"},
		{name: "unknown type", extra: []string{"orchestrator_type: t3.gigantic"},
			want: []string{`orchestrator_type "t3.gigantic" is not offered in region us-east-1`}, at: "cluster.yaml:5:1"},
		{name: "unknown alternate type", extra: []string{"orchestrator_type: [t3.small, t3.gigantic]"},
			want: []string{`orchestrator_type "t3.gigantic" is not offered in region us-east-1`}, at: "cluster.yaml:5:31"},
		{name: "architecture of a named AMI", extra: []string{"orchestrator_ami: " + fakeec2.UbuntuJammyArmImageID},
			want: []string{"orchestrator_ami " + fakeec2.UbuntuJammyArmImageID + " is an arm64 image", `orchestrator_type "t3.small" is x86_64`}, at: "cluster.yaml:8:1"},
		{name: "architecture of an alternate type", extra: []string{"factory_ami: " + fakeec2.UbuntuJammyImageID, "factories_type: [t3.micro, t4g.micro]"},
			want: []string{"factory_ami " + fakeec2.UbuntuJammyImageID + " is an x86_64 image", `factories_type "t4g.micro" is arm64`}, at: "cluster.yaml:4:28"},
		{name: "named security group missing", extra: []string{"security_group: sg-0123456789abcdef0"},
			want: []string{`security_group "sg-0123456789abcdef0" does not exist`}, at: "cluster.yaml:8:1"},
		{name: "launch not permitted", hook: denyAction("RunInstances"),
			want: []string{"may not call ec2:RunInstances", "UnauthorizedOperation", "sear plan", "decode-authorization-message"}, launchAsked: true},
		{name: "launch parameters refused", hook: refuseDryRun("RunInstances", "Unsupported"),
			want: []string{"Unsupported", "check orchestrator_type and subnet_id"}, at: "cluster.yaml:5:1", launchAsked: true},
		{name: "address service answers nonsense", checkip: "<html>captive portal</html>",
			want: []string{"not an IP address", "ssh_ingress_cidr", "SEAR_CHECKIP_URL"}},
		{name: "address service answers two lines", checkip: "203.0.113.7\n10.0.0.1\n",
			want: []string{"not an IP address"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if c.subnet != "" {
				id, err := f.srv.SeedSubnet(c.subnet, "172.31.200.0/24")
				if err != nil {
					t.Fatal(err)
				}
				c.extra = append(c.extra, "subnet_id: "+id)
			}
			f.setHook(c.hook)
			if c.checkip != "" {
				f.checkipBody.Store(c.checkip)
			}
			p := f.provider()
			_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML(c.extra...)), "run-1"))
			if err == nil {
				t.Fatal("Launch succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			checkAt(t, err, c.at)
			if c.launchAsked {
				if !strings.Contains(err.Error(), "before any instance was launched") {
					t.Errorf("error does not say no instance was launched: %v", err)
				}
				if n := len(calls(f, "RunInstances", false)); n != 0 {
					t.Errorf("%d instances launched after a refused DryRun", n)
				}
				teardown(t, p)
				if st := f.srv.State(); len(live(st)) != 0 || len(searGroups(st)) != 0 {
					t.Errorf("after the teardown: %d instances, %d groups", len(live(st)), len(searGroups(st)))
				}
				return
			}
			if !strings.Contains(err.Error(), "before anything was created") {
				t.Errorf("error does not say nothing was created: %v", err)
			}
			assertNothingCreated(t, f)
			teardown(t, p)
		})
	}
}

// checkAt checks that err holds a *config.Error at at (file:line:col)
// with its source line, or, for at "", none.
func checkAt(t *testing.T, err error, at string) {
	t.Helper()
	var ce *config.Error
	switch {
	case !errors.As(err, &ce):
		if at != "" {
			t.Errorf("no *config.Error in %v", err)
		}
	case at == "":
		t.Errorf("a *config.Error at %s:%d:%d for a problem that is not a field's: %v", ce.File, ce.Line, ce.Col, err)
	case fmt.Sprintf("%s:%d:%d", ce.File, ce.Line, ce.Col) != at || ce.Source == "":
		t.Errorf("the *config.Error is at %s:%d:%d (source %q), want %s", ce.File, ce.Line, ce.Col, ce.Source, at)
	}
}

// TestChecksPointAtTheField: the checks preflight makes without asking
// EC2 put their findings at the field to change too: volume_size when the
// file gives it, else the AMI whose snapshot is larger; tags when it
// lists more than EC2 leaves room for.
func TestChecksPointAtTheField(t *testing.T) {
	t.Parallel()
	big := imageInfo{id: "ami-0123456789abcdef0", rootSize: 200}
	c := parseCluster(t, clusterYAML("volume_size: 100"))
	checkAt(t, checkVolume(c, c.Node(0), big), "cluster.yaml:8:1")
	c = parseCluster(t, clusterYAML("orchestrator_ami: ami-0123456789abcdef0"))
	checkAt(t, checkVolume(c, c.Node(0), big), "cluster.yaml:8:1")

	tags := []string{"tags:"}
	for i := range 42 {
		tags = append(tags, fmt.Sprintf("  t%d: v", i))
	}
	c = parseCluster(t, strings.Replace(clusterYAML(), "tags:\n  team: ml\n", strings.Join(tags, "\n")+"\n", 1))
	err := checkTagCount(newSpec(t, c, "run-1"))
	if err == nil || !strings.Contains(err.Error(), "tags lists 42 tags") {
		t.Fatalf("42 tags: %v", err)
	}
	checkAt(t, err, "cluster.yaml:6:1")
}

// refuseDryRun answers every DryRun call of action with code, as EC2
// refuses parameters it would not launch with.
func refuseDryRun(action, code string) func(http.ResponseWriter, url.Values) bool {
	return func(w http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") != action || form.Get("DryRun") != "true" {
			return false
		}
		ec2Error(w, http.StatusBadRequest, code, "The requested configuration is currently not supported.")
		return true
	}
}
