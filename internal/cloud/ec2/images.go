package ec2

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/sear-ci/sear/internal/config"
)

// CanonicalOwner is the AWS account that publishes the official Ubuntu
// AMIs (Ubuntu's "Find Ubuntu images on AWS" searches owner 099720109477).
const CanonicalOwner = "099720109477"

// imageInfo is what a launch needs to know of an AMI.
type imageInfo struct {
	id         string
	rootDevice string // where the volume_size/volume_type mapping goes
	rootSize   int32  // GiB of the root snapshot; the volume may not be smaller
	arch       string // x86_64 or arm64, as DescribeImages says; "" when it does not
}

// imageCache keeps what DescribeImages said, by AMI id or by kind and
// architecture for the default images, so two nodes of the same kind ask
// once.
type imageCache map[string]imageInfo

// image resolves the AMI of node n as itype: the one the cluster file
// names in n.AMIField; for an instance type with NVIDIA GPUs, AWS's newest Deep Learning
// Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04), which has the drivers
// Canonical's image lacks (gpuImage); else Canonical's newest Ubuntu 22.04
// for the instance type's architecture (plan.DefaultAMI).
func (a *api) image(ctx context.Context, ssm *awsssm.Client, cache imageCache, c *config.Cluster, n config.Node, itype string, t typeInfo) (imageInfo, error) {
	id := n.AMI
	key := id
	switch {
	case key != "":
	case t.gpus > 0:
		key = "dlami/" + t.arch
	default:
		key = "default/" + t.arch
	}
	if img, ok := cache[key]; ok {
		return img, nil
	}
	var img imageInfo
	var err error
	switch {
	case id != "":
		img, err = a.namedImage(ctx, c, n.AMIField, id)
	case t.gpus > 0:
		img, err = a.gpuImage(ctx, ssm, c, n, itype, t)
	default:
		img, err = a.defaultImage(ctx, c, n, itype, t.arch)
	}
	if err == nil {
		cache[key] = img
	}
	return img, err
}

func (a *api) namedImage(ctx context.Context, c *config.Cluster, field, id string) (imageInfo, error) {
	out, err := a.ec2.DescribeImages(ctx, &awsec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil && !notFound(err) && !isCode(err, "InvalidAMIID.Malformed") {
		return imageInfo{}, explain("look up "+field+" "+id, "ec2:DescribeImages", err)
	}
	if err != nil || len(out.Images) == 0 {
		return imageInfo{}, c.FieldError(field, fmt.Sprintf("%s %q does not exist in region %s, or this account may not use it; AMI ids differ per region, "+
			"so find the id of this image in %s, or leave %s out to use Canonical's Ubuntu 22.04", field, id, a.region, a.region, field))
	}
	return imageOf(out.Images[0]), nil
}

// ubuntuName matches Canonical's Ubuntu 22.04 server images: hvm-ssd for
// the gp2 generation, hvm-ssd-gp3 for the later one.
func ubuntuName(arch string) string {
	if arch == "x86_64" {
		arch = "amd64"
	}
	return "ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-" + arch + "-server-*"
}

// defaultImage finds the newest Ubuntu 22.04 image Canonical publishes in
// the region for arch, itype's. Finding none is put at itype, whose
// architecture asked for it.
func (a *api) defaultImage(ctx context.Context, c *config.Cluster, n config.Node, itype, arch string) (imageInfo, error) {
	out, err := a.ec2.DescribeImages(ctx, &awsec2.DescribeImagesInput{
		Owners: []string{CanonicalOwner},
		Filters: []types.Filter{
			{Name: aws.String("name"), Values: []string{ubuntuName(arch)}},
			{Name: aws.String("architecture"), Values: []string{arch}},
			{Name: aws.String("state"), Values: []string{"available"}},
		},
	})
	if err != nil {
		return imageInfo{}, explain("find Canonical's Ubuntu 22.04 image", "ec2:DescribeImages", err)
	}
	var best *types.Image
	var bestTime time.Time
	for i := range out.Images {
		t, err := time.Parse(time.RFC3339, aws.ToString(out.Images[i].CreationDate))
		if err == nil && (best == nil || t.After(bestTime)) {
			best, bestTime = &out.Images[i], t
		}
	}
	if best == nil {
		return imageInfo{}, c.ItemError(n.TypeField, itype, fmt.Sprintf("no Canonical Ubuntu 22.04 image for %s (%s %q) in region %s; name an AMI with %s",
			arch, n.TypeField, itype, a.region, n.AMIField))
	}
	return imageOf(*best), nil
}

func imageOf(im types.Image) imageInfo {
	info := imageInfo{id: aws.ToString(im.ImageId), rootDevice: aws.ToString(im.RootDeviceName), arch: string(im.Architecture)}
	for _, m := range im.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == info.rootDevice && m.Ebs != nil {
			info.rootSize = aws.ToInt32(m.Ebs.VolumeSize)
		}
	}
	if info.rootDevice == "" {
		info.rootDevice = "/dev/sda1" // Ubuntu's, and Flambé's fixed choice
	}
	return info
}

// architecture guesses an instance type's architecture from its name, so
// the default image matches it without an extra DescribeInstanceTypes
// call: Graviton families carry a "g" after the generation number (t4g,
// m6gd, c7gn, g5g), and a1 is the first Graviton. A wrong guess is caught
// by the DryRun launch, which refuses an image of another architecture.
func architecture(itype string) string {
	family, _, _ := strings.Cut(itype, ".")
	if family == "a1" {
		return "arm64"
	}
	i := strings.IndexAny(family, "0123456789")
	if i < 0 {
		return "x86_64"
	}
	attrs := strings.TrimLeft(family[i:], "0123456789")
	if strings.Contains(attrs, "g") {
		return "arm64"
	}
	return "x86_64"
}
