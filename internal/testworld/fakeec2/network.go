package fakeec2

import (
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// vpc is a VPC; the emulator seeds the default VPC only.
type vpc struct {
	seq       int
	id, cidr  string
	isDefault bool
	tags      map[string]string
}

// subnet is a subnet of a VPC, with its own address allocator.
type subnet struct {
	seq              int
	id, vpcID, cidr  string
	az, azID         string
	defaultForAz     bool
	tags             map[string]string
	base, size, next uint32
}

// seedNetwork creates the default VPC as AWS does: 172.31.0.0/16 with a /20
// default subnet in every Availability Zone (Amazon VPC User Guide, "Default
// VPCs"; EC2 API Reference, "CreateDefaultSubnet": "a size /20 IPv4 CIDR
// block"), and the VPC's default security group.
func (s *Server) seedNetwork() {
	v := &vpc{seq: s.next(), id: newID("vpc"), cidr: "172.31.0.0/16", isDefault: true, tags: map[string]string{}}
	s.vpcs[v.id] = v
	for i, az := range s.zones() {
		_, _ = s.addSubnet(v, az, fmt.Sprintf("172.31.%d.0/20", i*16), true)
	}
	s.addDefaultGroup(v.id)
}

// zones are the region's Availability Zones: a, b and c.
func (s *Server) zones() []string {
	r := s.opts.Region
	return []string{r + "a", r + "b", r + "c"}
}

// zoneID is the AZ id, such as use1-az1 for us-east-1a.
func (s *Server) zoneID(az string) string {
	parts := strings.Split(s.opts.Region, "-")
	short := ""
	for i, p := range parts {
		if i == 0 || i == len(parts)-1 {
			short += p
		} else if p != "" {
			short += p[:1]
		}
	}
	return short + "-az" + strconv.Itoa(int(az[len(az)-1]-'a')+1)
}

// SeedSubnet adds a (non-default) subnet in the default VPC, for tests that
// launch into a chosen subnet. cidr must lie inside 172.31.0.0/16 and az be
// one of the region's zones.
func (s *Server) SeedSubnet(az, cidr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sn, err := s.addSubnet(s.defaultVPC(), az, cidr, false)
	if err != nil {
		return "", err
	}
	return sn.id, nil
}

func (s *Server) addSubnet(v *vpc, az, cidr string, isDefault bool) (*subnet, error) {
	ip, ipnet, err := net.ParseCIDR(cidr)
	_, vnet, _ := net.ParseCIDR(v.cidr)
	if err != nil || ip.To4() == nil || !vnet.Contains(ip) {
		return nil, fmt.Errorf("seed subnet: %q is not an IPv4 CIDR inside %s", cidr, v.cidr)
	}
	if !contains(s.zones(), az) {
		return nil, fmt.Errorf("seed subnet: %q is not an Availability Zone of %s", az, s.opts.Region)
	}
	ones, bits := ipnet.Mask.Size()
	sn := &subnet{seq: s.next(), id: newID("subnet"), vpcID: v.id, cidr: ipnet.String(), az: az, azID: s.zoneID(az),
		defaultForAz: isDefault, tags: map[string]string{},
		base: binary.BigEndian.Uint32(ipnet.IP.To4()), size: 1 << (bits - ones), next: 4}
	s.subnets[sn.id] = sn
	return sn, nil
}

func (s *Server) defaultVPC() *vpc {
	for _, v := range s.vpcs {
		if v.isDefault {
			return v
		}
	}
	return nil
}

// defaultSubnet is where a launch without SubnetId goes: the default
// subnet of the first zone ("RunInstances": "If you don't specify a subnet
// ID, we choose a default subnet from your default VPC for you").
func (s *Server) defaultSubnet() *subnet {
	for _, sn := range s.subnets {
		if sn.defaultForAz && sn.az == s.zones()[0] {
			return sn
		}
	}
	return nil
}

// allocate hands out the next address. AWS reserves the first four
// addresses and the last one of every subnet (Amazon VPC User Guide,
// "Subnet CIDR blocks"); addresses are not reused.
func (sn *subnet) allocate() (string, bool) {
	if sn.next > sn.size-2 {
		return "", false
	}
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, sn.base+sn.next)
	sn.next++
	return ip.String(), true
}

// available is availableIpAddressCount: the subnet's size less the five
// reserved addresses and the live instances in it.
func (s *Server) available(sn *subnet) int {
	used := 0
	for _, i := range s.instances {
		if i.subnetID == sn.id && i.live() {
			used++
		}
	}
	return int(sn.size) - 5 - used
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
