package ec2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
)

// DefaultCheckIPURL is where the runner learns its public address when the
// cluster file gives no ssh_ingress_cidr: AWS's own service, which answers
// with the caller's IPv4 address and a newline.
const DefaultCheckIPURL = "https://checkip.amazonaws.com"

// Timing paces the calls that wait: polls of DescribeInstances while nodes
// boot or terminate, retries of DeleteSecurityGroup, and the SDK retryer's
// backoff. The zero value is the production pacing; tests shorten it.
type Timing struct {
	// Poll is the first pause between polls; it grows by half each time up
	// to MaxPoll. Defaults 2s and 5s: a node that is ready is seen at most
	// 5 s late, for one DescribeInstances call per 5 s per cluster, far
	// under EC2's request rate for describe calls.
	Poll, MaxPoll time.Duration
	// RetryMaxBackoff caps the SDK retryer's backoff between attempts of
	// one call (throttling, 5xx). Default 20s, the SDK's own.
	RetryMaxBackoff time.Duration
}

func (t Timing) withDefaults() Timing {
	if t.Poll <= 0 {
		t.Poll = 2 * time.Second
	}
	if t.MaxPoll < t.Poll {
		t.MaxPoll = max(5*time.Second, t.Poll)
	}
	if t.RetryMaxBackoff <= 0 {
		t.RetryMaxBackoff = 20 * time.Second
	}
	return t
}

// Options configures a Provider.
type Options struct {
	Timing
	// Log receives what a user should know happened: a spot launch that
	// fell back to on-demand, a node relaunched after a failed boot, what
	// teardown deleted. nil discards it.
	Log io.Writer
	// CheckIPURL answers with the runner's public address (the body is the
	// address and a newline). Empty means DefaultCheckIPURL; the caller
	// passes SEAR_CHECKIP_URL here. Not used when the cluster file gives
	// ssh_ingress_cidr or security_group.
	CheckIPURL string
	// HTTPClient fetches CheckIPURL; nil means a client with a timeout.
	HTTPClient *http.Client
	// Creator is the creator tag when the cluster file has none (the
	// GitHub actor, or the local user); empty means "sear".
	Creator string
}

// Provider brings one cluster up on EC2 and takes it down. It implements
// cloud.Provider; Terminate is the fast path a signal handler takes before
// Teardown. It is safe for concurrent use: Terminate and Teardown may run
// while Launch is still waiting.
type Provider struct {
	cfg  aws.Config
	opts Options

	mu          sync.Mutex
	api         *api // bound to the cluster's region by Launch
	clusterID   string
	instances   []*instanceRecord
	groups      []*groupRecord
	attempts    []cloud.LaunchAttempt // the capacity failover's, in order
	terminating bool                  // Terminate or Teardown has begun: launch nothing more
}

// instanceRecord is an instance this provider created.
type instanceRecord struct {
	id   string
	name string
	gone bool // seen terminated
}

// groupRecord is a security group this provider created.
type groupRecord struct {
	id   string
	gone bool // deleted
}

var _ cloud.Provider = (*Provider)(nil)

// New returns a provider that calls EC2 with cfg's credentials and
// endpoint (AWS_ENDPOINT_URL_EC2 reaches the test world). The region is the
// cluster file's region_name when it gives one, else cfg.Region.
func New(cfg aws.Config, opts Options) *Provider {
	opts.Timing = opts.Timing.withDefaults()
	if opts.CheckIPURL == "" {
		opts.CheckIPURL = DefaultCheckIPURL
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if opts.Creator == "" {
		opts.Creator = "sear"
	}
	return &Provider{cfg: cfg, opts: opts}
}

// errStopping is what a launch step meets once teardown has begun.
var errStopping = errors.New("teardown has begun: launching nothing more")

// bind fixes the cluster and region this provider works on. A provider
// launches one cluster, once.
func (p *Provider) bind(spec cloud.Spec) (*api, error) {
	region, err := regionFor(p.cfg, spec.Cluster)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.terminating:
		return nil, errStopping
	case p.clusterID != "":
		return nil, fmt.Errorf("this EC2 provider already launched cluster %s; use a new one for each cluster", p.clusterID)
	}
	p.clusterID = spec.Keys.ID
	p.api = newAPI(p.cfg, region, p.opts.Timing, p.opts.Log)
	return p.api, nil
}

// regionFor is region_name when the cluster file gives it, else the
// configuration's region (AWS_REGION, the action's aws-region input).
func regionFor(cfg aws.Config, c *config.Cluster) (string, error) {
	region := cfg.Region
	if c != nil && c.RegionName != "" {
		region = c.RegionName
	}
	if region == "" {
		return "", errors.New("no AWS region: set region_name in the cluster file, the action's aws-region input, or AWS_REGION")
	}
	return region, nil
}

// bound returns the api and cluster id, or nil before Launch.
func (p *Provider) bound() (*api, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.api, p.clusterID
}

// recordInstance remembers an instance the moment RunInstances returns it,
// before any waiting, so that teardown finds it whatever happens next. It
// reports whether teardown has already begun, in which case the caller
// terminates the instance at once.
func (p *Provider) recordInstance(id, name string) (stopping bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.instances = append(p.instances, &instanceRecord{id: id, name: name})
	return p.terminating
}

// recordGroup remembers a security group the moment it is created.
func (p *Provider) recordGroup(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groups = append(p.groups, &groupRecord{id: id})
}

// stopping reports whether teardown has begun.
func (p *Provider) stopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.terminating
}

// known marks teardown as begun and returns the instances and groups
// recorded and not yet seen gone.
func (p *Provider) known() (instances, groups []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.terminating = true
	for _, r := range p.instances {
		if !r.gone {
			instances = append(instances, r.id)
		}
	}
	for _, g := range p.groups {
		if !g.gone {
			groups = append(groups, g.id)
		}
	}
	return instances, groups
}

// markGone records what teardown saw terminated or deleted, so a second
// Teardown does not ask again.
func (p *Provider) markGone(res reapResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.instances {
		if res.terminated[r.id] {
			r.gone = true
		}
	}
	for _, g := range p.groups {
		if res.deleted[g.id] {
			g.gone = true
		}
	}
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// stillLive is the instance-state-name filter for every state but
// terminated: what a teardown still has to terminate.
var stillLive = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

// withContextTimeout bounds ctx by d when d is positive.
func withContextTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
