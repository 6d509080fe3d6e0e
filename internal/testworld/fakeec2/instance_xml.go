package fakeec2

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

type xmlState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func stateXML(name string) xmlState { return xmlState{stateCodes[name], name} }

type xmlGroupRef struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xmlPlacement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	GroupName        string `xml:"groupName"`
	Tenancy          string `xml:"tenancy"`
}

type xmlStateReason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type xmlIamProfile struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

type xmlMetadataOptions struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIpv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type xmlAssociation struct {
	PublicIP  string `xml:"publicIp"`
	IPOwnerID string `xml:"ipOwnerId"`
}

type xmlAttachment struct {
	AttachmentID        string `xml:"attachmentId"`
	DeviceIndex         int    `xml:"deviceIndex"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xmlInstanceENI struct {
	NetworkInterfaceID string          `xml:"networkInterfaceId"`
	SubnetID           string          `xml:"subnetId"`
	VpcID              string          `xml:"vpcId"`
	OwnerID            string          `xml:"ownerId"`
	Status             string          `xml:"status"`
	PrivateIPAddress   string          `xml:"privateIpAddress"`
	SourceDestCheck    bool            `xml:"sourceDestCheck"`
	Groups             []xmlGroupRef   `xml:"groupSet>item"`
	Attachment         xmlAttachment   `xml:"attachment"`
	Association        *xmlAssociation `xml:"association,omitempty"`
}

// xmlInstance is an Instance (EC2 API Reference, "Instance").
type xmlInstance struct {
	InstanceID         string                   `xml:"instanceId"`
	ImageID            string                   `xml:"imageId"`
	State              xmlState                 `xml:"instanceState"`
	PrivateDNSName     string                   `xml:"privateDnsName"`
	DNSName            string                   `xml:"dnsName"`
	Reason             string                   `xml:"reason"`
	AmiLaunchIndex     int                      `xml:"amiLaunchIndex"`
	InstanceType       string                   `xml:"instanceType"`
	LaunchTime         string                   `xml:"launchTime"`
	Placement          xmlPlacement             `xml:"placement"`
	Monitoring         string                   `xml:"monitoring>state"`
	SubnetID           string                   `xml:"subnetId,omitempty"`
	VpcID              string                   `xml:"vpcId,omitempty"`
	PrivateIPAddress   string                   `xml:"privateIpAddress,omitempty"`
	IPAddress          string                   `xml:"ipAddress,omitempty"`
	SourceDestCheck    bool                     `xml:"sourceDestCheck"`
	Groups             []xmlGroupRef            `xml:"groupSet>item"`
	StateReason        *xmlStateReason          `xml:"stateReason,omitempty"`
	Architecture       string                   `xml:"architecture"`
	RootDeviceType     string                   `xml:"rootDeviceType"`
	RootDeviceName     string                   `xml:"rootDeviceName"`
	BlockDevices       []xmlInstanceBlockDevice `xml:"blockDeviceMapping>item"`
	InstanceLifecycle  string                   `xml:"instanceLifecycle,omitempty"`
	SpotRequestID      string                   `xml:"spotInstanceRequestId,omitempty"`
	VirtualizationType string                   `xml:"virtualizationType"`
	ClientToken        string                   `xml:"clientToken"`
	Tags               []xmlTag                 `xml:"tagSet>item"`
	Hypervisor         string                   `xml:"hypervisor"`
	NetworkInterfaces  []xmlInstanceENI         `xml:"networkInterfaceSet>item"`
	IamInstanceProfile *xmlIamProfile           `xml:"iamInstanceProfile,omitempty"`
	EbsOptimized       bool                     `xml:"ebsOptimized"`
	EnaSupport         bool                     `xml:"enaSupport"`
	MetadataOptions    xmlMetadataOptions       `xml:"metadataOptions"`
	PlatformDetails    string                   `xml:"platformDetails"`
	UsageOperation     string                   `xml:"usageOperation"`
}

// instanceXML renders an instance as DescribeInstances and RunInstances do.
func (s *Server) instanceXML(inst *instance) xmlInstance {
	im := s.images[inst.imageID]
	x := xmlInstance{
		InstanceID: inst.id, ImageID: inst.imageID, State: stateXML(inst.state), Reason: inst.transition,
		AmiLaunchIndex: inst.launchIndex, InstanceType: inst.instanceType, LaunchTime: xmlTime(inst.launchTime),
		Placement: xmlPlacement{AvailabilityZone: inst.az, Tenancy: "default"}, Monitoring: "disabled",
		SourceDestCheck: true, Groups: s.groupRefs(inst), Architecture: instanceTypes[inst.instanceType].arch,
		RootDeviceType: "ebs", RootDeviceName: im.RootDeviceName, BlockDevices: s.blockDevicesXML(inst),
		VirtualizationType: "hvm", ClientToken: inst.clientToken, Tags: tagList(inst.tags), Hypervisor: "xen",
		EnaSupport: true, MetadataOptions: metadataXML(inst), PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances",
	}
	if inst.reason.code != "" {
		x.StateReason = &xmlStateReason{inst.reason.code, inst.reason.message}
	}
	if inst.market.spot {
		x.InstanceLifecycle, x.SpotRequestID = "spot", inst.spotRequestID
	}
	if inst.iamProfile != "" {
		x.IamInstanceProfile = &xmlIamProfile{Arn: inst.iamProfile, ID: profileID(inst.iamProfile)}
	}
	s.addresses(&x, inst)
	return x
}

// addresses fills in the network fields. A terminated instance has none;
// a stopped one keeps its private address only. The "public" address is
// the private one (the test world has no separate public network): it is
// what a client outside the instance connects to, as sear does. dnsName
// stays empty, since no resolver knows the names EC2 would give.
func (s *Server) addresses(x *xmlInstance, inst *instance) {
	if inst.state == stateTerminated {
		return
	}
	x.SubnetID, x.VpcID, x.PrivateIPAddress = inst.subnetID, inst.vpcID, inst.privateIP
	x.PrivateDNSName = s.privateDNSName(inst.privateIP)
	public := ""
	if sn := s.subnets[inst.subnetID]; sn.defaultForAz && (inst.state == statePending || inst.state == stateRunning) {
		public = inst.privateIP
	}
	x.IPAddress = public
	eni := xmlInstanceENI{NetworkInterfaceID: inst.eniID, SubnetID: inst.subnetID, VpcID: inst.vpcID, OwnerID: s.opts.AccountID,
		Status: "in-use", PrivateIPAddress: inst.privateIP, SourceDestCheck: true, Groups: x.Groups,
		Attachment: xmlAttachment{"eni-attach-" + inst.eniID[4:], 0, "attached", xmlTime(inst.launchTime), true}}
	if public != "" {
		eni.Association = &xmlAssociation{PublicIP: public, IPOwnerID: "amazon"}
	}
	x.NetworkInterfaces = []xmlInstanceENI{eni}
}

// privateDNSName is EC2's internal host name for an address:
// ip-a-b-c-d.ec2.internal in us-east-1, ip-a-b-c-d.<region>.compute.internal
// elsewhere.
func (s *Server) privateDNSName(ip string) string {
	if ip == "" {
		return ""
	}
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if s.opts.Region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + s.opts.Region + ".compute.internal"
}

func (s *Server) groupRefs(inst *instance) []xmlGroupRef {
	var out []xmlGroupRef
	for _, id := range inst.groupIDs {
		out = append(out, xmlGroupRef{id, s.groups[id].name})
	}
	return out
}

// metadataXML reports the IMDS options; their state is "pending" until the
// instance runs, then "applied" (EC2 API Reference,
// "InstanceMetadataOptionsResponse").
func metadataXML(inst *instance) xmlMetadataOptions {
	state := "applied"
	if inst.state == statePending {
		state = "pending"
	}
	m := inst.metadata
	return xmlMetadataOptions{state, m.httpTokens, m.hopLimit, m.httpEndpoint, "disabled", m.metadataTags}
}

// profileID derives a stable instance profile id from its ARN.
func profileID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "AIPA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:17]
}
