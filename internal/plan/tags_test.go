package plan_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/plan"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// TestPlanTagsAreWhatEC2Tags launches a cluster in the emulated EC2 and
// checks that every resource carries exactly the tags sear plan says it
// does: the same keys, and the same values where the plan can know them
// (a placeholder, <…>, stands for one value; "A | B" for either). The
// security group has no Role, and its Name is its group name.
func TestPlanTagsAreWhatEC2Tags(t *testing.T) {
	t.Parallel()
	for name, creator := range map[string]string{"creator given": "creator: ml-team@example.com\n", "creator from the runner": ""} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "cluster.yaml")
			yaml := "!AWSCluster\nname: exp\nfactories_num: 2\nfactories_type: t3.micro\norchestrator_type: t3.small\n" +
				"ssh_ingress_cidr: 203.0.113.7/32\ntags:\n  team: ml\n  cost-center: \"42\"\n" + creator
			if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			c := loadCluster(t, path)
			p := plan.Make(plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: c, Repository: repo, Region: "us-east-1"})
			st := launchInEmulator(t, p, c)

			if len(st.Instances) != c.Nodes() || len(st.Volumes) != c.Nodes() || len(st.SecurityGroups) < 2 {
				t.Fatalf("%d instances, %d volumes, %d groups", len(st.Instances), len(st.Volumes), len(st.SecurityGroups))
			}
			for _, inst := range st.Instances {
				checkTags(t, "instance "+inst.ID, p.Tags, inst.Tags)
			}
			for _, v := range st.Volumes {
				checkTags(t, "volume "+v.ID, p.Tags, v.Tags)
			}
			want := map[string]string{}
			for k, v := range p.Tags {
				want[k] = v
			}
			delete(want, cloud.TagRole)
			for _, g := range st.SecurityGroups {
				if strings.HasPrefix(g.Name, "sear-") {
					want[cloud.TagName] = g.Name
					checkTags(t, "security group "+g.ID, want, g.Tags)
				}
			}
		})
	}
}

// launchInEmulator launches c with the EC2 provider against a fresh
// emulator and returns what the emulator holds once it runs.
func launchInEmulator(t *testing.T, p *plan.Plan, c *config.Cluster) fakeec2.StateSnapshot {
	t.Helper()
	srv := fakeec2.New(fakeec2.Options{Region: p.Cluster.Region, Credentials: sigv4.StaticSource{"AKIASEARPLANTAGS0001": "secret"}})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	cfg := aws.Config{Region: p.Cluster.Region, HTTPClient: hs.Client(), BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIASEARPLANTAGS0001", "secret", "")}
	kc, err := keys.New(keys.Options{Nodes: c.Nodes(), Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	prov := ec2.New(cfg, ec2.Options{Timing: ec2.Timing{Poll: 5 * time.Millisecond, RetryMaxBackoff: 10 * time.Millisecond}, Creator: "octocat"})
	spec := cloud.Spec{Cluster: c, Keys: kc, RunID: "7-1", Repository: repo, ExpiresAt: time.Now().Add(time.Hour)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := prov.Launch(ctx, spec); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() {
		if err := prov.Teardown(context.Background()); err != nil {
			t.Errorf("Teardown: %v", err)
		}
	})
	return srv.State()
}

// checkTags compares a resource's tags with the plan's.
func checkTags(t *testing.T, what string, planned, got map[string]string) {
	t.Helper()
	if pk, gk := sortedKeys(planned), sortedKeys(got); strings.Join(pk, " ") != strings.Join(gk, " ") {
		t.Errorf("%s is tagged %v; sear plan says %v", what, gk, pk)
		return
	}
	for k, v := range planned {
		if !planMatches(v, got[k]) {
			t.Errorf("%s: tag %s = %q; sear plan says %q", what, k, got[k], v)
		}
	}
}

// planMatches reports whether value is one the plan's description allows.
func planMatches(description, value string) bool {
	var alts []string
	for _, alt := range strings.Split(description, " | ") {
		parts := regexp.MustCompile(`<[^>]*>`).Split(alt, -1)
		for i, part := range parts {
			parts[i] = regexp.QuoteMeta(part)
		}
		alts = append(alts, strings.Join(parts, ".+"))
	}
	return regexp.MustCompile(`^(?:` + strings.Join(alts, "|") + `)$`).MatchString(value)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
