package run

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/local"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/timebudget"
)

// slowProvider is a local cluster whose launch and teardown take a while,
// and which records when the launch began and the teardown ended.
type slowProvider struct {
	*local.Provider
	launchFor, teardownFor time.Duration
	// mute, if set, is the address every node gets instead: it accepts
	// and never answers, like an instance whose sshd is not up.
	mute string

	mu                 sync.Mutex
	launched, tornDown time.Time
}

func (p *slowProvider) Launch(ctx context.Context, spec cloud.Spec) ([]cloud.Node, error) {
	p.mu.Lock()
	p.launched = time.Now()
	p.mu.Unlock()
	time.Sleep(p.launchFor)
	nodes, err := p.Provider.Launch(ctx, spec)
	if p.mute != "" {
		for i := range nodes {
			nodes[i].SSHAddr = p.mute
		}
	}
	return nodes, err
}

func (p *slowProvider) RotateHostKey(ctx context.Context, n cloud.Node, k *keys.SSHKey, c *remote.Client) error {
	return p.Provider.RotateHostKey(ctx, n, k, c)
}

func (p *slowProvider) Teardown(ctx context.Context) error {
	time.Sleep(p.teardownFor)
	err := p.Provider.Teardown(ctx)
	p.mu.Lock()
	p.tornDown = time.Now()
	p.mu.Unlock()
	return err
}

// muteListener accepts connections and never says a word.
func muteListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return l.Addr().String()
}

func phase(res *Result, name string) (Phase, bool) {
	for _, ph := range res.Phases {
		if ph.Name == name && !ph.Cleanup {
			return ph, true
		}
	}
	return Phase{}, false
}

// ready_timeout is spent once: a launch that takes 70% of it leaves the
// SSH dial 30%, not a fresh window, and the error names ready_timeout.
func TestReadyTimeoutIsSpentOnce(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: once\n")
	b := c.TimeBudget()
	b.Ready = 4 * time.Second
	p := &slowProvider{Provider: local.New(), launchFor: 2800 * time.Millisecond, mute: muteListener(t)}
	res, err := Run(context.Background(), Options{Runnable: r, Cluster: c, Workspace: t.TempDir(), OutputDir: t.TempDir(), Provider: p, Budget: &b})
	if err == nil || !strings.Contains(err.Error(), "ready_timeout 4s ran out") || !strings.Contains(err.Error(), "raise ready_timeout") {
		t.Fatalf("err = %v, want ready_timeout to run out", err)
	}
	ph, ok := phase(res, "connect")
	if !ok {
		t.Fatalf("no connect phase in %+v", res.Phases)
	}
	// 1.2s were left; a fresh window would have been 4s.
	if ph.Duration > 2500*time.Millisecond {
		t.Errorf("connect took %s, more than the 1.2s the launch left of ready_timeout", ph.Duration)
	}
}

// A run whose phases each take just under their bound is not cut short,
// and its teardown ends before the nodes' own deadline (launch + Lifetime).
func TestPhasesJustUnderTheirBoundsEndBeforeTheLifetime(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: under\nsetup_cmds: [\"sleep 1.6\"]\n")
	b := timebudget.Budget{
		Ready: 6 * time.Second, Upload: 3 * time.Second, Setup: 2 * time.Second,
		MaxDuration: 2 * time.Second, JobOverhead: 2 * time.Second, Collect: 2 * time.Second,
		Teardown: 2 * time.Second, Slack: time.Second,
	}
	p := &slowProvider{Provider: local.New(), launchFor: 3 * time.Second, teardownFor: 1600 * time.Millisecond}
	res, err := Run(context.Background(), Options{
		Runnable: r, Cluster: c, Workspace: t.TempDir(), OutputDir: t.TempDir(), Provider: p, Budget: &b,
		Command: "sleep 1.6",
	})
	if err != nil {
		t.Fatalf("a run inside its bounds failed: %v", err)
	}
	if res.ExitStatus != 0 || res.TimedOut {
		t.Fatalf("exit %d, timed out %v", res.ExitStatus, res.TimedOut)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if expires := p.launched.Add(b.Lifetime()); !p.tornDown.Before(expires) {
		t.Errorf("teardown ended %s after the launch, not before the nodes' deadline at %s", p.tornDown.Sub(p.launched), b.Lifetime())
	}
}

// A phase that outruns its bound says which bound and what to change.
func TestSetupOutrunningItsBoundSaysSo(t *testing.T) {
	t.Parallel()
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: slowsetup\nsetup_cmds: [\"sleep 30\"]\n")
	b := c.TimeBudget()
	b.Setup = time.Second
	_, err := Run(context.Background(), Options{Runnable: r, Cluster: c, Workspace: t.TempDir(), OutputDir: t.TempDir(), Provider: local.New(), Budget: &b, Command: "true"})
	if err == nil || !strings.Contains(err.Error(), "setup_cmds ran out of their 1s bound") {
		t.Fatalf("err = %v, want setup_cmds' bound named", err)
	}
}
