package fakeec2

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// rule is one security group rule: a protocol and port range from one
// source, either a CIDR range or another group.
type rule struct {
	id          string
	protocol    string // tcp, udp, icmp, icmpv6, -1 (all) or a protocol number
	from, to    int    // -1 when the protocol has no ports
	cidr        string
	groupID     string
	description string
}

// same reports whether two rules grant the same access; descriptions do not
// count, as in EC2's duplicate check.
func (r rule) same(o rule) bool {
	return r.protocol == o.protocol && r.from == o.from && r.to == o.to && r.cidr == o.cidr && r.groupID == o.groupID
}

// describe words a rule as EC2 does in InvalidPermission.Duplicate: the
// specified rule "peer: sg-8b3b99f3, TCP, from port: 0, to port: 65535,
// ALLOW" already exists (galaxyproject/cloudlaunch#56 quotes the wire
// response).
func (r rule) describe() string {
	peer := r.cidr
	if r.groupID != "" {
		peer = r.groupID
	}
	if r.protocol == "-1" {
		return fmt.Sprintf("peer: %s, ALL, ALLOW", peer)
	}
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, strings.ToUpper(r.protocol), r.from, r.to)
}

// parsePermissions reads IpPermissions.N (with IpRanges.M and Groups.M) and
// the older top-level form (IpProtocol, FromPort, ToPort, CidrIp,
// SourceSecurityGroupName) that AuthorizeSecurityGroupIngress also takes.
func (s *Server) parsePermissions(p params) ([]rule, *apiError) {
	var out []rule
	for _, m := range p.members("IpPermissions") {
		rs, err := s.parsePermission(m, m.members("IpRanges"), m.members("Groups"))
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	if p.has("IpProtocol") || p.has("CidrIp") || p.has("SourceSecurityGroupName") {
		rs, err := s.parsePermission(p, legacyRanges(p), legacyGroups(p))
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	if len(out) == 0 {
		return nil, errMissing("IpPermissions")
	}
	return out, nil
}

func legacyRanges(p params) []params {
	if !p.has("CidrIp") {
		return nil
	}
	return []params{{"CidrIp": p.str("CidrIp")}}
}

func legacyGroups(p params) []params {
	if !p.has("SourceSecurityGroupName") {
		return nil
	}
	return []params{{"GroupName": p.str("SourceSecurityGroupName")}}
}

// parsePermission turns one permission into a rule per source.
func (s *Server) parsePermission(m params, ranges, groups []params) ([]rule, *apiError) {
	base, err := parseProtocolPorts(m)
	if err != nil {
		return nil, err
	}
	var out []rule
	for _, r := range ranges {
		cidr := r.str("CidrIp")
		if ip, _, err := net.ParseCIDR(cidr); err != nil || ip.To4() == nil {
			return nil, errInvalidValue("CIDR block %s is malformed", cidr)
		}
		out = append(out, rule{protocol: base.protocol, from: base.from, to: base.to, cidr: cidr, description: r.str("Description")})
	}
	for _, g := range groups {
		id, err := s.resolvePeer(g)
		if err != nil {
			return nil, err
		}
		out = append(out, rule{protocol: base.protocol, from: base.from, to: base.to, groupID: id, description: g.str("Description")})
	}
	return out, nil
}

// resolvePeer finds the group a UserIdGroupPair refers to, by id or, in the
// default VPC, by name.
func (s *Server) resolvePeer(g params) (string, *apiError) {
	if id := g.str("GroupId"); id != "" {
		if _, err := s.groupFromParams(params{"GroupId": id}); err != nil {
			return "", err
		}
		return id, nil
	}
	found, err := s.groupFromParams(params{"GroupName": g.str("GroupName")})
	if err != nil {
		return "", err
	}
	return found.id, nil
}

// protocols maps the names and numbers EC2 accepts to the name it reports.
var protocols = map[string]string{"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp",
	"icmpv6": "icmpv6", "58": "icmpv6", "-1": "-1", "all": "-1"}

// parseProtocolPorts reads IpProtocol, FromPort and ToPort. TCP and UDP need
// a port range within 0-65535; ICMP takes a type and code (-1 for all);
// other protocols have no ports ("IpPermission": "If you specify -1 … or a
// protocol number other than tcp, udp, icmp, or icmpv6, traffic on all
// ports is allowed").
func parseProtocolPorts(m params) (rule, *apiError) {
	raw := strings.ToLower(m.str("IpProtocol"))
	if raw == "" {
		return rule{}, errMissing("IpPermissions.IpProtocol")
	}
	proto, ok := protocols[raw]
	if n, err := strconv.Atoi(raw); !ok && (err != nil || n < 0 || n > 255) {
		return rule{}, errInvalidValue("Invalid value '%s' for IP protocol. Unknown protocol.", m.str("IpProtocol"))
	} else if !ok {
		proto = raw
	}
	switch proto {
	case "tcp", "udp":
		return portRange(m, proto, 0, 65535)
	case "icmp", "icmpv6":
		return portRange(m, proto, -1, 255)
	}
	return rule{protocol: proto, from: -1, to: -1}, nil
}

func portRange(m params, proto string, lo, hi int) (rule, *apiError) {
	from, fromSent, err := m.integer("FromPort")
	if err != nil {
		return rule{}, err
	}
	to, toSent, err := m.integer("ToPort")
	if err != nil {
		return rule{}, err
	}
	if !fromSent || !toSent {
		if proto == "tcp" || proto == "udp" {
			return rule{}, errInvalidValue("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange. Must specify both from and to ports with TCP/UDP.")
		}
		from, to = -1, -1
	}
	if from < lo || to > hi || to < lo || from > hi || (lo == 0 && from > to) {
		return rule{}, errInvalidValue("Invalid value '%d-%d' for portRange. Must be within %d-%d and from <= to.", from, to, lo, hi)
	}
	return rule{protocol: proto, from: from, to: to}, nil
}
