// Package world composes the test world's emulators into one running whole: the Actions OIDC
// token endpoint, STS, EC2, the GitHub REST API and a checkip service, each on its own loopback
// listener, seeded with a repository, a pull request, a role that trusts the repository and a
// job's tokens, plus a control endpoint that exposes the world's state as JSON and takes faults
// at run time. [World.Env] is the environment that points sear (or the AWS CLI, or any SDK) at it.
//
// The emulators themselves live in the sibling packages oidc, sts, ec2 and github, which cite the
// AWS and GitHub documentation they follow; docs/testworld.md describes the whole for users.
package world

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/fakegithub"
	"github.com/sear-ci/sear/internal/testworld/imds"
	"github.com/sear-ci/sear/internal/testworld/oidc"
	"github.com/sear-ci/sear/internal/testworld/pricing"
	"github.com/sear-ci/sear/internal/testworld/servicequotas"
	"github.com/sear-ci/sear/internal/testworld/ssm"
	"github.com/sear-ci/sear/internal/testworld/sts"
)

// Options configures a World. The zero value is a healthy world with in-memory instances, listening
// on free loopback ports, for a pull request on sear-ci/demo.
type Options struct {
	// Repository is the "owner/name" the world's job runs in; "sear-ci/demo" when empty.
	Repository string
	// Event is what triggered the job: "pull_request" (the default), "push" or
	// "workflow_dispatch". It decides the OIDC token's sub claim.
	Event string
	// Fork makes the pull request come from a fork: GitHub gives such a run a read-only
	// GITHUB_TOKEN and no id-token permission, so Env names no ACTIONS_ID_TOKEN_* variables.
	Fork bool
	// ImmutableSub makes the job's tokens carry the sub claim with owner and repository IDs
	// (repo:OWNER@ID/NAME@ID:...). The seeded role trusts both forms.
	ImmutableSub bool
	// Region is the AWS region EC2 serves and Env names; "us-east-1" when empty.
	Region string
	// Backend runs the emulated instances; nil runs them in memory (they boot, nothing runs).
	// A backend may also implement [NetworkCutter], SetExitHandler(func(instanceID string)) and
	// Close(ctx) error; the world uses what it finds (see backend.go).
	Backend fakeec2.Backend
	// BootDelay and TerminateDelay are EC2's pending→running and shutting-down→terminated times.
	BootDelay, TerminateDelay time.Duration
	// CredentialLifetime, when non-zero, is how long STS credentials live whatever
	// DurationSeconds asked for, so a run can outlive its credentials.
	CredentialLifetime time.Duration
	// StaticCredentials, when set, is a long-lived access key EC2 accepts besides STS's session
	// credentials (for the AWS CLI or sear's default credential chain); Env then names it.
	StaticCredentials *StaticCredentials
	// Ports fixes the listeners' ports; zero fields take a free port.
	Ports Ports
	// ListenAlso are addresses of this host that every service listens on too, each on the
	// same port as its loopback listener: a Docker network's gateway, so that a container on
	// that network (the action's, as the Actions runner starts it) reaches the world there.
	// [World.EnvAt] is the environment for such a client.
	ListenAlso []netip.Addr
	// Faults are in force from the start, as if posted to the control endpoint.
	Faults *Faults
	// Log receives the HTTP servers' own error messages; discarded when nil.
	Log io.Writer
}

// StaticCredentials is a long-lived AWS access key, like an IAM user's.
type StaticCredentials struct {
	AccessKeyID, SecretAccessKey string
}

// Ports are fixed listener ports on 127.0.0.1, one per service.
type Ports struct {
	OIDC, STS, EC2, GitHub, CheckIP, Control int
}

// URLs are the base URLs of the world's services. SSM, ServiceQuotas and Pricing are EC2's URL:
// they share its listener (see [awsjson.Route]).
type URLs struct {
	OIDC, STS, EC2, SSM, ServiceQuotas, Pricing, GitHub, CheckIP, Control string
}

// World is a running test world. Its methods are safe for concurrent use.
type World struct {
	opts    Options
	seed    Seed
	urls    URLs
	issuer  *oidc.Issuer
	sts     *sts.Server
	ec2     *fakeec2.Server
	ssm     *ssm.Server
	quotas  *servicequotas.Server
	pricing *pricing.Server
	github  *fakegithub.Server
	backend fakeec2.Backend // the caller's backend, nil for memory
	boot    *bootDelayer
	servers []*service

	closeOnce sync.Once
	closeErr  error
}

// Start brings a world up: it listens, seeds the emulators and serves until Close. When it fails,
// nothing it started is left running, but the backend stays the caller's to close.
func Start(ctx context.Context, opts Options) (*World, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	w := &World{opts: opts, backend: opts.Backend}
	if err := w.listen(ctx); err != nil {
		w.closeListeners()
		return nil, err
	}
	if err := w.build(); err != nil {
		w.closeListeners()
		return nil, err
	}
	if opts.Faults != nil {
		if err := w.SetFaults(*opts.Faults); err != nil {
			w.ec2.Close()
			w.closeListeners()
			return nil, fmt.Errorf("initial faults: %w", err)
		}
	}
	w.serve()
	return w, nil
}

// build makes and seeds the emulators once the listeners' addresses are known: the OIDC
// issuer's URL is part of every token, and STS trusts only that issuer.
func (w *World) build() error {
	iss, err := oidc.NewIssuer(nil)
	if err != nil {
		return fmt.Errorf("start the OIDC emulator: %w", err)
	}
	iss.SetBaseURL(w.urls.OIDC)
	w.issuer = iss
	w.sts = sts.New(iss, nil)
	w.github = fakegithub.New(fakegithub.Options{})
	w.boot = &bootDelayer{Backend: w.backend}
	if w.backend == nil {
		w.boot.Backend = memoryBackend{}
	}
	w.ec2 = fakeec2.New(fakeec2.Options{
		Region: w.opts.Region,
		// STS's store holds both the session credentials it issued and the static key, so EC2
		// accepts exactly what AWS would: keys STS issued, until they expire, and the IAM user's.
		Credentials: w.sts,
		Backend:     w.boot,
		BootDelay:   w.opts.BootDelay, TerminateDelay: w.opts.TerminateDelay,
		// Spot prices are those of sear's offline table for the region, where it has them: a
		// test that needs another sets it (EC2().SetSpotPrice).
		SpotPrices: tableSpotPrices(w.opts.Region),
	})
	// SSM answers the public parameters of the Deep Learning AMIs with the GPU images EC2 holds,
	// and accepts the same credentials as EC2.
	w.ssm = ssm.New(ssm.Options{Region: w.opts.Region, Credentials: w.sts, Parameters: map[string]string{
		ssm.DLAMIParameter: fakeec2.DLAMIImageID, ssm.DLAMIArmParameter: fakeec2.DLAMIArmImageID,
	}})
	// Service Quotas answers EC2's vCPU quotas with an established account's values, for the same
	// credentials, and names the assumed role in its AccessDeniedException as AWS does.
	w.quotas = servicequotas.New(servicequotas.Options{Region: w.opts.Region, Credentials: w.sts,
		Account: seedAccount, Principal: w.principal})
	// The Price List API holds, for every region and type of sear's offline table, the table's
	// price, until a test sets another (Pricing().SetPrice) to tell live prices from the table's.
	// Its endpoint is us-east-1's whatever the world's region: the Query API has endpoints in
	// three regions only and prices all regions from each.
	w.pricing = pricing.New(pricing.Options{Region: "us-east-1", Credentials: w.sts, Principal: w.principal, Instances: tablePrices()})
	if r, ok := w.backend.(exitReporter); ok {
		r.SetExitHandler(w.ec2.InstanceExited)
	}
	if m, ok := w.backend.(metadataHost); ok {
		m.SetMetadata(imds.New(w.ec2))
	}
	w.seed = w.plant()
	return nil
}

// withDefaults fills in the defaults and refuses options that cannot describe a real run.
func withDefaults(o Options) (Options, error) {
	if o.Repository == "" {
		o.Repository = DefaultRepository
	}
	if o.Event == "" {
		o.Event = "pull_request"
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	var errs []error
	if _, _, err := splitRepository(o.Repository); err != nil {
		errs = append(errs, err)
	}
	switch o.Event {
	case "pull_request", "push", "workflow_dispatch":
	default:
		errs = append(errs, fmt.Errorf("event %q: expected one of pull_request, push, workflow_dispatch", o.Event))
	}
	if o.Fork && o.Event != "pull_request" {
		errs = append(errs, fmt.Errorf("a fork only makes sense with the pull_request event, not %q", o.Event))
	}
	if o.BootDelay < 0 || o.TerminateDelay < 0 || o.CredentialLifetime < 0 {
		errs = append(errs, errors.New("boot delay, terminate delay and credential lifetime must not be negative"))
	}
	if c := o.StaticCredentials; c != nil && (c.AccessKeyID == "" || c.SecretAccessKey == "") {
		errs = append(errs, errors.New("static credentials need both an access key id and a secret access key"))
	}
	return o, errors.Join(errs...)
}

// DefaultRepository is the repository a world is seeded with when Options names none.
const DefaultRepository = "sear-ci/demo"

// DefaultRegion is the region a world serves when Options names none.
const DefaultRegion = "us-east-1"

// URLs are the base URLs of the world's services.
func (w *World) URLs() URLs { return w.urls }

// Seed is what the world was seeded with.
func (w *World) Seed() Seed { return w.seed }

// OIDC is the Actions OIDC emulator, for tests that mint other runs' tokens.
func (w *World) OIDC() *oidc.Issuer { return w.issuer }

// STS is the STS emulator, for tests that add roles or look credentials up.
func (w *World) STS() *sts.Server { return w.sts }

// EC2 is the EC2 emulator, for tests that inspect or drive instances directly.
func (w *World) EC2() *fakeec2.Server { return w.ec2 }

// SSM is the Systems Manager emulator (GetParameter on the public DLAMI parameters), for tests
// that change or inspect them.
func (w *World) SSM() *ssm.Server { return w.ssm }

// ServiceQuotas is the Service Quotas emulator (GetServiceQuota on EC2's vCPU quotas), for tests
// that change the quotas or inspect the calls.
func (w *World) ServiceQuotas() *servicequotas.Server { return w.quotas }

// Pricing is the Price List Query API emulator, for tests that set a price or inspect the calls.
func (w *World) Pricing() *pricing.Server { return w.pricing }

// tableSpotPrices are the spot prices of sear's offline price table for region.
func tableSpotPrices(region string) map[string]float64 {
	if t, ok := report.PricesIn(region); ok {
		return maps.Clone(t.Spot)
	}
	return nil
}

// tablePrices are the products of sear's offline price table, every region.
func tablePrices() []pricing.Instance {
	var out []pricing.Instance
	for _, region := range report.PriceRegions() {
		t, _ := report.PricesIn(region)
		for _, typ := range slices.Sorted(maps.Keys(t.OnDemand)) {
			out = append(out, pricing.Instance{Region: region, Location: t.Location, Type: typ, HourlyUSD: t.OnDemand[typ]})
		}
	}
	return out
}

// GitHub is the GitHub emulator, for tests that add repositories, tokens or pull requests.
func (w *World) GitHub() *fakegithub.Server { return w.github }

// Close stops every listener (waiting for calls in flight until ctx ends), stops EC2's pending
// state transitions, and closes the backend if it has a Close(ctx) error method: for Docker, that
// removes every container and network the world made. Calling it again returns the first result.
func (w *World) Close(ctx context.Context) error {
	w.closeOnce.Do(func() {
		var errs []error
		for _, s := range w.servers {
			if err := s.shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		w.ec2.Close()
		if c, ok := w.backend.(closer); ok {
			if err := c.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("close the instance backend: %w", err))
			}
		}
		w.closeErr = errors.Join(errs...)
	})
	return w.closeErr
}
