package world

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/pause"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/imds"
)

// NetworkCutter is what a backend implements when its instances have a network that can be cut,
// as the Docker backend's containers do: Cut isolates an instance (SSH to it hangs, as on a real
// network partition) and Restore reconnects it.
type NetworkCutter interface {
	Cut(ctx context.Context, instanceID string) error
	Restore(ctx context.Context, instanceID string) error
}

// exitReporter is a backend that notices instances powering themselves off (a shutdown -h inside
// a container) and reports them, so EC2 can move them to stopped or terminated.
type exitReporter interface {
	SetExitHandler(func(instanceID string))
}

// metadataHost is a backend whose instances have an instance metadata service (the Docker
// backend's, on its network's gateway), which answers from the EC2 emulator's state: the notice
// of a Spot interruption first of all.
type metadataHost interface {
	SetMetadata(*imds.Server)
}

// closer is a backend holding resources beyond its instances' lifetimes (containers, networks).
type closer interface {
	Close(ctx context.Context) error
}

// memoryBackend boots nothing and keeps the address EC2 allocated, like the EC2 emulator's own
// default backend, which it does not export.
type memoryBackend struct{}

func (memoryBackend) Start(context.Context, fakeec2.LaunchSpec) (string, error) { return "", nil }
func (memoryBackend) Stop(context.Context, string) error                        { return nil }

// bootDelayer wraps the backend to make boots slow at run time. EC2 moves an instance to running
// once both its boot delay and Backend.Start are done, so holding Start back by d keeps every new
// instance pending d longer, which is what a slow AMI or a busy host looks like from outside.
type bootDelayer struct {
	fakeec2.Backend
	mu    sync.Mutex
	extra time.Duration
}

func (b *bootDelayer) set(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.extra = d
}

func (b *bootDelayer) get() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.extra
}

// Start waits out the slow-boot fault, then starts the instance. EC2 cancels ctx when it closes.
func (b *bootDelayer) Start(ctx context.Context, spec fakeec2.LaunchSpec) (string, error) {
	if d := b.get(); d > 0 {
		if err := pause.For(ctx, d); err != nil {
			return "", fmt.Errorf("boot of %s abandoned: %w", spec.InstanceID, err)
		}
	}
	return b.Backend.Start(ctx, spec)
}
