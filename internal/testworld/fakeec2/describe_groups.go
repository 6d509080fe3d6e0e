package fakeec2

import "strconv"

// xmlIPPermission is an IpPermission: one protocol and port range with all
// its sources, as DescribeSecurityGroups groups them.
type xmlIPPermission struct {
	IPProtocol string         `xml:"ipProtocol"`
	FromPort   *int           `xml:"fromPort,omitempty"`
	ToPort     *int           `xml:"toPort,omitempty"`
	Groups     []xmlGroupPair `xml:"groups>item"`
	IPRanges   []xmlIPRange   `xml:"ipRanges>item"`
}

type xmlGroupPair struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
}

type xmlIPRange struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

// xmlSecurityGroup is a SecurityGroup (EC2 API Reference, "SecurityGroup").
type xmlSecurityGroup struct {
	OwnerID     string            `xml:"ownerId"`
	GroupID     string            `xml:"groupId"`
	GroupName   string            `xml:"groupName"`
	Description string            `xml:"groupDescription"`
	VpcID       string            `xml:"vpcId"`
	Arn         string            `xml:"securityGroupArn"`
	Ingress     []xmlIPPermission `xml:"ipPermissions>item"`
	Egress      []xmlIPPermission `xml:"ipPermissionsEgress>item"`
	Tags        []xmlTag          `xml:"tagSet>item"`
}

type describeGroupsResult struct {
	Groups    []xmlSecurityGroup `xml:"securityGroupInfo>item"`
	NextToken string             `xml:"nextToken,omitempty"`
}

// permissionsXML groups rules by protocol and port range, keeping the order
// in which the ranges first appeared. Ports are omitted for rules without
// them, as EC2 does for protocol -1.
func (s *Server) permissionsXML(rules []rule) []xmlIPPermission {
	var out []xmlIPPermission
	index := map[string]int{}
	for _, r := range rules {
		key := r.protocol + "/" + strconv.Itoa(r.from) + "/" + strconv.Itoa(r.to)
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, xmlIPPermission{IPProtocol: r.protocol})
			if r.protocol != "-1" {
				from, to := r.from, r.to
				out[i].FromPort, out[i].ToPort = &from, &to
			}
		}
		if r.cidr != "" {
			out[i].IPRanges = append(out[i].IPRanges, xmlIPRange{r.cidr, r.description})
		} else {
			out[i].Groups = append(out[i].Groups, xmlGroupPair{s.opts.AccountID, r.groupID, r.description})
		}
	}
	return out
}

var groupFields = fieldFuncs[*securityGroup]{
	"group-id":    func(g *securityGroup) []string { return one(g.id) },
	"group-name":  func(g *securityGroup) []string { return one(g.name) },
	"description": func(g *securityGroup) []string { return one(g.description) },
	"vpc-id":      func(g *securityGroup) []string { return one(g.vpcID) },
	"ip-permission.cidr": func(g *securityGroup) []string {
		return ruleValues(g.ingress, func(r rule) string { return r.cidr })
	},
	"ip-permission.group-id": func(g *securityGroup) []string {
		return ruleValues(g.ingress, func(r rule) string { return r.groupID })
	},
	"ip-permission.protocol": func(g *securityGroup) []string {
		return ruleValues(g.ingress, func(r rule) string { return r.protocol })
	},
	"ip-permission.from-port": func(g *securityGroup) []string {
		return ruleValues(g.ingress, func(r rule) string { return strconv.Itoa(r.from) })
	},
	"ip-permission.to-port": func(g *securityGroup) []string {
		return ruleValues(g.ingress, func(r rule) string { return strconv.Itoa(r.to) })
	},
	"egress.ip-permission.cidr": func(g *securityGroup) []string {
		return ruleValues(g.egress, func(r rule) string { return r.cidr })
	},
}

func ruleValues(rules []rule, f func(rule) string) []string {
	var out []string
	for _, r := range rules {
		if v := f(r); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// describeSecurityGroups implements DescribeSecurityGroups: GroupId.N,
// GroupName.N (default VPC), Filter.N and MaxResults/NextToken.
func (s *Server) describeSecurityGroups(p params) (any, *apiError) {
	ids, names := p.list("GroupId"), p.list("GroupName")
	return describe(s, p, query[*securityGroup]{
		named: append(ids, names...), namedParam: "groupIds", fields: s.groupFieldsWithOwner(),
		tags: func(g *securityGroup) map[string]string { return g.tags }, seq: func(g *securityGroup) int { return g.seq },
		selectAll: func() ([]*securityGroup, *apiError) { return s.selectGroups(ids, names) },
	}, func(items []*securityGroup, next string) any {
		out := describeGroupsResult{NextToken: next}
		for _, g := range items {
			out.Groups = append(out.Groups, s.groupXML(g))
		}
		return out
	})
}

func (s *Server) groupFieldsWithOwner() fieldFuncs[*securityGroup] {
	fields := fieldFuncs[*securityGroup]{}
	for k, v := range groupFields {
		fields[k] = v
	}
	fields["owner-id"] = func(*securityGroup) []string { return one(s.opts.AccountID) }
	return fields
}

// selectGroups resolves GroupId.N and GroupName.N, or lists every live group.
func (s *Server) selectGroups(ids, names []string) ([]*securityGroup, *apiError) {
	out, err := selectOrAll(ids, groupIDs, s.liveGroups())
	if err != nil || len(names) == 0 {
		return out, err
	}
	if len(ids) == 0 {
		out = nil
	}
	for _, n := range names {
		g, err := s.groupFromParams(params{"GroupName": n})
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *Server) groupXML(g *securityGroup) xmlSecurityGroup {
	return xmlSecurityGroup{
		OwnerID: s.opts.AccountID, GroupID: g.id, GroupName: g.name, Description: g.description, VpcID: g.vpcID,
		Arn: s.arn("security-group/" + g.id), Ingress: s.permissionsXML(g.ingress), Egress: s.permissionsXML(g.egress),
		Tags: tagList(g.tags),
	}
}
