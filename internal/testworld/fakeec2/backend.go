package fakeec2

import "context"

// Backend is where the emulated instances really run (for example Docker
// containers booted from the test world's image). The emulator owns the EC2
// state machine; the backend only starts and destroys machines.
type Backend interface {
	// Start boots an instance with its decoded user data; returns its private
	// IPv4 address on the backend's network. An empty address keeps the one
	// the emulator allocated from the subnet.
	Start(ctx context.Context, inst LaunchSpec) (privateIP string, err error)
	// Stop destroys it (idempotent).
	Stop(ctx context.Context, instanceID string) error
}

// LaunchSpec is what a backend needs to boot one instance.
type LaunchSpec struct {
	InstanceID, ImageID, InstanceType string
	// UserData is base64-decoded, possibly gzip as given: cloud-init, not
	// EC2, decompresses it.
	UserData         []byte
	ShutdownBehavior string
	Tags             map[string]string
	Subnet           string
	SecurityGroups   []string
}

// memBackend is the default backend: instances "boot" without running
// anything, keeping the address the emulator allocated.
type memBackend struct{}

// Start keeps the emulator's address.
func (memBackend) Start(context.Context, LaunchSpec) (string, error) { return "", nil }

// Stop has nothing to destroy.
func (memBackend) Stop(context.Context, string) error { return nil }
