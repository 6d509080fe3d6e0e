package fakeec2

import (
	"strconv"
	"time"
)

// Image is an AMI to seed. Zero fields take defaults: a generated ami- id,
// x86_64, /dev/sda1 with an 8 GiB root snapshot, public.
type Image struct {
	ID             string
	Name           string
	Description    string
	OwnerID        string
	OwnerAlias     string // "amazon" for AWS-owned images, else empty
	Architecture   string
	CreationDate   time.Time
	RootDeviceName string
	RootVolumeSize int // GiB
	Private        bool
	Tags           map[string]string
}

// CanonicalOwnerID is Canonical's account, which owns the official Ubuntu
// AMIs (Ubuntu's "Find Ubuntu images on AWS" searches owner 099720109477).
const CanonicalOwnerID = "099720109477"

// UbuntuJammyImageID and its siblings are the seeded images, as sear finds
// them: the newest Ubuntu 22.04 image by name,
// an older one of the same series (so "most recent" selection is tested),
// and an arm64 one.
const (
	UbuntuJammyImageID      = "ami-0a1b2c3d4e5f60001"
	UbuntuJammyOlderImageID = "ami-0a1b2c3d4e5f60002"
	UbuntuJammyArmImageID   = "ami-0a1b2c3d4e5f60003"
)

// DLAMIOwnerID is the account that publishes the AWS Deep Learning AMIs
// (their owner alias is "amazon"; "Finding the ID of a DLAMI" in the DLAMI
// Developer Guide searches --owners amazon).
const DLAMIOwnerID = "898082745236"

// DLAMIImageID and DLAMIArmImageID are the seeded GPU images: the Deep
// Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04), x86_64 and arm64,
// which the SSM emulator's public parameters name (package ssm). Their root
// snapshot is larger than Ubuntu's, as the DLAMI's is.
const (
	DLAMIImageID    = "ami-0d1a2b3c4d5e60010"
	DLAMIArmImageID = "ami-0d1a2b3c4d5e60011"
	DLAMIRootGiB    = 75
)

type image struct {
	Image
	seq        int
	snapshotID string
}

// seedImages installs the images New promises.
func (s *Server) seedImages() {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	for _, img := range []Image{
		{ID: UbuntuJammyImageID, Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101",
			OwnerID: CanonicalOwnerID, CreationDate: day(2024, 1, 1), Description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-01-01"},
		{ID: UbuntuJammyOlderImageID, Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20230101",
			OwnerID: CanonicalOwnerID, CreationDate: day(2023, 1, 1), Description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2023-01-01"},
		{ID: UbuntuJammyArmImageID, Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20240101",
			OwnerID: CanonicalOwnerID, Architecture: "arm64", CreationDate: day(2024, 1, 1), Description: "Canonical, Ubuntu, 22.04 LTS, arm64 jammy image build on 2024-01-01"},
		{ID: DLAMIImageID, Name: "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) 20240101",
			OwnerID: DLAMIOwnerID, OwnerAlias: "amazon", CreationDate: day(2024, 1, 1), RootVolumeSize: DLAMIRootGiB,
			Description: "Supported EC2 instances: G4dn, G5, G6, Gr6, G6e, P4d, P4de, P5, P5e, P5en, P6-B200. NVIDIA driver, CUDA, Docker, Ubuntu 22.04"},
		{ID: DLAMIArmImageID, Name: "Deep Learning ARM64 Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) 20240101",
			OwnerID: DLAMIOwnerID, OwnerAlias: "amazon", Architecture: "arm64", CreationDate: day(2024, 1, 1), RootVolumeSize: DLAMIRootGiB,
			Description: "Supported EC2 instances: G5g, P6e-GB200. NVIDIA driver, CUDA, Docker, Ubuntu 22.04"},
	} {
		s.addImage(img)
	}
}

// SeedImage registers an AMI and returns its id (generated when img.ID is
// empty). Tests use it for the ami- ids they launch.
func (s *Server) SeedImage(img Image) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addImage(img).ID
}

func (s *Server) addImage(img Image) *image {
	if img.ID == "" {
		img.ID = newID("ami")
	}
	if img.OwnerID == "" {
		img.OwnerID = s.opts.AccountID
	}
	if img.Architecture == "" {
		img.Architecture = "x86_64"
	}
	if img.RootDeviceName == "" {
		img.RootDeviceName = "/dev/sda1"
	}
	if img.RootVolumeSize == 0 {
		img.RootVolumeSize = 8
	}
	if img.CreationDate.IsZero() {
		img.CreationDate = s.now()
	}
	if img.Tags == nil {
		img.Tags = map[string]string{}
	}
	im := &image{Image: img, seq: s.next(), snapshotID: newID("snap")}
	s.images[im.ID] = im
	return im
}

// visible reports whether the account may see and launch the image: its
// own images and public ones.
func (s *Server) visible(im *image) bool { return !im.Private || im.OwnerID == s.opts.AccountID }

type xmlImageEbs struct {
	SnapshotID          string `xml:"snapshotId"`
	VolumeSize          int    `xml:"volumeSize"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
	VolumeType          string `xml:"volumeType"`
	Encrypted           bool   `xml:"encrypted"`
}

type xmlImageBlockDevice struct {
	DeviceName string      `xml:"deviceName"`
	Ebs        xmlImageEbs `xml:"ebs"`
}

// xmlImage is an Image (EC2 API Reference, "Image").
type xmlImage struct {
	ImageID            string                `xml:"imageId"`
	ImageLocation      string                `xml:"imageLocation"`
	ImageState         string                `xml:"imageState"`
	ImageOwnerID       string                `xml:"imageOwnerId"`
	CreationDate       string                `xml:"creationDate"`
	IsPublic           bool                  `xml:"isPublic"`
	Architecture       string                `xml:"architecture"`
	ImageType          string                `xml:"imageType"`
	Name               string                `xml:"name"`
	Description        string                `xml:"description,omitempty"`
	ImageOwnerAlias    string                `xml:"imageOwnerAlias,omitempty"`
	RootDeviceType     string                `xml:"rootDeviceType"`
	RootDeviceName     string                `xml:"rootDeviceName"`
	BlockDeviceMapping []xmlImageBlockDevice `xml:"blockDeviceMapping>item"`
	VirtualizationType string                `xml:"virtualizationType"`
	Hypervisor         string                `xml:"hypervisor"`
	EnaSupport         bool                  `xml:"enaSupport"`
	PlatformDetails    string                `xml:"platformDetails"`
	UsageOperation     string                `xml:"usageOperation"`
	Tags               []xmlTag              `xml:"tagSet>item"`
}

type describeImagesResult struct {
	Images    []xmlImage `xml:"imagesSet>item"`
	NextToken string     `xml:"nextToken,omitempty"`
}

var imageFields = fieldFuncs[*image]{
	"image-id":            func(im *image) []string { return one(im.ID) },
	"name":                func(im *image) []string { return one(im.Name) },
	"description":         func(im *image) []string { return one(im.Description) },
	"owner-id":            func(im *image) []string { return one(im.OwnerID) },
	"owner-alias":         func(im *image) []string { return one(im.OwnerAlias) },
	"architecture":        func(im *image) []string { return one(im.Architecture) },
	"state":               func(*image) []string { return one("available") },
	"is-public":           func(im *image) []string { return one(strconv.FormatBool(!im.Private)) },
	"image-type":          func(*image) []string { return one("machine") },
	"root-device-type":    func(*image) []string { return one("ebs") },
	"virtualization-type": func(*image) []string { return one("hvm") },
}

// describeImages implements DescribeImages: ImageId.N, Owner.N ("self",
// "amazon" or account ids), Filter.N (name with wildcards, …),
// MaxResults/NextToken.
func (s *Server) describeImages(p params) (any, *apiError) {
	ids, owners := p.list("ImageId"), p.list("Owner")
	return describe(s, p, query[*image]{
		named: ids, namedParam: "imageIds", fields: imageFields,
		tags: func(im *image) map[string]string { return im.Tags }, seq: func(im *image) int { return im.seq },
		selectAll: func() ([]*image, *apiError) {
			all, err := s.visibleImages(ids)
			if err != nil {
				return nil, err
			}
			return s.ownedBy(all, owners), nil
		},
	}, func(items []*image, next string) any {
		out := describeImagesResult{NextToken: next}
		for _, im := range items {
			out.Images = append(out.Images, imageXML(im))
		}
		return out
	})
}

// visibleImages resolves ImageId.N or lists every image the account sees.
func (s *Server) visibleImages(ids []string) ([]*image, *apiError) {
	get := func(id string) (*image, bool) {
		im, ok := s.images[id]
		return im, ok && s.visible(im)
	}
	if len(ids) > 0 {
		return selectIDs(ids, imageIDs, get)
	}
	var out []*image
	for _, im := range s.images {
		if s.visible(im) {
			out = append(out, im)
		}
	}
	return out, nil
}

// ownedBy applies Owner.N: "self" is the caller's account, "amazon" the
// AWS-owned images, anything else an account id.
func (s *Server) ownedBy(images []*image, owners []string) []*image {
	if len(owners) == 0 {
		return images
	}
	var out []*image
	for _, im := range images {
		for _, o := range owners {
			if o == im.OwnerID || o == "self" && im.OwnerID == s.opts.AccountID || o != "" && o == im.OwnerAlias {
				out = append(out, im)
				break
			}
		}
	}
	return out
}

func imageXML(im *image) xmlImage {
	return xmlImage{
		ImageID: im.ID, ImageLocation: im.OwnerID + "/" + im.Name, ImageState: "available", ImageOwnerID: im.OwnerID,
		CreationDate: xmlTime(im.CreationDate), IsPublic: !im.Private, Architecture: im.Architecture, ImageType: "machine",
		Name: im.Name, Description: im.Description, ImageOwnerAlias: im.OwnerAlias, RootDeviceType: "ebs",
		RootDeviceName: im.RootDeviceName,
		BlockDeviceMapping: []xmlImageBlockDevice{{DeviceName: im.RootDeviceName,
			Ebs: xmlImageEbs{SnapshotID: im.snapshotID, VolumeSize: im.RootVolumeSize, DeleteOnTermination: true, VolumeType: "gp3"}}},
		VirtualizationType: "hvm", Hypervisor: "xen", EnaSupport: true, PlatformDetails: "Linux/UNIX",
		UsageOperation: "RunInstances", Tags: tagList(im.Tags),
	}
}
