package ec2

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/sear-ci/sear/internal/config"
)

// DLAMIParameterPath is where AWS publishes the ids of its Deep Learning
// AMIs ("Finding the ID of a DLAMI", DLAMI Developer Guide): under it,
// ARCH/AMI_TYPE/latest/ami-id, where AMI_TYPE is the AMI's name less
// "Deep", "Learning" and "AMI". The IAM policy lets the role read this
// path only (plan.policies).
const DLAMIParameterPath = "/aws/service/deeplearning/"

// DLAMIParameter is the public parameter holding the id of the newest Deep
// Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) for arch (x86_64
// or arm64): Ubuntu 22.04, as the default image of the other nodes is,
// with the NVIDIA driver, CUDA and the container toolkit installed.
func DLAMIParameter(arch string) string {
	return DLAMIParameterPath + "ami/" + arch + "/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
}

// GPUInstanceType reports whether itype is of a family with NVIDIA GPUs,
// from its name alone, for sear plan, which cannot ask EC2: the EC2 User
// Guide's "Amazon EC2 instance type naming conventions" puts the family in
// the letters before the generation, and its accelerated computing list
// has NVIDIA GPUs in the P (p2 to p6) and G (g3 to g6, g5g, gr6) families;
// g4ad carries AMD Radeon GPUs, for which the NVIDIA image is no use. At
// launch sear asks DescribeInstanceTypes about exactly these types, and
// its GpuInfo decides.
func GPUInstanceType(itype string) bool {
	family, _, _ := strings.Cut(strings.ToLower(itype), ".")
	i := strings.IndexAny(family, "0123456789")
	if i <= 0 {
		return false
	}
	switch family[:i] {
	case "p", "g", "gr":
		return family != "g4ad"
	}
	return false
}

// typeInfo is what a launch needs to know of an instance type.
type typeInfo struct {
	arch    string // x86_64 or arm64
	gpus    int    // NVIDIA GPUs
	gpuName string // their model, as GpuInfo names it
}

// oldGPUs are the NVIDIA models the OSS-driver DLAMI does not drive: its
// release notes list the instances it supports (x86_64: G4dn, G5, G6,
// Gr6, G6e, P4d, P4de, P5, P5e, P5en, P6-B200; arm64: G5g, P6e-GB200), and
// the open kernel modules it ships need a Turing or later GPU, which the
// K80 (p2), M60 (g3) and V100 (p3) are not.
var oldGPUs = map[string]bool{"K80": true, "M60": true, "V100": true}

// typeInfos describes each instance type of the cluster: the GPU ones by
// DescribeInstanceTypes, the others by name, since sear plan's policy lets
// the role call DescribeInstanceTypes only when the cluster has GPU types.
func (a *api) typeInfos(ctx context.Context, itypes ...string) (map[string]typeInfo, error) {
	out := map[string]typeInfo{}
	var ask []types.InstanceType
	for _, t := range itypes {
		if _, seen := out[t]; seen || t == "" {
			continue
		}
		out[t] = typeInfo{arch: architecture(t)}
		if GPUInstanceType(t) {
			ask = append(ask, types.InstanceType(t))
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	res, err := a.ec2.DescribeInstanceTypes(ctx, &awsec2.DescribeInstanceTypesInput{InstanceTypes: ask})
	if err != nil {
		return nil, explain("find how many GPUs the instance types have", "ec2:DescribeInstanceTypes", err)
	}
	for _, it := range res.InstanceTypes {
		info := typeInfo{arch: architecture(string(it.InstanceType))}
		if p := it.ProcessorInfo; p != nil && len(p.SupportedArchitectures) > 0 {
			info.arch = string(p.SupportedArchitectures[0])
			for _, a := range p.SupportedArchitectures {
				if a == types.ArchitectureTypeX8664 {
					info.arch = string(a) // x86_64 when a type runs both (never so far)
				}
			}
		}
		if g := it.GpuInfo; g != nil {
			for _, d := range g.Gpus {
				if strings.EqualFold(aws.ToString(d.Manufacturer), "NVIDIA") {
					info.gpus += int(aws.ToInt32(d.Count))
					info.gpuName = aws.ToString(d.Name)
				}
			}
		}
		out[string(it.InstanceType)] = info
	}
	return out, nil
}

// newSSM is an SSM client for the region, with the EC2 client's retries:
// Parameter Store throttles GetParameter per account (ThrottlingException,
// which the SDK's standard retryer retries).
func newSSM(cfg aws.Config, region string, t Timing) *awsssm.Client {
	t = t.withDefaults()
	return awsssm.NewFromConfig(cfg, func(o *awsssm.Options) {
		o.Region = region
		o.Retryer = newRetryer(t.RetryMaxBackoff)
	})
}

// gpuImage finds the newest Deep Learning Base OSS Nvidia Driver GPU AMI
// (Ubuntu 22.04) for the node's architecture from AWS's public parameter,
// then DescribeImages for its root device. What stands in the way is put
// at itype in the cluster file: the type asked for the image.
func (a *api) gpuImage(ctx context.Context, ssm *awsssm.Client, c *config.Cluster, n config.Node, itype string, t typeInfo) (imageInfo, error) {
	at := func(format string, args ...any) error {
		return c.ItemError(n.TypeField, itype, fmt.Sprintf(format, args...))
	}
	field := n.AMIField
	if oldGPUs[t.gpuName] {
		return imageInfo{}, at("%s %s has NVIDIA %s GPUs, which the Deep Learning Base OSS Nvidia Driver GPU AMI sear launches GPU nodes from does not support "+
			"(it supports G4dn, G5, G6, Gr6, G6e, P4d, P5 and later, and G5g): name an AMI with a driver for the %s in %s, or choose a newer instance type",
			n.TypeField, itype, t.gpuName, t.gpuName, field)
	}
	name := DLAMIParameter(t.arch)
	out, err := ssm.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name)})
	if isCode(err, "ParameterNotFound") {
		return imageInfo{}, at("AWS publishes no Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) for %s in region %s (no parameter %s) "+
			"for %s %s; name an AMI with NVIDIA drivers in %s", t.arch, a.region, name, n.TypeField, itype, field)
	}
	if err != nil {
		return imageInfo{}, explain("find the GPU image for "+itype+" (parameter "+name+")", "ssm:GetParameter", err)
	}
	id := aws.ToString(out.Parameter.Value)
	imgs, err := a.ec2.DescribeImages(ctx, &awsec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil && !notFound(err) {
		return imageInfo{}, explain("look up the GPU image "+id, "ec2:DescribeImages", err)
	}
	if err != nil || len(imgs.Images) == 0 {
		return imageInfo{}, at("the GPU image %s that parameter %s names for %s %s does not exist in region %s; name an AMI with NVIDIA drivers in %s",
			id, name, n.TypeField, itype, a.region, field)
	}
	return imageOf(imgs.Images[0]), nil
}
