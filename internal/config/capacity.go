package config

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Capacity is where a cluster may launch when EC2 has no capacity for its
// first choice: sear's list forms of Flambé's single-valued subnet_id,
// orchestrator_type and factories_type (package cloud/ec2 fails over
// across them). The single value stays valid, and a file that gives one
// leaves these lists nil: the field of Cluster with that name (SubnetID,
// OrchestratorType, FactoriesType) holds it, as it always holds the first
// choice, so code that knows nothing of failover sees what Flambé would.
type Capacity struct {
	// SubnetIDs are the subnets subnet_id lists, in the order sear tries
	// them; nil when it gives one subnet or none.
	SubnetIDs []string `json:",omitempty"`
	// OrchestratorTypes and FactoriesTypes are the instance types the
	// fields list, first choice first; nil for a single type.
	OrchestratorTypes []string `json:",omitempty"`
	FactoriesTypes    []string `json:",omitempty"`
	// CheckQuotas is check_quotas, the opt-in to the vCPU quota check in
	// preflight (package cloud/ec2, checkQuotas), which reads the quotas
	// with servicequotas:GetServiceQuota; the policy sear plan prints
	// allows that call only when it is set.
	CheckQuotas bool `json:",omitempty"`
}

// Subnets are the subnets the cluster may launch into, in order; nil
// means the default subnet of each zone.
func (c *Cluster) Subnets() []string {
	return choices(c.SubnetIDs, c.SubnetID)
}

// OrchestratorTypeChoices are the orchestrator's instance types, first
// choice first.
func (c *Cluster) OrchestratorTypeChoices() []string {
	return choices(c.OrchestratorTypes, c.OrchestratorType)
}

// FactoriesTypeChoices are the factories' instance types, first choice
// first; nil for a cluster without factories.
func (c *Cluster) FactoriesTypeChoices() []string {
	if c.FactoriesNum == 0 {
		return nil
	}
	return choices(c.FactoriesTypes, c.FactoriesType)
}

func choices(list []string, single string) []string {
	if len(list) > 0 {
		return append([]string(nil), list...)
	}
	if single == "" {
		return nil
	}
	return []string{single}
}

// capacity reads subnet_id, orchestrator_type and factories_type, each a
// string (Flambé's form) or a list of strings, and check_quotas.
func (s *source) capacity(fs map[string]field, c *Cluster) {
	for name, dst := range map[string]struct {
		first *string
		list  *[]string
	}{
		"subnet_id":         {&c.SubnetID, &c.SubnetIDs},
		"orchestrator_type": {&c.OrchestratorType, &c.OrchestratorTypes},
		"factories_type":    {&c.FactoriesType, &c.FactoriesTypes},
	} {
		f, ok := fs[name]
		if !ok {
			continue
		}
		if resolve(f.value).Kind != yaml.SequenceNode {
			if v, ok := s.oneOrList(f); ok {
				*dst.first = v
			}
			continue
		}
		if list, ok := s.choiceList(f); ok && len(list) > 0 {
			*dst.first, *dst.list = list[0], list
			s.recordItems(c, f)
		}
	}
	if f, ok := fs["check_quotas"]; ok {
		c.CheckQuotas, _ = s.boolean(f)
	}
}

// oneOrList reads the single-valued form; anything but a string or null
// is refused with both forms named.
func (s *source) oneOrList(f field) (string, bool) {
	n := resolve(f.value)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return "", true
	}
	if n.Kind != yaml.ScalarNode || customTag(n) != "" {
		s.errorAt(f.value, "%q must be a string or a list of strings, not %s; write %s: %s, or one choice per line starting with \"- \"",
			f.key.Value, describe(n), f.key.Value, example(f.key.Value))
		return "", false
	}
	return s.str(f)
}

// choiceList reads the list form: at least one item, each a non-empty
// string given once, subnets by id.
func (s *source) choiceList(f field) ([]string, bool) {
	n := resolve(f.value)
	if len(n.Content) == 0 {
		s.errorAt(f.value, "%q is an empty list; give at least one, such as %s: [%s]", f.key.Value, f.key.Value, example(f.key.Value))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	seen := map[string]int{}
	ok := true
	for _, item := range n.Content {
		v, good := s.str(field{key: f.key, value: item})
		switch {
		case !good:
			ok = false
			continue
		case v == "":
			s.errorAt(item, "%q lists an empty string; remove it", f.key.Value)
			ok = false
			continue
		case f.key.Value == "subnet_id" && !strings.HasPrefix(v, "subnet-"):
			s.errorAt(item, "%q is not an id for %q; EC2 ids of this kind start with %q", v, f.key.Value, "subnet-")
			ok = false
			continue
		}
		if line, dup := seen[v]; dup {
			s.errorAt(item, "%q lists %q twice (first on line %d); remove one", f.key.Value, v, line)
			ok = false
			continue
		}
		seen[v] = resolve(item).Line
		out = append(out, v)
	}
	return out, ok
}

// example is a value of the field, for messages.
func example(field string) string {
	switch field {
	case "subnet_id":
		return "subnet-0123456789abcdef0"
	case "orchestrator_type":
		return "t3.large"
	}
	return "g5.xlarge"
}
