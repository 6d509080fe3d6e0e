package fakeec2

import "strconv"

// xmlSubnet is a Subnet (EC2 API Reference, "Subnet").
type xmlSubnet struct {
	SubnetID                string   `xml:"subnetId"`
	SubnetArn               string   `xml:"subnetArn"`
	State                   string   `xml:"state"`
	OwnerID                 string   `xml:"ownerId"`
	VpcID                   string   `xml:"vpcId"`
	CidrBlock               string   `xml:"cidrBlock"`
	AvailableIPAddressCount int      `xml:"availableIpAddressCount"`
	AvailabilityZone        string   `xml:"availabilityZone"`
	AvailabilityZoneID      string   `xml:"availabilityZoneId"`
	DefaultForAz            bool     `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool     `xml:"mapPublicIpOnLaunch"`
	Tags                    []xmlTag `xml:"tagSet>item"`
}

type describeSubnetsResult struct {
	Subnets   []xmlSubnet `xml:"subnetSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

var subnetFields = fieldFuncs[*subnet]{
	"subnet-id":            func(sn *subnet) []string { return one(sn.id) },
	"vpc-id":               func(sn *subnet) []string { return one(sn.vpcID) },
	"availability-zone":    func(sn *subnet) []string { return one(sn.az) },
	"availability-zone-id": func(sn *subnet) []string { return one(sn.azID) },
	"cidr-block":           func(sn *subnet) []string { return one(sn.cidr) },
	"default-for-az":       func(sn *subnet) []string { return one(strconv.FormatBool(sn.defaultForAz)) },
	"state":                func(*subnet) []string { return one("available") },
}

// describeSubnets implements DescribeSubnets (SubnetId.N, Filter.N,
// MaxResults/NextToken).
func (s *Server) describeSubnets(p params) (any, *apiError) {
	ids := p.list("SubnetId")
	return describe(s, p, query[*subnet]{
		named: ids, namedParam: "subnetIds", fields: subnetFields,
		tags: func(sn *subnet) map[string]string { return sn.tags }, seq: func(sn *subnet) int { return sn.seq },
		selectAll: func() ([]*subnet, *apiError) { return selectOrAll(ids, subnetIDs, s.subnets) },
	}, func(items []*subnet, next string) any {
		out := describeSubnetsResult{NextToken: next}
		for _, sn := range items {
			out.Subnets = append(out.Subnets, s.subnetXML(sn))
		}
		return out
	})
}

func (s *Server) subnetXML(sn *subnet) xmlSubnet {
	return xmlSubnet{
		SubnetID: sn.id, SubnetArn: s.arn("subnet/" + sn.id), State: "available", OwnerID: s.opts.AccountID,
		VpcID: sn.vpcID, CidrBlock: sn.cidr, AvailableIPAddressCount: s.available(sn),
		AvailabilityZone: sn.az, AvailabilityZoneID: sn.azID, DefaultForAz: sn.defaultForAz,
		MapPublicIPOnLaunch: sn.defaultForAz, Tags: tagList(sn.tags),
	}
}

// xmlVpc is a Vpc (EC2 API Reference, "Vpc").
type xmlVpc struct {
	VpcID           string   `xml:"vpcId"`
	OwnerID         string   `xml:"ownerId"`
	State           string   `xml:"state"`
	CidrBlock       string   `xml:"cidrBlock"`
	DhcpOptionsID   string   `xml:"dhcpOptionsId"`
	InstanceTenancy string   `xml:"instanceTenancy"`
	IsDefault       bool     `xml:"isDefault"`
	Tags            []xmlTag `xml:"tagSet>item"`
}

type describeVpcsResult struct {
	Vpcs      []xmlVpc `xml:"vpcSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

var vpcFields = fieldFuncs[*vpc]{
	"vpc-id":     func(v *vpc) []string { return one(v.id) },
	"is-default": func(v *vpc) []string { return one(strconv.FormatBool(v.isDefault)) },
	"cidr":       func(v *vpc) []string { return one(v.cidr) },
	"state":      func(*vpc) []string { return one("available") },
}

// describeVpcs implements DescribeVpcs (VpcId.N, Filter.N,
// MaxResults/NextToken).
func (s *Server) describeVpcs(p params) (any, *apiError) {
	ids := p.list("VpcId")
	return describe(s, p, query[*vpc]{
		named: ids, namedParam: "vpcIds", fields: vpcFields,
		tags: func(v *vpc) map[string]string { return v.tags }, seq: func(v *vpc) int { return v.seq },
		selectAll: func() ([]*vpc, *apiError) { return selectOrAll(ids, vpcIDs, s.vpcs) },
	}, func(items []*vpc, next string) any {
		out := describeVpcsResult{NextToken: next}
		for _, v := range items {
			out.Vpcs = append(out.Vpcs, xmlVpc{VpcID: v.id, OwnerID: s.opts.AccountID, State: "available", CidrBlock: v.cidr,
				DhcpOptionsID: "dopt-" + v.id[4:12], InstanceTenancy: "default", IsDefault: v.isDefault, Tags: tagList(v.tags)})
		}
		return out
	})
}

// xmlZone is an AvailabilityZone (EC2 API Reference, "AvailabilityZone").
type xmlZone struct {
	ZoneName           string `xml:"zoneName"`
	ZoneID             string `xml:"zoneId"`
	ZoneState          string `xml:"zoneState"`
	RegionName         string `xml:"regionName"`
	ZoneType           string `xml:"zoneType"`
	OptInStatus        string `xml:"optInStatus"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
}

type describeZonesResult struct {
	Zones []xmlZone `xml:"availabilityZoneInfo>item"`
}

// describeAvailabilityZones lists the region's three zones; ZoneName.N
// narrows them, and an unknown name is refused.
func (s *Server) describeAvailabilityZones(p params) (any, *apiError) {
	names := p.list("ZoneName")
	for _, n := range names {
		if !contains(s.zones(), n) {
			return nil, errInvalidValue("Invalid availability zone: [%s]", n)
		}
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	var out describeZonesResult
	for _, az := range s.zones() {
		if len(names) == 0 || contains(names, az) {
			r := s.opts.Region
			out.Zones = append(out.Zones, xmlZone{az, s.zoneID(az), "available", r, "availability-zone", "opt-in-not-required", r, r})
		}
	}
	return out, nil
}

// selectOrAll resolves explicit ids, or returns every resource of the map.
func selectOrAll[T any](ids []string, kind idKind, m map[string]T) ([]T, *apiError) {
	if len(ids) > 0 {
		return selectIDs(ids, kind, func(id string) (T, bool) { v, ok := m[id]; return v, ok })
	}
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out, nil
}

// arn builds an EC2 ARN in the emulator's region and account.
func (s *Server) arn(resource string) string {
	return "arn:aws:ec2:" + s.opts.Region + ":" + s.opts.AccountID + ":" + resource
}
