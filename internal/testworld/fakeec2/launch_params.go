package fakeec2

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// launchRequest is a validated RunInstances request.
type launchRequest struct {
	img                *image
	typeName           string
	itype              instanceType
	minCount, maxCount int
	clientToken        string
	userData           []byte
	subnet             *subnet
	groups             []*securityGroup
	tagSpecs           map[string]map[string]string
	metadata           metadataOptions
	shutdown           string
	market             marketOptions
	devices            []deviceRequest
	iamProfile         string
	fingerprint        string
}

// maxUserData is EC2's user data limit: 16 KB, "in raw form, before it is
// base64-encoded" (EC2 User Guide, "Work with instance user data").
const maxUserData = 16384

// launchStep validates one part of a RunInstances request.
type launchStep func(s *Server, req *launchRequest, p params) *apiError

// launchSteps run in order; the first error is the answer.
var launchSteps = []launchStep{
	parseCounts, parseClientToken, parseImage, parseInstanceType, parseUserData, parseLaunchTags,
	parseMetadata, parseShutdown, parseMarket, parsePlacement, parseLaunchGroups, parseDevices, parseProfile,
}

// parseLaunch validates a RunInstances request; the caller holds s.mu.
func (s *Server) parseLaunch(p params) (*launchRequest, *apiError) {
	req := &launchRequest{fingerprint: fingerprint(p)}
	for _, step := range launchSteps {
		if err := step(s, req, p); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// fingerprint identifies a request's parameters for client-token
// idempotency: everything but the token itself and DryRun.
func fingerprint(p params) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "ClientToken" && k != "DryRun" && !strings.HasPrefix(k, "X-Amz-") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k + "=" + p[k] + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parseCounts reads MinCount and MaxCount: both required, at least 1, and
// MaxCount no smaller than MinCount.
func parseCounts(_ *Server, req *launchRequest, p params) *apiError {
	var sent bool
	var err *apiError
	if req.minCount, sent, err = p.integer("MinCount"); err != nil || !sent {
		return firstErr(err, errMissing("MinCount"))
	}
	if req.maxCount, sent, err = p.integer("MaxCount"); err != nil || !sent {
		return firstErr(err, errMissing("MaxCount"))
	}
	if req.minCount < 1 {
		return errInvalidValue("Value (%d) for parameter minCount is invalid. Expecting a value greater than 0.", req.minCount)
	}
	if req.maxCount < req.minCount {
		return errInvalidValue("Value (%d) for parameter maxCount is invalid. Expecting a value greater than or equal to minCount (%d).", req.maxCount, req.minCount)
	}
	return nil
}

func firstErr(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// parseClientToken reads ClientToken: up to 64 ASCII characters ("Ensuring
// idempotency in Amazon EC2 API requests").
func parseClientToken(_ *Server, req *launchRequest, p params) *apiError {
	req.clientToken = p.str("ClientToken")
	if len(req.clientToken) > 64 {
		return errInvalidValue("Value (%s) for parameter clientToken is invalid. Length exceeds maximum of 64", req.clientToken)
	}
	return nil
}

// parseImage resolves ImageId among the images the account may launch.
func parseImage(s *Server, req *launchRequest, p params) *apiError {
	id := p.str("ImageId")
	if id == "" {
		return errMissing("ImageId")
	}
	found, err := s.visibleImages([]string{id})
	if err != nil {
		return err
	}
	req.img = found[0]
	return nil
}

// parseInstanceType checks InstanceType against the type table (default
// m1.small, as RunInstances documents) and the image's architecture.
func parseInstanceType(_ *Server, req *launchRequest, p params) *apiError {
	req.typeName = p.str("InstanceType")
	if req.typeName == "" {
		req.typeName = "m1.small"
	}
	t, ok := instanceTypes[req.typeName]
	if !ok {
		return errInvalidValue("Invalid value '%s' for InstanceType.", req.typeName)
	}
	if t.arch != req.img.Architecture {
		return errInvalidValue("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.", t.arch, req.img.Architecture)
	}
	req.itype = t
	return nil
}

// parseUserData decodes UserData. Invalid base64 and more than 16 KB decoded
// are both InvalidUserData.Malformed on EC2 ("InvalidUserData.Malformed:
// User data is limited to 16384 bytes", as caltechlibrary/clasm's release
// notes quote it).
func parseUserData(_ *Server, req *launchRequest, p params) *apiError {
	raw := p.str("UserData")
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return clientError("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.")
	}
	if len(data) > maxUserData {
		return clientError("InvalidUserData.Malformed", "User data is limited to %d bytes", maxUserData)
	}
	req.userData = data
	return nil
}

// parseLaunchTags reads TagSpecification.N for the resource types
// RunInstances tags at creation.
func parseLaunchTags(_ *Server, req *launchRequest, p params) *apiError {
	specs, err := parseTagSpecs(p, "instance", "volume", "network-interface", "spot-instances-request")
	req.tagSpecs = specs
	return err
}

// parseMetadata reads MetadataOptions (EC2 API Reference,
// "InstanceMetadataOptionsRequest"): HttpTokens optional|required,
// HttpPutResponseHopLimit 1-64 (default 1), HttpEndpoint enabled|disabled,
// InstanceMetadataTags enabled|disabled.
func parseMetadata(_ *Server, req *launchRequest, p params) *apiError {
	m := p.sub("MetadataOptions")
	req.metadata = metadataOptions{httpTokens: "optional", hopLimit: 1, httpEndpoint: "enabled", metadataTags: "disabled"}
	if err := enumParam(m, "HttpTokens", &req.metadata.httpTokens, "optional", "required"); err != nil {
		return err
	}
	if err := enumParam(m, "HttpEndpoint", &req.metadata.httpEndpoint, "enabled", "disabled"); err != nil {
		return err
	}
	if err := enumParam(m, "InstanceMetadataTags", &req.metadata.metadataTags, "enabled", "disabled"); err != nil {
		return err
	}
	n, sent, err := m.integer("HttpPutResponseHopLimit")
	if err != nil {
		return err
	}
	if sent && (n < 1 || n > 64) {
		return errInvalidValue("The HttpPutResponseHopLimit value '%d' is invalid. Specify a value between 1 and 64.", n)
	}
	if sent {
		req.metadata.hopLimit = n
	}
	return nil
}

// enumParam sets *dst from an optional parameter with a fixed value set.
func enumParam(p params, key string, dst *string, allowed ...string) *apiError {
	v, sent := p[key]
	if !sent {
		return nil
	}
	if !contains(allowed, v) {
		return errInvalidValue("Value (%s) for parameter %s is invalid. Expected one of: %s.", v, lowerFirst(key), strings.Join(allowed, ", "))
	}
	*dst = v
	return nil
}

// parseShutdown reads InstanceInitiatedShutdownBehavior (default stop).
func parseShutdown(_ *Server, req *launchRequest, p params) *apiError {
	req.shutdown = "stop"
	return enumParam(p, "InstanceInitiatedShutdownBehavior", &req.shutdown, "stop", "terminate")
}

// parseMarket reads InstanceMarketOptions: MarketType spot, with
// SpotOptions (one-time or persistent; interruption hibernate, stop or
// terminate; MaxPrice a decimal).
func parseMarket(_ *Server, req *launchRequest, p params) *apiError {
	m := p.sub("InstanceMarketOptions")
	switch mt := m.str("MarketType"); mt {
	case "":
		return nil
	case "spot":
	default:
		return errInvalidValue("Value (%s) for parameter marketType is invalid. Expected: 'spot'.", mt)
	}
	o := m.sub("SpotOptions")
	req.market = marketOptions{spot: true, spotType: "one-time", interruptionBehavior: "terminate", maxPrice: o.str("MaxPrice")}
	if err := enumParam(o, "SpotInstanceType", &req.market.spotType, "one-time", "persistent"); err != nil {
		return err
	}
	if err := enumParam(o, "InstanceInterruptionBehavior", &req.market.interruptionBehavior, "hibernate", "stop", "terminate"); err != nil {
		return err
	}
	if _, err := strconv.ParseFloat(req.market.maxPrice, 64); req.market.maxPrice != "" && err != nil {
		return errInvalidValue("Invalid value '%s' for maxPrice.", req.market.maxPrice)
	}
	return nil
}

// parsePlacement resolves SubnetId (default: a default subnet, in
// Placement.AvailabilityZone when given) and checks that the instance type
// is offered in its zone.
func parsePlacement(s *Server, req *launchRequest, p params) *apiError {
	az := p.str("Placement.AvailabilityZone")
	if az != "" && !contains(s.zones(), az) {
		return errInvalidValue("Invalid availability zone: [%s]", az)
	}
	if id := p.str("SubnetId"); id != "" {
		found, err := selectIDs([]string{id}, subnetIDs, func(id string) (*subnet, bool) { sn, ok := s.subnets[id]; return sn, ok })
		if err != nil {
			return err
		}
		req.subnet = found[0]
	} else {
		req.subnet = s.defaultSubnetIn(az)
	}
	if az != "" && az != req.subnet.az {
		return errInvalidValue("Value (%s) for parameter availabilityZone is invalid. Subnet '%s' is in the availability zone %s", az, req.subnet.id, req.subnet.az)
	}
	if !req.itype.offeredIn(req.subnet.az) {
		return s.unsupportedIn(req.typeName, req.itype, req.subnet.az)
	}
	return nil
}

func (s *Server) defaultSubnetIn(az string) *subnet {
	if az == "" {
		return s.defaultSubnet()
	}
	for _, sn := range s.subnets {
		if sn.defaultForAz && sn.az == az {
			return sn
		}
	}
	return s.defaultSubnet()
}

// parseLaunchGroups resolves SecurityGroupId.N (or, in the default VPC,
// SecurityGroup.N names); they must exist and be in the subnet's VPC.
// Without any, the VPC's default group is used ("RunInstances": "If you
// don't specify a security group ID, we use the default security group").
func parseLaunchGroups(s *Server, req *launchRequest, p params) *apiError {
	found, err := selectIDs(p.list("SecurityGroupId"), groupIDs, func(id string) (*securityGroup, bool) {
		g, ok := s.liveGroups()[id]
		return g, ok
	})
	if err != nil {
		return err
	}
	for _, name := range p.list("SecurityGroup") {
		g, err := s.groupFromParams(params{"GroupName": name})
		if err != nil {
			return err
		}
		found = append(found, g)
	}
	for _, g := range found {
		if g.vpcID != req.subnet.vpcID {
			return clientError("InvalidParameter", "Security group %s and subnet %s belong to different networks.", g.id, req.subnet.id)
		}
	}
	if len(found) == 0 {
		found = []*securityGroup{s.groupByName(req.subnet.vpcID, "default")}
	}
	req.groups = found
	return nil
}

// parseProfile records IamInstanceProfile.Name or .Arn. IAM is not
// emulated, so any profile is accepted.
func parseProfile(s *Server, req *launchRequest, p params) *apiError {
	if arn := p.str("IamInstanceProfile.Arn"); arn != "" {
		req.iamProfile = arn
	} else if name := p.str("IamInstanceProfile.Name"); name != "" {
		req.iamProfile = "arn:aws:iam::" + s.opts.AccountID + ":instance-profile/" + name
	}
	return nil
}
