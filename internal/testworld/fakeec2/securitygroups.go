package fakeec2

import (
	"strings"
	"time"
	"unicode/utf8"
)

// securityGroup is a VPC security group. Deleted groups are kept (for
// State) but no longer visible through the API.
type securityGroup struct {
	seq                   int
	id, name, description string
	vpcID                 string
	ingress, egress       []rule
	tags                  map[string]string
	deleted               bool
	createdAt, deletedAt  time.Time
}

// liveGroups are the groups the API can see.
func (s *Server) liveGroups() map[string]*securityGroup {
	out := map[string]*securityGroup{}
	for id, g := range s.groups {
		if !g.deleted {
			out[id] = g
		}
	}
	return out
}

// groupByName finds a live group by name in a VPC.
func (s *Server) groupByName(vpcID, name string) *securityGroup {
	for _, g := range s.groups {
		if !g.deleted && g.vpcID == vpcID && g.name == name {
			return g
		}
	}
	return nil
}

// addDefaultGroup creates the VPC's default group: inbound from members of
// the group, outbound to anywhere (Amazon VPC User Guide, "Default security
// groups for your VPCs").
func (s *Server) addDefaultGroup(vpcID string) {
	g := s.newGroup("default", "default VPC security group", vpcID, nil)
	g.ingress = []rule{{id: newID("sgr"), protocol: "-1", from: -1, to: -1, groupID: g.id}}
}

// newGroup creates a group with the default outbound rule every new group
// gets ("CreateSecurityGroup": a new group has an outbound rule that allows
// all traffic).
func (s *Server) newGroup(name, description, vpcID string, tags map[string]string) *securityGroup {
	g := &securityGroup{seq: s.next(), id: newID("sg"), name: name, description: description, vpcID: vpcID,
		tags: copyTags(tags), createdAt: s.now()}
	g.egress = []rule{{id: newID("sgr"), protocol: "-1", from: -1, to: -1, cidr: "0.0.0.0/0"}}
	s.groups[g.id] = g
	return g
}

type createGroupResult struct {
	GroupID string   `xml:"groupId"`
	Arn     string   `xml:"securityGroupArn"`
	Tags    []xmlTag `xml:"tagSet>item"`
}

// createSecurityGroup implements CreateSecurityGroup: GroupName and
// GroupDescription required, VpcId defaulting to the default VPC,
// TagSpecification for security-group, names unique per VPC.
func (s *Server) createSecurityGroup(p params) (any, *apiError) {
	name, desc := p.str("GroupName"), p.str("GroupDescription")
	if err := validateGroupText(name, desc); err != nil {
		return nil, err
	}
	specs, err := parseTagSpecs(p, "security-group")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vpcID, err := s.vpcOrDefault(p.str("VpcId"))
	if err != nil {
		return nil, err
	}
	if s.groupByName(vpcID, name) != nil {
		return nil, clientError("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	g := s.newGroup(name, desc, vpcID, specs["security-group"])
	return createGroupResult{GroupID: g.id, Arn: s.arn("security-group/" + g.id), Tags: tagList(g.tags)}, nil
}

// validateGroupText applies CreateSecurityGroup's constraints: both fields
// required, up to 255 characters, and no name that looks like a group id.
func validateGroupText(name, desc string) *apiError {
	switch {
	case name == "":
		return errMissing("GroupName")
	case desc == "":
		return errMissing("GroupDescription")
	case utf8.RuneCountInString(name) > 255:
		return errInvalidValue("Invalid value '%s' for groupName. Length exceeds maximum of 255 characters", name)
	case utf8.RuneCountInString(desc) > 255:
		return errInvalidValue("Invalid value for groupDescription. Length exceeds maximum of 255 characters")
	case strings.HasPrefix(name, "sg-"):
		return errInvalidValue("Group names may not be in the format sg-*.")
	}
	return nil
}

func (s *Server) vpcOrDefault(id string) (string, *apiError) {
	if id == "" {
		return s.defaultVPC().id, nil
	}
	found, err := selectIDs([]string{id}, vpcIDs, func(id string) (*vpc, bool) { v, ok := s.vpcs[id]; return v, ok })
	if err != nil {
		return "", err
	}
	return found[0].id, nil
}

// groupFromParams finds the target of an ingress or delete call: GroupId,
// or GroupName in the default VPC ("[Default VPC] … you can specify either
// the security group name or the security group ID").
func (s *Server) groupFromParams(p params) (*securityGroup, *apiError) {
	if id := p.str("GroupId"); id != "" {
		found, err := selectIDs([]string{id}, groupIDs, func(id string) (*securityGroup, bool) {
			g, ok := s.groups[id]
			return g, ok && !g.deleted
		})
		if err != nil {
			return nil, err
		}
		return found[0], nil
	}
	name := p.str("GroupName")
	if name == "" {
		return nil, errMissing("GroupId")
	}
	if g := s.groupByName(s.defaultVPC().id, name); g != nil {
		return g, nil
	}
	return nil, clientError("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, s.defaultVPC().id)
}

type deleteGroupResult struct {
	Return  bool   `xml:"return"`
	GroupID string `xml:"groupId"`
}

// deleteSecurityGroup implements DeleteSecurityGroup. EC2 refuses while an
// instance that is not terminated uses the group, or another group's rule
// references it, with DependencyViolation ("DeleteSecurityGroup": "If you
// attempt to delete a security group that is associated with an instance or
// network interface or is referenced by another security group, the
// operation fails with DependencyViolation"); the default group cannot be
// deleted at all.
func (s *Server) deleteSecurityGroup(p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupFromParams(p)
	if err != nil {
		return nil, err
	}
	if g.name == "default" {
		return nil, clientError("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.id)
	}
	if s.groupInUse(g.id) {
		return nil, clientError("DependencyViolation", "resource %s has a dependent object", g.id)
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	g.deleted, g.deletedAt = true, s.now()
	return deleteGroupResult{true, g.id}, nil
}

func (s *Server) groupInUse(id string) bool {
	for _, i := range s.instances {
		if (i.live() || s.interfaceLingers(i)) && contains(i.groupIDs, id) {
			return true
		}
	}
	for _, other := range s.liveGroups() {
		if other.id != id && other.references(id) {
			return true
		}
	}
	return false
}

func (g *securityGroup) references(id string) bool {
	for _, r := range append(append([]rule{}, g.ingress...), g.egress...) {
		if r.groupID == id {
			return true
		}
	}
	return false
}
