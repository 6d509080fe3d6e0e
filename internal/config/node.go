package config

import "fmt"

// Role is a node's part in the cluster. Flambé's layout: rank 0 is the
// orchestrator, every other rank a factory.
type Role string

// The roles, as SEAR_ROLE and cloud.Node name them.
const (
	RoleOrchestrator Role = "orchestrator"
	RoleFactory      Role = "factory"
)

// Node is the node of one rank as the cluster file describes it: the one
// place that knows which fields make which node, so that sear plan and
// the providers agree on every node by construction.
type Node struct {
	Rank int
	Role Role
	// Name is Flambé's: <cluster>_orchestrator, <cluster>_factory_<rank>.
	Name string
	// Types are the instance types it may launch as, first choice first,
	// then the capacity failover's alternates; nil for a !LocalCluster.
	Types []string
	// AMI is the image the file names for it; "" means sear picks one for
	// each instance type.
	AMI string
	// Spot says it launches on the spot market (falling back to on-demand).
	Spot bool
	// TypeField and AMIField are the fields that set Types and AMI:
	// orchestrator_type and orchestrator_ami, or factories_type and
	// factory_ami. Errors about them point there (FieldError, ItemError).
	TypeField, AMIField string
}

// Type is the node's first-choice instance type; "" for a !LocalCluster.
func (n Node) Type() string {
	if len(n.Types) == 0 {
		return ""
	}
	return n.Types[0]
}

// NodeName is Flambé's name of the node of rank in cluster name.
func NodeName(cluster string, rank int) string {
	if rank == 0 {
		return cluster + "_orchestrator"
	}
	return fmt.Sprintf("%s_factory_%d", cluster, rank)
}

// Node is the node of rank, 0 to FactoriesNum.
func (c *Cluster) Node(rank int) Node {
	n := Node{Rank: rank, Role: RoleFactory, Name: NodeName(c.Name, rank),
		TypeField: "factories_type", AMIField: "factory_ami"}
	if rank == 0 {
		n.Role, n.TypeField, n.AMIField = RoleOrchestrator, "orchestrator_type", "orchestrator_ami"
	}
	if c.Kind != AWS {
		return n
	}
	n.Spot = c.Spot
	if rank == 0 {
		n.Types, n.AMI = c.OrchestratorTypeChoices(), c.OrchestratorAMI
	} else {
		// choices, not FactoriesTypeChoices: rank 1 describes the
		// factories' role even when there are none (Roles).
		n.Types, n.AMI = choices(c.FactoriesTypes, c.FactoriesType), c.FactoryAMI
	}
	return n
}

// AllNodes are the nodes of every rank, orchestrator first.
func (c *Cluster) AllNodes() []Node {
	out := make([]Node, c.Nodes())
	for rank := range out {
		out[rank] = c.Node(rank)
	}
	return out
}

// Roles are one node of each role the cluster launches, orchestrator
// first: what is said of a role (its types, its image, its fields) is
// said of rank 0 and rank 1, since every factory is alike but for its
// rank and name.
func (c *Cluster) Roles() []Node {
	if c.FactoriesNum == 0 {
		return []Node{c.Node(0)}
	}
	return []Node{c.Node(0), c.Node(1)}
}
