package fakeec2

import (
	"sort"
	"strings"
)

// instanceType is one entry of the emulator's instance type table.
type instanceType struct {
	arch  string // x86_64 or arm64
	zones string // the zone letters it is offered in, in every region
}

// instanceTypes are the types the emulator knows: the general purpose,
// compute and GPU families an ML cluster uses. Most are offered in every
// zone; the large GPU types only in zones a and b, as real accelerated
// capacity is not in every zone (see DescribeInstanceTypeOfferings in the
// EC2 API Reference).
var instanceTypes = map[string]instanceType{
	"m1.small": {"x86_64", "abc"}, // RunInstances' default InstanceType
	"t2.micro": {"x86_64", "abc"}, "t2.small": {"x86_64", "abc"}, "t2.medium": {"x86_64", "abc"},
	"t3.nano": {"x86_64", "abc"}, "t3.micro": {"x86_64", "abc"}, "t3.small": {"x86_64", "abc"},
	"t3.medium": {"x86_64", "abc"}, "t3.large": {"x86_64", "abc"}, "t3.xlarge": {"x86_64", "abc"},
	"t3.2xlarge": {"x86_64", "abc"}, "m5.large": {"x86_64", "abc"}, "m5.xlarge": {"x86_64", "abc"},
	"m5.2xlarge": {"x86_64", "abc"}, "m5.4xlarge": {"x86_64", "abc"}, "c5.large": {"x86_64", "abc"},
	"c5.xlarge": {"x86_64", "abc"}, "c5.2xlarge": {"x86_64", "abc"}, "c5.4xlarge": {"x86_64", "abc"},
	"r5.large": {"x86_64", "abc"}, "r5.xlarge": {"x86_64", "abc"},
	"g4dn.xlarge": {"x86_64", "abc"}, "g4dn.2xlarge": {"x86_64", "abc"}, "g4dn.12xlarge": {"x86_64", "ab"},
	"g5.xlarge": {"x86_64", "ab"}, "g5.2xlarge": {"x86_64", "ab"}, "g5.12xlarge": {"x86_64", "ab"},
	"p3.2xlarge": {"x86_64", "ab"}, "p3.8xlarge": {"x86_64", "ab"}, "p4d.24xlarge": {"x86_64", "ab"},
	"t4g.micro": {"arm64", "abc"}, "t4g.small": {"arm64", "abc"}, "m6g.large": {"arm64", "abc"},
	"g5g.xlarge": {"arm64", "ab"},
}

// offeredIn reports whether the type is offered in the zone.
func (t instanceType) offeredIn(az string) bool {
	return strings.ContainsRune(t.zones, rune(az[len(az)-1]))
}

// unsupportedIn is EC2's answer to a launch in a zone that lacks the type:
// code Unsupported, naming the zones that have it.
func (s *Server) unsupportedIn(name string, t instanceType, az string) *apiError {
	var ok []string
	for _, z := range s.zones() {
		if t.offeredIn(z) {
			ok = append(ok, z)
		}
	}
	return clientError("Unsupported", "Your requested instance type (%s) is not supported in your requested Availability Zone (%s). Please retry your request by not specifying an Availability Zone or choosing %s.",
		name, az, strings.Join(ok, ", "))
}

// offering is one InstanceTypeOffering.
type offering struct {
	seq                                  int
	instanceType, locationType, location string
}

type xmlOffering struct {
	InstanceType string `xml:"instanceType"`
	LocationType string `xml:"locationType"`
	Location     string `xml:"location"`
}

type describeOfferingsResult struct {
	Offerings []xmlOffering `xml:"instanceTypeOfferingSet>item"`
	NextToken string        `xml:"nextToken,omitempty"`
}

var offeringFields = fieldFuncs[offering]{
	"instance-type": func(o offering) []string { return one(o.instanceType) },
	"location":      func(o offering) []string { return one(o.location) },
}

// describeInstanceTypeOfferings implements DescribeInstanceTypeOfferings:
// LocationType region (the default), availability-zone or
// availability-zone-id; Filter.N instance-type and location, with
// wildcards; MaxResults/NextToken.
func (s *Server) describeInstanceTypeOfferings(p params) (any, *apiError) {
	lt := p.str("LocationType")
	if lt == "" {
		lt = "region"
	}
	if !contains([]string{"region", "availability-zone", "availability-zone-id", "outpost"}, lt) {
		return nil, errInvalidValue("Value (%s) for parameter locationType is invalid.", lt)
	}
	fs, err := parseFilters(p, offeringFields)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, nil, "")
	if err != nil {
		return nil, err
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	items, next, err := paginate(applyFilters(s.offerings(lt), fs, offeringFields, func(offering) map[string]string { return nil }),
		func(o offering) int { return o.seq }, pg)
	if err != nil {
		return nil, err
	}
	out := describeOfferingsResult{NextToken: next}
	for _, o := range items {
		out.Offerings = append(out.Offerings, xmlOffering{o.instanceType, o.locationType, o.location})
	}
	return out, nil
}

// offerings lists every (type, location) pair for a location type, in a
// stable order.
func (s *Server) offerings(locationType string) []offering {
	names := make([]string, 0, len(instanceTypes))
	for n := range instanceTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []offering
	for _, n := range names {
		for _, loc := range s.locations(instanceTypes[n], locationType) {
			out = append(out, offering{len(out) + 1, n, locationType, loc})
		}
	}
	return out
}

func (s *Server) locations(t instanceType, locationType string) []string {
	switch locationType {
	case "region":
		return []string{s.opts.Region}
	case "outpost":
		return nil
	}
	var out []string
	for _, az := range s.zones() {
		if !t.offeredIn(az) {
			continue
		}
		if locationType == "availability-zone-id" {
			az = s.zoneID(az)
		}
		out = append(out, az)
	}
	return out
}
