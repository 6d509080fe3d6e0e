package world

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/fakegithub"
)

// Faults are the failures injected into the world, as the control endpoint reads and writes them.
// A section left out (nil) of a change is left as it is; a section given replaces that service's
// faults entirely.
type Faults struct {
	EC2    *EC2Faults    `json:"ec2,omitempty"`
	GitHub *GitHubFaults `json:"github,omitempty"`
}

// EC2Faults are EC2's faults (see fakeec2.Faults for each one's exact effect).
type EC2Faults struct {
	// Latency is added to every call.
	Latency Duration `json:"latency"`
	// Throttle is the share of calls, 0 to 1, answered RequestLimitExceeded. EC2's emulator
	// throttles every Nth call, deterministically, so a share is rounded to 1/N: 0.5 is every
	// second call, 0.3 every third. Reading faults back reports the share in force.
	Throttle float64 `json:"throttle"`
	// ThrottleEvery is N itself; give Throttle or ThrottleEvery, not both.
	ThrottleEvery int `json:"throttle_every"`
	// InsufficientCapacity lists instance types ("t3.micro") or a type's Spot market only
	// ("t3.micro/spot") that RunInstances has no capacity for.
	InsufficientCapacity []string `json:"insufficient_capacity"`
	// Capacity lists where RunInstances has no capacity: a zone, a type, or a type in a zone,
	// optionally on one market, as [{"az": "us-east-1a", "type": "g5.xlarge"}].
	Capacity []CapacityFault `json:"capacity"`
	// PartialLaunch caps how many instances one RunInstances launches; 0 is no cap.
	PartialLaunch int `json:"partial_launch"`
	// SlowBoot keeps each new instance pending this much longer than the world's boot delay.
	SlowBoot Duration `json:"slow_boot"`
	// FailBoot lists instances that fail to boot: "next" for the next one launched, or the id of
	// an instance still pending.
	FailBoot []string `json:"fail_boot"`
	// ENIReleaseDelay keeps a terminated instance's network interface, and so its security
	// groups, in use this long: DeleteSecurityGroup answers DependencyViolation meanwhile.
	ENIReleaseDelay Duration `json:"eni_release_delay"`
	// SpotInterruption lists Spot interruptions to come, each for an instance by id or for the
	// node of a rank: the notice appears in the instance's metadata as soon as it runs (at once
	// if it does), and the instance is interrupted Notice later.
	SpotInterruption []SpotInterruption `json:"spot_interruption"`
}

// SpotInterruption is one Spot interruption (see fakeec2.SpotInterruption): Instance or Rank,
// and Notice, the time from the notice to the interruption (EC2's two minutes when left out).
type SpotInterruption struct {
	Instance string   `json:"instance,omitempty"`
	Rank     *int     `json:"rank,omitempty"`
	Notice   Duration `json:"notice,omitempty"`
}

// CapacityFault is one place without capacity (see fakeec2.CapacityFault): AZ or Type or both, Market
// "spot" or "on-demand" for one market only, Code "Unsupported" instead of the default
// InsufficientInstanceCapacity.
type CapacityFault struct {
	AZ     string `json:"az,omitempty"`
	Type   string `json:"type,omitempty"`
	Market string `json:"market,omitempty"`
	Code   string `json:"code,omitempty"`
}

// String is the interruption as a faults document writes it.
func (si SpotInterruption) String() string {
	b, _ := json.Marshal(si) // strings, an int and a duration: cannot fail
	return string(b)
}

// GitHubFaults are GitHub's faults (see fakegithub.Faults for each one's exact effect).
type GitHubFaults struct {
	Latency              Duration `json:"latency"`
	ServerErrorShare     float64  `json:"server_error_share"`
	ServerErrorStatus    int      `json:"server_error_status"`
	SecondaryRateLimited int      `json:"secondary_rate_limited"`
	SecondaryStatus      int      `json:"secondary_status"`
	RetryAfter           Duration `json:"retry_after"`
	PrimaryExhausted     bool     `json:"primary_exhausted"`
	PrimaryStatus        int      `json:"primary_status"`
	Methods              []string `json:"methods"`
}

// Duration is a time.Duration written in JSON as Go writes durations: "250ms", "1m30s".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: expected a string like \"250ms\" or \"2s\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: expected a number with a unit, like \"250ms\" or \"2s\"", s)
	}
	*d = Duration(v)
	return nil
}

// SetFaults applies the sections f gives and leaves the others as they are. Nothing changes when
// any value is invalid; the error names every invalid one.
func (w *World) SetFaults(f Faults) error {
	var e fakeec2.Faults
	var errs []error
	if f.EC2 != nil {
		var err error
		e, err = f.EC2.emulator()
		errs = append(errs, err)
	}
	if f.GitHub != nil {
		errs = append(errs, f.GitHub.validate())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if f.EC2 != nil {
		w.ec2.SetFaults(e)
		w.boot.set(time.Duration(f.EC2.SlowBoot))
	}
	if f.GitHub != nil {
		w.github.SetFaults(f.GitHub.emulator())
	}
	return nil
}

// Faults returns the faults in force now, both sections present. They can differ from what was
// set where a fault is used up: a FailBoot "next" once an instance consumed it, GitHub's
// SecondaryRateLimited as it counts down.
func (w *World) Faults() Faults {
	e := w.ec2.CurrentFaults()
	ef := &EC2Faults{
		Latency: Duration(e.Latency), ThrottleEvery: e.ThrottleEvery, PartialLaunch: e.PartialLaunch,
		InsufficientCapacity: trueKeys(e.InsufficientCapacity), FailBoot: trueKeys(e.FailBoot),
		SlowBoot: Duration(w.boot.get()), ENIReleaseDelay: Duration(e.ENIReleaseDelay),
		Capacity: []CapacityFault{}, SpotInterruption: []SpotInterruption{},
	}
	for _, si := range e.SpotInterruptions {
		f := SpotInterruption{Instance: si.Instance, Notice: Duration(si.Notice)}
		if si.Instance == "" {
			f.Rank = &si.Rank
		}
		ef.SpotInterruption = append(ef.SpotInterruption, f)
	}
	for _, c := range e.Capacity {
		ef.Capacity = append(ef.Capacity, CapacityFault{AZ: c.AZ, Type: c.Type, Market: c.Market, Code: c.Code})
	}
	if e.ThrottleEvery > 0 {
		ef.Throttle = 1 / float64(e.ThrottleEvery)
	}
	g := w.github.CurrentFaults()
	gf := &GitHubFaults{
		Latency: Duration(g.Latency), ServerErrorShare: g.ServerErrorShare, ServerErrorStatus: g.ServerErrorStatus,
		SecondaryRateLimited: g.SecondaryRateLimited, SecondaryStatus: g.SecondaryStatus,
		RetryAfter: Duration(g.RetryAfter), PrimaryExhausted: g.PrimaryExhausted, PrimaryStatus: g.PrimaryStatus,
		Methods: append([]string{}, g.Methods...),
	}
	return Faults{EC2: ef, GitHub: gf}
}

// ClearFaults makes every service healthy again.
func (w *World) ClearFaults() {
	w.ec2.SetFaults(fakeec2.Faults{})
	w.boot.set(0)
	w.github.SetFaults(fakegithub.Faults{})
}

// emulator checks the EC2 faults and converts them for the emulator.
func (f *EC2Faults) emulator() (fakeec2.Faults, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ec2: "+format, args...)) }
	if f.Latency < 0 || f.SlowBoot < 0 || f.ENIReleaseDelay < 0 {
		bad("latency, slow_boot and eni_release_delay must not be negative")
	}
	if f.Throttle < 0 || f.Throttle > 1 {
		bad("throttle %v: expected a share between 0 and 1", f.Throttle)
	}
	if f.Throttle > 0 && f.ThrottleEvery > 0 {
		bad("give throttle (a share) or throttle_every (every Nth call), not both")
	}
	if f.ThrottleEvery < 0 || f.PartialLaunch < 0 {
		bad("throttle_every and partial_launch must not be negative")
	}
	for _, k := range f.InsufficientCapacity {
		if typ, market, spot := strings.Cut(k, "/"); typ == "" || (spot && market != "spot") {
			bad("insufficient_capacity %q: expected an instance type like \"t3.micro\", or \"t3.micro/spot\" for its Spot market only", k)
		}
	}
	var capacity []fakeec2.CapacityFault
	for _, c := range f.Capacity {
		switch {
		case c.AZ == "" && c.Type == "":
			bad("capacity %+v: give an az, a type or both, like {\"az\": \"us-east-1a\", \"type\": \"g5.xlarge\"}", c)
		case c.Market != "" && c.Market != "spot" && c.Market != "on-demand":
			bad("capacity market %q: expected \"spot\" or \"on-demand\", or none for both", c.Market)
		case c.Code != "" && c.Code != "InsufficientInstanceCapacity" && c.Code != "Unsupported":
			bad("capacity code %q: expected \"InsufficientInstanceCapacity\" (the default) or \"Unsupported\"", c.Code)
		}
		capacity = append(capacity, fakeec2.CapacityFault{AZ: c.AZ, Type: c.Type, Market: c.Market, Code: c.Code})
	}
	for _, k := range f.FailBoot {
		if k != "next" && !strings.HasPrefix(k, "i-") {
			bad("fail_boot %q: expected \"next\" or an instance id like \"i-0123456789abcdef0\"", k)
		}
	}
	var spot []fakeec2.SpotInterruption
	for _, si := range f.SpotInterruption {
		switch {
		case (si.Instance == "") == (si.Rank == nil):
			bad("spot_interruption %s: give an instance or a rank, like {\"rank\": 1, \"notice\": \"2s\"}", si)
		case si.Instance != "" && !strings.HasPrefix(si.Instance, "i-"):
			bad("spot_interruption instance %q: expected an instance id like \"i-0123456789abcdef0\"", si.Instance)
		case si.Rank != nil && *si.Rank < 0:
			bad("spot_interruption rank %d: expected 0 (the orchestrator) or a factory's rank", *si.Rank)
		case si.Notice < 0:
			bad("spot_interruption notice %v must not be negative", time.Duration(si.Notice))
		}
		e := fakeec2.SpotInterruption{Instance: si.Instance, Notice: time.Duration(si.Notice)}
		if si.Rank != nil {
			e.Rank = *si.Rank
		}
		spot = append(spot, e)
	}
	every := f.ThrottleEvery
	if f.Throttle > 0 {
		every = int(math.Max(1, math.Round(1/f.Throttle)))
	}
	return fakeec2.Faults{
		Latency: time.Duration(f.Latency), ThrottleEvery: every, PartialLaunch: f.PartialLaunch,
		InsufficientCapacity: trueSet(f.InsufficientCapacity), FailBoot: trueSet(f.FailBoot),
		ENIReleaseDelay: time.Duration(f.ENIReleaseDelay), Capacity: capacity, SpotInterruptions: spot,
	}, errors.Join(errs...)
}

// validate checks the GitHub faults against what GitHub can answer.
func (f *GitHubFaults) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("github: "+format, args...)) }
	if f.Latency < 0 {
		bad("latency must not be negative")
	}
	if f.ServerErrorShare < 0 || f.ServerErrorShare > 1 {
		bad("server_error_share %v: expected a share between 0 and 1", f.ServerErrorShare)
	}
	if s := f.ServerErrorStatus; s != 0 && (s < 500 || s > 599) {
		bad("server_error_status %d: expected a 5xx status", s)
	}
	for name, s := range map[string]int{"secondary_status": f.SecondaryStatus, "primary_status": f.PrimaryStatus} {
		if s != 0 && s != http.StatusForbidden && s != http.StatusTooManyRequests {
			bad("%s %d: expected 403 or 429, the statuses GitHub rate-limits with", name, s)
		}
	}
	if f.SecondaryRateLimited < 0 {
		bad("secondary_rate_limited must not be negative")
	}
	for _, m := range f.Methods {
		if m != strings.ToUpper(m) || m == "" {
			bad("methods %q: expected an upper-case HTTP method like \"POST\"", m)
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// emulator converts validated GitHub faults.
func (f *GitHubFaults) emulator() fakegithub.Faults {
	return fakegithub.Faults{
		ServerErrorShare: f.ServerErrorShare, ServerErrorStatus: f.ServerErrorStatus,
		SecondaryRateLimited: f.SecondaryRateLimited, SecondaryStatus: f.SecondaryStatus,
		RetryAfter: time.Duration(f.RetryAfter), PrimaryExhausted: f.PrimaryExhausted,
		PrimaryStatus: f.PrimaryStatus, Latency: time.Duration(f.Latency), Methods: slices.Clone(f.Methods),
	}
}

func trueSet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// trueKeys lists a set's members, sorted, never nil (so JSON shows []).
func trueKeys(m map[string]bool) []string {
	out := []string{}
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
