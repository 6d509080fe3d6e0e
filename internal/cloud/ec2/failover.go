package ec2

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
)

// market is how the nodes of one attempt launch.
type market int

const (
	onDemand market = iota
	// spotOnly launches on the spot market, and a node without spot
	// capacity fails the attempt: the failover tries spot in the next
	// zone before paying for on-demand anywhere.
	spotOnly
	// spotElseOnDemand launches on the spot market, and a node without
	// spot capacity on demand in the same zone (sear's fallback before
	// the failover existed).
	spotElseOnDemand
)

func (m market) String() string {
	switch m {
	case spotOnly:
		return "spot"
	case spotElseOnDemand:
		return "spot, else on-demand"
	}
	return "on-demand"
}

// spotMemo remembers where spot was refused, by zone and instance type,
// so that the pass that may fall back to on-demand does not ask the spot
// market again where it just said no. Nodes launch in parallel, hence the
// lock.
type spotMemo struct {
	mu      sync.Mutex
	refused map[string]string // zone/type → the error code
}

func (m *spotMemo) refuse(az, itype, code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refused[az+"/"+itype] = code
}

func (m *spotMemo) refusedCode(az, itype string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.refused[az+"/"+itype]
	return c, ok
}

// LaunchError is cloud.LaunchError: the failover's attempts come back in
// the provider-neutral type, so that command reports them without
// knowing the provider.
type LaunchError = cloud.LaunchError

// nodeFailure is one node's failed launch within an attempt.
type nodeFailure struct {
	node nodePlan
	err  error
}

// noRoom reports the errors after which the same cluster may launch in
// another zone or as another instance type: no capacity for the type in
// the zone (InsufficientInstanceCapacity; InsufficientCapacity is its
// sibling in the EC2 error table), or a zone that does not support the
// request (Unsupported). A quota (VcpuLimitExceeded, InstanceLimitExceeded)
// is the region's, the same in every zone, and is not failed over.
func noRoom(err error) bool {
	return isCode(err, "InsufficientInstanceCapacity", "InsufficientCapacity", "Unsupported")
}

// launchCluster launches every node in one subnet, and fails over when EC2
// has no room there. The order, cheapest first:
//
//  1. with spot: true, spot in each zone in turn, every node on spot or
//     the attempt fails (spot costs a fraction of on-demand, and a failed
//     attempt costs next to nothing: EC2 bills an instance once it runs,
//     and sear terminates the attempt's instances while they are pending);
//  2. then each zone in turn again, where a node that spot refused
//     launches on demand (the others stay on spot): spot where there is
//     any, on-demand only for the nodes that need it;
//  3. then the next instance type of each role whose type EC2 had no room
//     for, and both passes again.
//
// All or nothing: the nodes talk to each other, so they all launch in one
// zone, and what an attempt launched is terminated before the next. The
// per-run security group is per VPC and stays.
func (p *Provider) launchCluster(ctx context.Context, a *api, spec cloud.Spec, plan *launchPlan, groupID string) (*launchPlan, []launched, error) {
	c := spec.Cluster
	markets := []market{onDemand}
	if c.Spot {
		markets = []market{spotOnly, spotElseOnDemand}
	}
	var idx [2]int // each role's current choice
	try := 0
	var last error
	for {
		var refused [2]bool // a role whose current type met no room
		tried := 0
	passes:
		for _, m := range markets {
			for _, sn := range plan.subnets {
				if !plan.zoneOffers(sn.az, idx) {
					continue
				}
				ap := plan.attempt(sn, idx, m, try)
				try++
				tried++
				started, failures := p.launchAttempt(ctx, a, spec, ap, groupID)
				p.recordAttempt(attemptOf(ap, failures))
				if len(failures) == 0 {
					if m == spotOnly {
						ap.market = spotElseOnDemand // a relaunch after a failed boot may fall back
					}
					return ap, started, nil
				}
				last = joinFailures(failures)
				if !failsOver(failures, m) || p.stopping() {
					return nil, nil, last // what started is recorded: Teardown ends it
				}
				p.endAttempt(ctx, a, ap, started, failures)
				for _, f := range failures {
					if m != spotOnly && noRoom(f.err) {
						refused[roleIndex(f.node.file.Role)] = true
					}
				}
				if m == spotOnly && isCode(failures[0].err, "MaxSpotInstanceCountExceeded") {
					logf(a.log, "sear: the account's spot quota is used up in %s; no other zone will do better", a.region)
					break // the spot pass; the region's quota is the same in every zone
				}
			}
			if ctx.Err() != nil {
				break passes
			}
		}
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("launch cancelled during the capacity failover: %w", context.Cause(ctx))
		}
		advanced := false
		for r := range idx {
			if (refused[r] || tried == 0) && idx[r]+1 < len(plan.choices[r]) {
				idx[r]++
				advanced = true
				// Rank r is of role r: the orchestrator, then a factory.
				logf(a.log, "sear: trying the next %s, %s", c.Node(r).TypeField, plan.choices[r][idx[r]].itype)
			}
		}
		if !advanced {
			return nil, nil, p.exhausted(last)
		}
	}
}

// exhausted is the error once every zone and type was tried.
func (p *Provider) exhausted(last error) error {
	p.mu.Lock()
	n := len(p.attempts)
	p.mu.Unlock()
	if last == nil {
		return fmt.Errorf("no zone of the subnets sear may use offers the instance types together; check subnet_id, orchestrator_type and factories_type")
	}
	return fmt.Errorf("%w (after %s in every zone and instance type the cluster file allows: list more subnets in subnet_id, or alternates in orchestrator_type and factories_type)",
		last, plural(n, "attempt", "attempts"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// zoneOffers reports whether az offers the current type of each role.
func (plan *launchPlan) zoneOffers(az string, idx [2]int) bool {
	for r, list := range plan.choices {
		if len(list) > 0 && !plan.offered[list[idx[r]].itype][az] {
			return false
		}
	}
	return true
}

// attempt is a copy of plan for one attempt.
func (plan *launchPlan) attempt(sn subnetInfo, idx [2]int, m market, try int) *launchPlan {
	ap := *plan
	ap.subnet, ap.market, ap.try = sn, m, try
	ap.nodes = make([]nodePlan, len(plan.nodes))
	for i, n := range plan.nodes {
		r := roleIndex(n.file.Role)
		t := plan.choices[r][idx[r]]
		n.itype, n.gpus, n.image = t.itype, t.gpus, t.image
		ap.nodes[i] = n
	}
	return &ap
}

// roleIndex is a role's place in launchPlan.choices: the orchestrator's,
// then the factories'.
func roleIndex(r config.Role) int {
	if r == config.RoleOrchestrator {
		return 0
	}
	return 1
}

// launchAttempt launches every node of ap in parallel.
func (p *Provider) launchAttempt(ctx context.Context, a *api, spec cloud.Spec, ap *launchPlan, groupID string) ([]launched, []nodeFailure) {
	out := make([]launched, len(ap.nodes))
	errs := make([]error, len(ap.nodes))
	var wg sync.WaitGroup
	for i, n := range ap.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = p.launchNode(ctx, a, spec, ap, n, groupID, 0)
		}()
	}
	wg.Wait()
	var started []launched
	var failures []nodeFailure
	for i, err := range errs {
		if err != nil {
			failures = append(failures, nodeFailure{ap.nodes[i], err})
		} else {
			started = append(started, out[i])
		}
	}
	return started, failures
}

// failsOver reports whether every failure of an attempt in market m is one
// another place may not have.
func failsOver(failures []nodeFailure, m market) bool {
	for _, f := range failures {
		if !noRoom(f.err) && !(m == spotOnly && spotUnavailable(f.err)) {
			return false
		}
	}
	return true
}

func joinFailures(failures []nodeFailure) error {
	if len(failures) == 1 {
		return failures[0].err
	}
	parts := make([]string, len(failures))
	for i, f := range failures {
		parts[i] = f.err.Error()
	}
	// The first keeps its type, for code() and the LeftoverError check.
	return fmt.Errorf("%w; and %s", failures[0].err, strings.Join(parts[1:], "; "))
}

// attemptOf is the record of an attempt for the log and the report.
func attemptOf(ap *launchPlan, failures []nodeFailure) cloud.LaunchAttempt {
	at := cloud.LaunchAttempt{Zone: ap.subnet.az, Subnet: ap.subnet.id, Market: ap.market.String()}
	for _, n := range ap.nodes {
		if n.file.Role == config.RoleOrchestrator {
			at.OrchestratorType = n.itype
		} else {
			at.FactoriesType = n.itype
		}
	}
	if len(failures) > 0 {
		at.Code, at.Node = code(failures[0].err), failures[0].node.file.Name
		if at.Code == "" {
			at.Code = "error"
		}
	}
	return at
}

// recordAttempt keeps an attempt for the nodes and the LaunchError.
func (p *Provider) recordAttempt(at cloud.LaunchAttempt) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts = append(p.attempts, at)
}

// Attempts are the launches tried so far, in order.
func (p *Provider) Attempts() []cloud.LaunchAttempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]cloud.LaunchAttempt(nil), p.attempts...)
}

// endAttempt says why an attempt failed and terminates what it launched,
// before the next attempt launches anything: the nodes must all be in one
// zone. It does not wait for them to go: they stay recorded, and Teardown
// waits for every instance the provider launched.
func (p *Provider) endAttempt(ctx context.Context, a *api, ap *launchPlan, started []launched, failures []nodeFailure) {
	f := failures[0]
	logf(a.log, "sear: attempt %d in %s (%s) failed: %s for %s %s; trying elsewhere",
		ap.try+1, ap.subnet.az, describeAttempt(ap), code(f.err), f.node.file.Name, f.node.itype)
	if len(started) == 0 {
		return
	}
	ids := make([]string, len(started))
	for i, l := range started {
		ids[i] = l.id
	}
	logf(a.log, "sear: terminating %s, launched by that attempt", strings.Join(ids, " "))
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, err := a.terminate(tctx, ids); err != nil {
		logf(a.log, "sear: terminating them failed (%v); teardown tries again", err)
	}
}

// describeAttempt is "orchestrator t3.large, factories g5.xlarge, spot".
func describeAttempt(ap *launchPlan) string {
	at := attemptOf(ap, nil)
	s := "orchestrator " + at.OrchestratorType
	if at.FactoriesType != "" {
		s += ", factories " + at.FactoriesType
	}
	return s + ", " + at.Market
}

// withAttempts puts the attempts on every node, or on the error.
func (p *Provider) withAttempts(nodes []cloud.Node, err error) ([]cloud.Node, error) {
	at := p.Attempts()
	if err != nil {
		if len(at) == 0 {
			return nil, err
		}
		return nil, &LaunchError{Attempts: at, Err: err}
	}
	for i := range nodes {
		nodes[i].Attempts = at
	}
	return nodes, nil
}
