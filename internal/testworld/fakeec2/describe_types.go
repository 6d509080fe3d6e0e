package fakeec2

import (
	"sort"
	"strings"
)

// gpu is the GPU part of an instance type, as DescribeInstanceTypes'
// GpuInfo gives it: count accelerators of one model. The values are those
// of the EC2 User Guide's "Specifications for Amazon EC2 accelerated
// computing instances" (GPUs, GPU memory per GPU), in MiB as the API
// reports memory.
type gpu struct {
	name, manufacturer string
	count, memoryMiB   int
}

// gpus are the GPUs of the types the emulator knows; every other type has
// none, and DescribeInstanceTypes leaves gpuInfo out for it, as EC2 does.
var gpus = map[string]gpu{
	"g4dn.xlarge": {"T4", "NVIDIA", 1, 16384}, "g4dn.2xlarge": {"T4", "NVIDIA", 1, 16384}, "g4dn.12xlarge": {"T4", "NVIDIA", 4, 16384},
	"g5.xlarge": {"A10G", "NVIDIA", 1, 24576}, "g5.2xlarge": {"A10G", "NVIDIA", 1, 24576}, "g5.12xlarge": {"A10G", "NVIDIA", 4, 24576},
	"g5g.xlarge": {"T4g", "NVIDIA", 1, 16384},
	"p3.2xlarge": {"V100", "NVIDIA", 1, 16384}, "p3.8xlarge": {"V100", "NVIDIA", 4, 16384},
	"p4d.24xlarge": {"A100", "NVIDIA", 8, 40960},
}

// vcpus are the default vCPUs of each type the emulator knows, as cores
// and threads per core (EC2 User Guide, "Specifications" of the general
// purpose, compute optimized, memory optimized and accelerated computing
// instances: T2 and the Graviton types run one thread per core, the other
// x86_64 types two). The vCPU quotas count these.
var vcpus = map[string][2]int{
	"m1.small": {1, 1}, "t2.micro": {1, 1}, "t2.small": {1, 1}, "t2.medium": {2, 1},
	"t3.nano": {1, 2}, "t3.micro": {1, 2}, "t3.small": {1, 2}, "t3.medium": {1, 2}, "t3.large": {1, 2},
	"t3.xlarge": {2, 2}, "t3.2xlarge": {4, 2}, "m5.large": {1, 2}, "m5.xlarge": {2, 2}, "m5.2xlarge": {4, 2},
	"m5.4xlarge": {8, 2}, "c5.large": {1, 2}, "c5.xlarge": {2, 2}, "c5.2xlarge": {4, 2}, "c5.4xlarge": {8, 2},
	"r5.large": {1, 2}, "r5.xlarge": {2, 2},
	"g4dn.xlarge": {2, 2}, "g4dn.2xlarge": {4, 2}, "g4dn.12xlarge": {24, 2},
	"g5.xlarge": {2, 2}, "g5.2xlarge": {4, 2}, "g5.12xlarge": {24, 2},
	"p3.2xlarge": {4, 2}, "p3.8xlarge": {16, 2}, "p4d.24xlarge": {48, 2},
	"t4g.micro": {2, 1}, "t4g.small": {2, 1}, "m6g.large": {2, 1}, "g5g.xlarge": {4, 1},
}

// xmlVCpuInfo is a VCpuInfo's defaults.
type xmlVCpuInfo struct {
	DefaultVCpus          int `xml:"defaultVCpus"`
	DefaultCores          int `xml:"defaultCores"`
	DefaultThreadsPerCore int `xml:"defaultThreadsPerCore"`
}

type xmlGpuDevice struct {
	Name         string `xml:"name"`
	Manufacturer string `xml:"manufacturer"`
	Count        int    `xml:"count"`
	MemorySize   int    `xml:"memoryInfo>sizeInMiB"`
}

type xmlGpuInfo struct {
	Gpus        []xmlGpuDevice `xml:"gpus>item"`
	TotalMemory int            `xml:"totalGpuMemoryInMiB"`
}

// xmlInstanceTypeInfo is the part of an InstanceTypeInfo (EC2 API
// Reference, "InstanceTypeInfo") the emulator knows: the name, the
// architectures, the vCPUs and the GPUs.
type xmlInstanceTypeInfo struct {
	InstanceType  string       `xml:"instanceType"`
	Architectures []string     `xml:"processorInfo>supportedArchitectures>item"`
	VCpuInfo      *xmlVCpuInfo `xml:"vCpuInfo,omitempty"`
	GpuInfo       *xmlGpuInfo  `xml:"gpuInfo,omitempty"`
}

type describeInstanceTypesResult struct {
	InstanceTypes []xmlInstanceTypeInfo `xml:"instanceTypeSet>item"`
	NextToken     string                `xml:"nextToken,omitempty"`
}

// maxInstanceTypes is how many InstanceType.N DescribeInstanceTypes takes
// ("DescribeInstanceTypes": "Array Members: Minimum number of 0 items.
// Maximum number of 100 items").
const maxInstanceTypes = 100

// describeInstanceTypes implements DescribeInstanceTypes with InstanceType.N
// (every known type when absent), MaxResults (5 to 100 here, as the API
// Reference bounds it) and NextToken. A type EC2 does not offer in the
// region is InvalidInstanceType, worded as EC2 does ("The following
// supplied instance types do not exist: [x]").
func (s *Server) describeInstanceTypes(p params) (any, *apiError) {
	names := p.list("InstanceType")
	if len(names) > maxInstanceTypes {
		return nil, errInvalidValue("The maximum number of instance types that can be specified is %d.", maxInstanceTypes)
	}
	var unknown []string
	for _, n := range names {
		if _, ok := instanceTypes[n]; !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, clientError("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(unknown, ", "))
	}
	n, sent, err := p.integer("MaxResults")
	if err != nil {
		return nil, err
	}
	if sent && (n < 5 || n > 100) {
		return nil, errInvalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and 100.", n)
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		for name := range instanceTypes {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	type entry struct {
		seq  int
		name string
	}
	var all []entry
	seen := map[string]bool{}
	for _, name := range names {
		if !seen[name] {
			seen[name] = true
			all = append(all, entry{len(all) + 1, name})
		}
	}
	items, next, perr := paginate(all, func(e entry) int { return e.seq }, page{max: n, token: p.str("NextToken")})
	if perr != nil {
		return nil, perr
	}
	out := describeInstanceTypesResult{NextToken: next}
	for _, e := range items {
		info := xmlInstanceTypeInfo{InstanceType: e.name, Architectures: []string{instanceTypes[e.name].arch}}
		if v, ok := vcpus[e.name]; ok {
			info.VCpuInfo = &xmlVCpuInfo{v[0] * v[1], v[0], v[1]}
		}
		if g, ok := gpus[e.name]; ok {
			info.GpuInfo = &xmlGpuInfo{Gpus: []xmlGpuDevice{{g.name, g.manufacturer, g.count, g.memoryMiB}}, TotalMemory: g.count * g.memoryMiB}
		}
		out.InstanceTypes = append(out.InstanceTypes, info)
	}
	return out, nil
}
