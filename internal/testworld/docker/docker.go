// Package docker is the EC2 emulator's backend that boots instances for real: each instance is
// a Docker container of the test world's instance image (package image), on a private bridge
// network that plays the VPC subnet, given its user data the way EC2 gives it, through
// cloud-init (a NoCloud seed copied in before the container starts).
//
// Every image ID boots the same Debian image unless Options.Images names another for it (the
// stock variant), and instance types are not translated into CPU or
// memory limits: sear's tests need the boot, the user data and SSH to be real, not the size.
//
// Everything the backend creates carries the label sear.testworld=<world id>, so that a world's
// leftovers can be found (and Close removes them).
package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/testworld/image"
)

// Labels on the network and the containers.
const (
	labelKey    = "sear.testworld"          // the world id
	instanceKey = "sear.testworld.instance" // the EC2 instance id, on containers
)

// Options configures a Backend.
type Options struct {
	// Log receives the image build's output and the backend's complaints (a restarted event
	// stream, a reboot that failed); nil discards them.
	Log io.Writer
	// Label is the world id that labels everything the backend creates; default random.
	Label string
	// Image is the image instances boot from; default the one image.Ensure builds.
	Image string
	// Images maps AMI ids to the image an instance of that AMI boots from instead of Image:
	// the stock variant (image.EnsureStock) for an AMI that should behave like stock Ubuntu.
	Images map[string]string
	// PackageRepository, if set, is a directory holding a flat apt repository (Packages,
	// Release and the .debs; image.Stock's Repo). The backend serves it over HTTP on its
	// network's gateway, and every instance's apt installs from it and from nothing else.
	PackageRepository string
}

// Backend runs an EC2 emulator's instances as Docker containers. It implements the emulator's
// Backend interface, and is safe for concurrent use.
type Backend struct {
	log     io.Writer
	label   string
	image   string
	images  map[string]string // by AMI id
	network string
	pkgs    *packageServer // nil without Options.PackageRepository
	etc     []byte         // what every instance gets in /etc (environmentTar)
	imds    *metadataServer
	subnet  netip.Prefix

	// ctx ends with Close: it cancels boots in flight and the event stream.
	ctx    context.Context
	cancel context.CancelFunc
	tasks  sync.WaitGroup // Starts and reboots in flight
	events chan struct{}  // closed when the event stream's goroutine returns

	mu       sync.Mutex
	closed   bool
	machines map[string]*machine // by instance id
	used     map[netip.Addr]bool
	onExit   func(instanceID string)
}

// New makes sure the instance image exists (building it takes minutes the first time) and
// creates the backend's network, named sear-tw-<random>.
func New(ctx context.Context, opts Options) (*Backend, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Label == "" {
		opts.Label = randomHex(6)
	}
	if opts.Image == "" {
		ref, err := image.Ensure(ctx, opts.Log)
		if err != nil {
			return nil, fmt.Errorf("docker backend: %w", err)
		}
		opts.Image = ref
	}
	// Events are read from before the first container exists, so no exit can be missed.
	since := time.Now().Add(-time.Second)
	b := &Backend{
		log: opts.Log, label: opts.Label, image: opts.Image, images: opts.Images, network: "sear-tw-" + randomHex(6),
		events: make(chan struct{}), machines: map[string]*machine{}, used: map[netip.Addr]bool{},
	}
	subnet, err := createNetwork(ctx, b.network, b.label)
	if err != nil {
		return nil, fmt.Errorf("docker backend: %w", err)
	}
	b.subnet = subnet
	// The gateway is the bridge's address on this host (createNetwork sets it).
	gateway := subnet.Addr().Next().String()
	if b.imds, err = serveMetadata(ctx, gateway, b.instanceAt); err != nil {
		return nil, errors.Join(fmt.Errorf("docker backend: %w", err), removeNetwork(context.WithoutCancel(ctx), b.network))
	}
	if opts.PackageRepository != "" {
		b.pkgs, err = servePackages(ctx, opts.PackageRepository, gateway)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("docker backend: %w", err), b.imds.close(context.WithoutCancel(ctx)), removeNetwork(context.WithoutCancel(ctx), b.network))
		}
	}
	if b.etc, err = b.environmentTar(); err != nil {
		return nil, errors.Join(fmt.Errorf("docker backend: %w", err), b.pkgs.close(context.WithoutCancel(ctx)),
			b.imds.close(context.WithoutCancel(ctx)), removeNetwork(context.WithoutCancel(ctx), b.network))
	}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go b.watch(since)
	return b, nil
}

// Label is the world id on everything the backend creates.
func (b *Backend) Label() string { return b.label }

// PackageRepositoryURL is where instances reach Options.PackageRepository; "" without one.
func (b *Backend) PackageRepositoryURL() string {
	if b.pkgs == nil {
		return ""
	}
	return b.pkgs.url
}

// Network is the name of the Docker network the instances are on.
func (b *Backend) Network() string { return b.network }

// SetExitHandler sets f to be called with the id of an instance whose machine powered itself off
// (shutdown -h or poweroff in it, cloud-init's power_state), and not for one that Stop or Close
// removed nor for a reboot. Give it the emulator's InstanceExited; set it before the first
// Start, since an exit with no handler is not remembered.
func (b *Backend) SetExitHandler(f func(instanceID string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onExit = f
}

// Addr returns an instance's private address, and whether the backend runs that instance.
func (b *Backend) Addr(instanceID string) (string, bool) {
	m, err := b.machine(instanceID)
	if err != nil {
		return "", false
	}
	return m.ip.String(), true
}

// Logs returns an instance's console: its container's output (sear-boot's and cloud-init's
// messages), with timestamps.
func (b *Backend) Logs(ctx context.Context, instanceID string) (string, error) {
	m, err := b.machine(instanceID)
	if err != nil {
		return "", err
	}
	out, err := runCombined(ctx, "logs", "--timestamps", m.name)
	if err != nil {
		return "", fmt.Errorf("console output of instance %s: %w", instanceID, err)
	}
	return out, nil
}

// Close removes every container the backend started and its network, leaving nothing labelled
// with its world id. Calling it again retries what failed, and otherwise does nothing.
func (b *Backend) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	for _, m := range b.machines {
		m.stopping = true // their deaths are not instances powering off
	}
	b.mu.Unlock()
	b.cancel()
	b.tasks.Wait()
	<-b.events

	var errs []error
	if err := b.removeLabelled(ctx); err != nil {
		errs = append(errs, err)
	} else {
		b.mu.Lock()
		clear(b.machines)
		clear(b.used)
		b.mu.Unlock()
	}
	if err := removeNetwork(ctx, b.network); err != nil {
		errs = append(errs, fmt.Errorf("remove docker network %s: %w", b.network, err))
	}
	if err := b.pkgs.close(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := b.imds.close(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeLabelled removes every container that carries the world id, including any that the
// backend lost track of.
func (b *Backend) removeLabelled(ctx context.Context) error {
	list := func() ([]string, error) {
		out, err := run(ctx, nil, "ps", "--all", "--quiet", "--filter", "label="+labelKey+"="+b.label)
		return strings.Fields(out), err
	}
	ids, err := list()
	if err != nil || len(ids) == 0 {
		return err
	}
	_, rmErr := run(ctx, nil, append([]string{"rm", "--force", "--volumes"}, ids...)...)
	if rmErr == nil {
		return nil
	}
	// docker rm fails as a whole if one of the containers went away meanwhile (the emulator
	// may be terminating it); what matters is that none is left.
	if left, err := list(); err != nil || len(left) > 0 {
		return fmt.Errorf("remove the containers of test world %s: %w", b.label, errors.Join(rmErr, err))
	}
	return nil
}

// machine returns the record of an instance the backend runs.
func (b *Backend) machine(instanceID string) (*machine, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m := b.machines[instanceID]; m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("instance %q: not running in docker network %s", instanceID, b.network)
}
