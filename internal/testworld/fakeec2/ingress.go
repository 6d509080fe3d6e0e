package fakeec2

// xmlSGRule is a SecurityGroupRule, as AuthorizeSecurityGroupIngress returns.
type xmlSGRule struct {
	RuleID       string         `xml:"securityGroupRuleId"`
	GroupID      string         `xml:"groupId"`
	GroupOwnerID string         `xml:"groupOwnerId"`
	IsEgress     bool           `xml:"isEgress"`
	IPProtocol   string         `xml:"ipProtocol"`
	FromPort     int            `xml:"fromPort"`
	ToPort       int            `xml:"toPort"`
	CidrIpv4     string         `xml:"cidrIpv4,omitempty"`
	Referenced   *xmlReferenced `xml:"referencedGroupInfo,omitempty"`
	Description  string         `xml:"description,omitempty"`
	Tags         []xmlTag       `xml:"tagSet>item"`
}

type xmlReferenced struct {
	GroupID string `xml:"groupId"`
	UserID  string `xml:"userId"`
}

type authorizeResult struct {
	Return bool        `xml:"return"`
	Rules  []xmlSGRule `xml:"securityGroupRuleSet>item"`
}

// authorizeIngress implements AuthorizeSecurityGroupIngress. A rule that
// already exists, or that appears twice in the request, is
// InvalidPermission.Duplicate and nothing is added.
func (s *Server) authorizeIngress(p params) (any, *apiError) {
	specs, err := parseTagSpecs(p, "security-group-rule")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupFromParams(p)
	if err != nil {
		return nil, err
	}
	rules, err := s.parsePermissions(p)
	if err != nil {
		return nil, err
	}
	if err := checkDuplicates(g.ingress, rules); err != nil {
		return nil, err
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	out := authorizeResult{Return: true}
	for _, r := range rules {
		r.id = newID("sgr")
		g.ingress = append(g.ingress, r)
		out.Rules = append(out.Rules, s.ruleXML(g, r, specs["security-group-rule"]))
	}
	return out, nil
}

func checkDuplicates(existing, added []rule) *apiError {
	for i, r := range added {
		for _, e := range append(append([]rule{}, existing...), added[:i]...) {
			if e.same(r) {
				return clientError("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", r.describe())
			}
		}
	}
	return nil
}

func (s *Server) ruleXML(g *securityGroup, r rule, tags map[string]string) xmlSGRule {
	x := xmlSGRule{RuleID: r.id, GroupID: g.id, GroupOwnerID: s.opts.AccountID, IPProtocol: r.protocol,
		FromPort: r.from, ToPort: r.to, CidrIpv4: r.cidr, Description: r.description, Tags: tagList(tags)}
	if r.groupID != "" {
		x.Referenced = &xmlReferenced{GroupID: r.groupID, UserID: s.opts.AccountID}
	}
	return x
}

type xmlRevokedRule struct {
	RuleID     string `xml:"securityGroupRuleId"`
	GroupID    string `xml:"groupId"`
	IsEgress   bool   `xml:"isEgress"`
	IPProtocol string `xml:"ipProtocol"`
	FromPort   int    `xml:"fromPort"`
	ToPort     int    `xml:"toPort"`
	CidrIpv4   string `xml:"cidrIpv4,omitempty"`
	Referenced string `xml:"referencedGroupId,omitempty"`
}

type revokeResult struct {
	Return  bool              `xml:"return"`
	Revoked []xmlRevokedRule  `xml:"revokedSecurityGroupRuleSet>item"`
	Unknown []xmlIPPermission `xml:"unknownIpPermissionSet>item"`
}

// revokeIngress implements RevokeSecurityGroupIngress, by rule properties or
// by SecurityGroupRuleId.N. Every group here is in the default VPC, where
// "if the values you specify do not match the existing rule's values, no
// error is returned, and the output describes the security group rules that
// were not revoked" ("RevokeSecurityGroupIngress").
func (s *Server) revokeIngress(p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupFromParams(p)
	if err != nil {
		return nil, err
	}
	wanted, err := s.revokeTargets(g, p)
	if err != nil {
		return nil, err
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	out := revokeResult{Return: true}
	var unknown []rule
	for _, w := range wanted {
		if r, ok := g.removeIngress(w); ok {
			out.Revoked = append(out.Revoked, xmlRevokedRule{r.id, g.id, false, r.protocol, r.from, r.to, r.cidr, r.groupID})
		} else {
			unknown = append(unknown, w)
		}
	}
	out.Unknown = s.permissionsXML(unknown)
	return out, nil
}

// revokeTargets reads the rules to revoke: by id (unknown ids are an error)
// or by properties.
func (s *Server) revokeTargets(g *securityGroup, p params) ([]rule, *apiError) {
	ids := p.list("SecurityGroupRuleId")
	if len(ids) == 0 {
		return s.parsePermissions(p)
	}
	var out []rule
	for _, id := range ids {
		r, ok := g.ingressByID(id)
		if !ok {
			return nil, clientError("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
		}
		out = append(out, r)
	}
	return out, nil
}

func (g *securityGroup) ingressByID(id string) (rule, bool) {
	for _, r := range g.ingress {
		if r.id == id {
			return r, true
		}
	}
	return rule{}, false
}

func (g *securityGroup) removeIngress(w rule) (rule, bool) {
	for i, r := range g.ingress {
		if r.same(w) {
			g.ingress = append(g.ingress[:i], g.ingress[i+1:]...)
			return r, true
		}
	}
	return rule{}, false
}
