package fakeec2

import (
	"context"
	"time"

	"github.com/sear-ci/sear/internal/pause"
)

// Faults are failures injected at run time.
type Faults struct {
	// Latency is added to every call, before it is authenticated.
	Latency time.Duration
	// ThrottleEvery makes every Nth authenticated call (counted from the
	// SetFaults that set it) answer RequestLimitExceeded with 503, as EC2
	// throttles ("Request throttling for the Amazon EC2 API"); 0 is off.
	// Deterministic rather than random on purpose: with N=2 every call a
	// client makes is throttled once and succeeds on its retry, so a test can
	// show that a 50% throttle is survived without depending on luck.
	ThrottleEvery int
	// InsufficientCapacity makes RunInstances fail with
	// InsufficientInstanceCapacity for an instance type ("t3.micro") or for
	// its Spot market only ("t3.micro/spot").
	InsufficientCapacity map[string]bool
	// Capacity makes RunInstances fail where a real region runs out: in
	// one zone, for one instance type, or for one type in one zone, as
	// capacity is per type and zone ("Troubleshoot instance launch
	// issues": "If you get an InsufficientInstanceCapacity error ...
	// try again in a different Availability Zone or with a different
	// instance type"). See CapacityFault.
	Capacity []CapacityFault
	// PartialLaunch caps how many instances one RunInstances launches (>0):
	// MaxCount is cut down to it, and if that is below MinCount nothing
	// launches and the call fails with InsufficientInstanceCapacity.
	PartialLaunch int
	// FailBoot makes instances fail to boot: they go from pending to
	// terminated with stateReason Server.InternalError. Keys are "next",
	// which applies to the next instance launched and is then cleared, or
	// the id of an instance still pending, which fails when its boot would
	// have completed.
	FailBoot map[string]bool
	// ENIReleaseDelay keeps a terminated instance's network interface
	// attached to its security groups this long after termination, so
	// DeleteSecurityGroup answers DependencyViolation meanwhile. EC2 deletes
	// the interface of a terminated instance asynchronously, and refuses to
	// delete a group "associated with an instance or network interface"
	// ("DeleteSecurityGroup"); teardowns that delete the group right after
	// the instances report terminated meet exactly this (Terraform's AWS
	// provider retries it for minutes: terraform-provider-aws issue 1671).
	// 0 releases the interface with the instance.
	ENIReleaseDelay time.Duration
	// SpotInterruptions are Spot interruptions to come: each gives its
	// instance the notice as soon as the instance runs (at once if it does),
	// and is then used up. See SpotInterruption.
	SpotInterruptions []SpotInterruption
}

// CapacityFault is one place without capacity. An empty AZ is every zone,
// an empty Type every type; Market narrows it to "spot" or "on-demand".
// Code is what RunInstances answers: InsufficientInstanceCapacity (the
// default, HTTP 500, a server error in the EC2 error table) or
// Unsupported (HTTP 400, the zone does not support the request).
type CapacityFault struct {
	AZ, Type, Market, Code string
}

// matches reports whether a launch of itype in az on the given market is
// refused by the fault.
func (c CapacityFault) matches(az, itype string, spot bool) bool {
	market := "on-demand"
	if spot {
		market = "spot"
	}
	return (c.AZ == "" || c.AZ == az) && (c.Type == "" || c.Type == itype) && (c.Market == "" || c.Market == market)
}

// SetFaults replaces the injected faults; it takes effect for the next call.
func (s *Server) SetFaults(f Faults) {
	f.InsufficientCapacity = copyBools(f.InsufficientCapacity)
	f.Capacity = append([]CapacityFault(nil), f.Capacity...)
	f.FailBoot = copyBools(f.FailBoot)
	f.SpotInterruptions = append([]SpotInterruption(nil), f.SpotInterruptions...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.count = 0
	s.fireSpotInterruptions()
}

func copyBools(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// delay applies the injected latency, cut short if the client goes away.
func (s *Server) delay(ctx context.Context) {
	s.mu.Lock()
	d := s.faults.Latency
	s.mu.Unlock()
	if d > 0 {
		pause.For(ctx, d) // a client that went away ends the latency
	}
}

// throttled counts an authenticated call and reports whether it is one of
// the throttled ones.
func (s *Server) throttled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	return s.faults.ThrottleEvery > 0 && s.count%s.faults.ThrottleEvery == 0
}

// interfaceLingers reports whether a terminated instance's network
// interface still holds its security groups under ENIReleaseDelay; the
// caller holds s.mu.
func (s *Server) interfaceLingers(i *instance) bool {
	d := s.faults.ENIReleaseDelay
	return d > 0 && i.state == stateTerminated && s.now().Before(i.terminateTime.Add(d))
}

// consumeFailBoot reports whether a new instance must fail to boot; the
// caller holds s.mu.
func (s *Server) consumeFailBoot(id string) bool {
	if s.faults.FailBoot["next"] {
		delete(s.faults.FailBoot, "next")
		return true
	}
	return s.faults.FailBoot[id]
}

// capacity decides how many instances a launch gets: MaxCount, cut by the
// injected capacity faults and by the free addresses of the subnet; fewer
// than MinCount fails the launch ("MinCount": "If you specify a value that
// is more capacity than Amazon EC2 can provide in the target Availability
// Zone, Amazon EC2 does not launch any instances"). The caller holds s.mu.
func (s *Server) capacity(req *launchRequest) (int, *apiError) {
	key := req.typeName
	if req.market.spot {
		key += "/spot"
	}
	if s.faults.InsufficientCapacity[req.typeName] || s.faults.InsufficientCapacity[key] {
		return 0, errNoCapacity(req.typeName, req.subnet.az, req.market.spot)
	}
	for _, c := range s.faults.Capacity {
		if !c.matches(req.subnet.az, req.typeName, req.market.spot) {
			continue
		}
		if c.Code == "Unsupported" {
			return 0, clientError("Unsupported", "The requested configuration is currently not supported. Please check the documentation for supported configurations.")
		}
		return 0, errNoCapacity(req.typeName, req.subnet.az, req.market.spot)
	}
	n := req.maxCount
	if pl := s.faults.PartialLaunch; pl > 0 && pl < n {
		n = pl
	}
	if n < req.minCount {
		return 0, errNoCapacity(req.typeName, req.subnet.az, req.market.spot)
	}
	if free := int(req.subnet.size) - 1 - int(req.subnet.next); free < n {
		if free < req.minCount {
			return 0, clientError("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", req.subnet.id)
		}
		n = free
	}
	return n, nil
}
