package ec2

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
)

// sweepWorld has two clusters of run "run-a" (one expiring in an hour,
// one in three days) and one of run "run-b" (expiring in an hour).
type sweepWorld struct {
	f                *fixture
	soonA, lateA, bB cloud.Spec
}

func newSweepWorld(t *testing.T) *sweepWorld {
	t.Helper()
	w := &sweepWorld{f: newFixture(t)}
	c := parseCluster(t, clusterYAML("factories_num: 1"))
	w.soonA, w.lateA, w.bB = newSpec(t, c, "run-a"), newSpec(t, c, "run-a"), newSpec(t, c, "run-b")
	w.soonA.ExpiresAt = time.Now().Add(time.Hour).Truncate(time.Second)
	w.lateA.ExpiresAt = time.Now().Add(72 * time.Hour).Truncate(time.Second)
	w.bB.ExpiresAt = w.soonA.ExpiresAt
	for _, s := range []cloud.Spec{w.soonA, w.lateA, w.bB} {
		launch(t, w.f.provider(), s)
	}
	return w
}

// liveOf lists the clusters that still have running instances or groups.
func (w *sweepWorld) liveOf() []string {
	st := w.f.srv.State()
	names := map[string]string{w.soonA.Keys.ID: "soonA", w.lateA.Keys.ID: "lateA", w.bB.Keys.ID: "bB"}
	seen := map[string]bool{}
	for _, i := range live(st) {
		seen[names[i.Tags["sear:cluster-id"]]] = true
	}
	for _, g := range searGroups(st) {
		seen[names[g.Tags["sear:cluster-id"]]+"/sg"] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSweep(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		opts  SweepOptions
		found int // instances found
		left  string
	}{
		{"by run id", SweepOptions{RunID: "run-a"}, 4, "bB bB/sg"},
		{"expired", SweepOptions{Expired: true, Now: time.Now().Add(48 * time.Hour)}, 4, "lateA lateA/sg"},
		{"nothing expired yet", SweepOptions{Expired: true}, 0, "bB bB/sg lateA lateA/sg soonA soonA/sg"},
		{"expired, of this repository", SweepOptions{Expired: true, Now: time.Now().Add(48 * time.Hour), Repository: "octo/repo"}, 4, "lateA lateA/sg"},
		{"expired, of another repository", SweepOptions{Expired: true, Now: time.Now().Add(48 * time.Hour), Repository: "octo/other"}, 0, "bB bB/sg lateA lateA/sg soonA soonA/sg"},
		{"dry run lists and deletes nothing", SweepOptions{RunID: "run-a", DryRun: true}, 4, "bB bB/sg lateA lateA/sg soonA soonA/sg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newSweepWorld(t)
			log := &syncBuffer{}
			c.opts.Timing, c.opts.Log = fast, log
			res, err := Sweep(context.Background(), w.f.cfg(), c.opts)
			if err != nil {
				t.Fatalf("Sweep: %v", err)
			}
			if len(res.Instances) != c.found || len(res.SecurityGroups) != c.found/2 || res.Region != testRegion {
				t.Errorf("found %d instances and %d groups, want %d and %d", len(res.Instances), len(res.SecurityGroups), c.found, c.found/2)
			}
			if got := strings.Join(w.liveOf(), " "); got != c.left {
				t.Errorf("left %q, want %q", got, c.left)
			}
			if got := strings.Count(log.String(), "sear sweep: "); got != c.found+c.found/2 {
				t.Errorf("log has %d lines for %d resources:\n%s", got, c.found+c.found/2, log)
			}
			if c.opts.DryRun {
				for _, a := range []string{"TerminateInstances", "DeleteSecurityGroup"} {
					if n := len(calls(w.f, a, false)); n != 0 {
						t.Errorf("dry run made %d %s calls", n, a)
					}
				}
				if !strings.Contains(log.String(), "would delete") {
					t.Errorf("dry run log:\n%s", log)
				}
			}
		})
	}
}

func TestSweepOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, opts := range []SweepOptions{{}, {RunID: "x", Expired: true}} {
		if _, err := Sweep(context.Background(), f.cfg(), opts); err == nil || !strings.Contains(err.Error(), "--run-id") {
			t.Errorf("Sweep(%+v) = %v", opts, err)
		}
	}
	if n := len(f.srv.Calls()); n != 0 {
		t.Errorf("%d calls for invalid options", n)
	}
}

// TestSweepLeftovers: a sweep that cannot delete lists the commands.
func TestSweepLeftovers(t *testing.T) {
	t.Parallel()
	w := newSweepWorld(t)
	w.f.setHook(denyAction("TerminateInstances"))
	_, err := Sweep(context.Background(), w.f.cfg(), SweepOptions{Timing: fast, RunID: "run-b"})
	var left *LeftoverError
	if !errors.As(err, &left) || len(left.Instances) != 2 || len(left.SecurityGroups) != 1 {
		t.Fatalf("Sweep error = %v", err)
	}
	if !strings.Contains(err.Error(), "may not call ec2:TerminateInstances") || !strings.Contains(err.Error(), "aws ec2 terminate-instances --region us-east-1") {
		t.Errorf("error:\n%v", err)
	}
}
