// Package cloud is the seam between a run and where its nodes live: EC2
// (package ec2) or this machine (package local). A run asks a Provider for
// nodes it can reach over SSH with pinned host keys; the provider alone
// knows how to create and delete them.
package cloud

import (
	"context"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/remote"
)

// Role is a node's part in the cluster: config's, the one the cluster
// file's node of a rank (config.Cluster.Node) has, so a provider takes
// it from there with no conversion.
type Role = config.Role

// The roles, named as Flambé's Role tag names them (lower-cased).
const (
	Orchestrator = config.RoleOrchestrator
	Factory      = config.RoleFactory
)

// Spec is what to bring up.
type Spec struct {
	Cluster    *config.Cluster
	Keys       *keys.Cluster
	RunID      string
	Repository string
	// ExpiresAt is the instant every node shuts itself down, whatever
	// happens to the process that launched it.
	ExpiresAt time.Time
}

// Node is one reachable machine of the cluster.
type Node struct {
	Rank      int
	Role      Role
	Name      string // Flambé's name: <cluster>_orchestrator, <cluster>_factory_<i>
	ID        string // the provider's id (an instance id, a local node's name)
	SSHAddr   string // host:port the runner dials
	PrivateIP string // the address other nodes use
	User      string
	Home      string // the user's home directory on the node, absolute
	// Spot says the node runs on the spot market.
	Spot bool
	// Type is the instance type, empty for local nodes.
	Type string
	// GPUs is how many NVIDIA GPUs the instance type has; 0 for local nodes.
	GPUs int
	// Attempts are the launches of the whole cluster it took to bring it
	// up, the last one the one that did, the same on every node; nil for
	// a provider that tries once (local nodes).
	Attempts []LaunchAttempt
}

// LaunchError is a launch that failed after the attempts it lists (a
// provider's capacity failover, each in the report); its text is Err's.
type LaunchError struct {
	Attempts []LaunchAttempt
	Err      error
}

func (e *LaunchError) Error() string { return e.Err.Error() }
func (e *LaunchError) Unwrap() error { return e.Err }

// LaunchAttempt is one try at launching every node of a cluster in one
// place. A provider with capacity failover (package ec2) tries again in
// another zone or with other instance types when the place had no room.
type LaunchAttempt struct {
	Zone   string // an Availability Zone
	Subnet string
	// OrchestratorType and FactoriesType are the instance types tried;
	// FactoriesType is "" for a cluster without factories.
	OrchestratorType, FactoriesType string
	// Market is "spot", "on-demand", or "spot, else on-demand" (each node
	// without spot capacity launched on demand).
	Market string
	// Code is the provider's error code that ended the attempt, such as
	// InsufficientInstanceCapacity; "" for the attempt that launched.
	Code string
	// Node names the node that met Code.
	Node string
}

// Provider creates and deletes a cluster's nodes.
type Provider interface {
	// Launch creates every node, all or nothing, and waits until each one
	// runs. It records what it creates the moment each create call returns,
	// so Teardown finds it even if Launch fails or ctx is cancelled.
	Launch(ctx context.Context, spec Spec) ([]Node, error)
	// RotateHostKey makes node present key from now on, using conn (a
	// connection that pinned the bootstrap key) where it needs the node's
	// help. After it, the key that travelled in user data is no longer the
	// node's identity.
	RotateHostKey(ctx context.Context, node Node, key *keys.SSHKey, conn *remote.Client) error
	// Teardown deletes everything Launch created. It is idempotent: what is
	// already gone counts as deleted.
	Teardown(ctx context.Context) error
}

// Terminator is a Provider that can end its nodes fast, without waiting:
// on the first signal a run calls Terminate at once, while the steps
// unwind, and Teardown later waits and deletes the rest. A provider
// whose Teardown is already quick need not implement it.
type Terminator interface {
	Terminate(ctx context.Context) error
}

// LeftoverError is a provider's error for a teardown or sweep that could
// not delete everything. The provider alone knows how its resources are
// deleted by hand, so it names each one with the command that deletes it;
// a caller reports them without knowing which cloud they are in.
type LeftoverError interface {
	error
	// Leftovers are what is left, in the order to delete them.
	Leftovers() []Leftover
	// Unwrap is why they are left, nil when unknown.
	Unwrap() error
}

// Leftover is one resource a teardown or sweep could not delete.
type Leftover struct {
	// Resource names it as the provider's console does, kind first, such
	// as "instance i-0abc".
	Resource string
	// Command deletes it, for the user to run once the cause is fixed.
	Command string
}
