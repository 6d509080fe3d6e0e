package fakeec2

// deviceRequest is one EBS BlockDeviceMapping of a launch.
type deviceRequest struct {
	device, volumeType  string
	size                int
	deleteOnTermination bool
}

// volumeSizes are the size limits per EBS volume type in GiB (Amazon EBS
// User Guide, "Amazon EBS volume types").
var volumeSizes = map[string][2]int{
	"gp2": {1, 16384}, "gp3": {1, 16384}, "io1": {4, 16384}, "io2": {4, 65536},
	"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024},
}

// parseDevices reads BlockDeviceMapping.N. The root device takes the
// image's snapshot and may only grow; other EBS devices need a size. A
// mapping with NoDevice or a VirtualName (instance store) creates no volume.
func parseDevices(s *Server, req *launchRequest, p params) *apiError {
	root := deviceRequest{device: req.img.RootDeviceName, volumeType: "gp3", size: req.img.RootVolumeSize, deleteOnTermination: true}
	var extra []deviceRequest
	seen := map[string]bool{}
	for _, m := range p.members("BlockDeviceMapping") {
		name := m.str("DeviceName")
		if name == "" {
			return errMissing("BlockDeviceMapping.DeviceName")
		}
		if seen[name] {
			return clientError("InvalidBlockDeviceMapping", "The device '%s' is used in more than one block-device mapping", name)
		}
		seen[name] = true
		if m.has("NoDevice") || m.has("VirtualName") {
			continue
		}
		d, err := parseDevice(req.img, name, m.sub("Ebs"), name == root.device)
		if err != nil {
			return err
		}
		if name == root.device {
			root = d
		} else {
			extra = append(extra, d)
		}
	}
	req.devices = append([]deviceRequest{root}, extra...)
	return nil
}

func parseDevice(img *image, name string, ebs params, isRoot bool) (deviceRequest, *apiError) {
	d := deviceRequest{device: name, volumeType: "gp3", deleteOnTermination: !ebs.has("DeleteOnTermination") || ebs.boolean("DeleteOnTermination")}
	if err := enumParam(ebs, "VolumeType", &d.volumeType, "standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"); err != nil {
		return d, err
	}
	size, sent, err := ebs.integer("VolumeSize")
	if err != nil {
		return d, err
	}
	switch {
	case isRoot && !sent:
		size = img.RootVolumeSize
	case isRoot && size < img.RootVolumeSize:
		return d, clientError("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", size, img.snapshotID, img.RootVolumeSize)
	case !sent && !ebs.has("SnapshotId"):
		return d, clientError("InvalidBlockDeviceMapping", "The request must contain the parameter size or snapshotId for device %s", name)
	}
	limits := volumeSizes[d.volumeType]
	if size < limits[0] || size > limits[1] {
		return d, errInvalidValue("Volume of %dGiB is outside the range %d-%dGiB of volume type %s", size, limits[0], limits[1], d.volumeType)
	}
	d.size = size
	return d, nil
}

// createVolumes makes the instance's EBS volumes, tagged with the launch's
// "volume" tag specification.
func (s *Server) createVolumes(inst *instance, req *launchRequest) {
	for _, d := range req.devices {
		v := &volume{seq: s.next(), id: newID("vol"), instanceID: inst.id, device: d.device, volumeType: d.volumeType,
			size: d.size, deleteOnTermination: d.deleteOnTermination, state: "in-use",
			tags: copyTags(req.tagSpecs["volume"]), attachTime: inst.launchTime}
		s.volumes[v.id] = v
		inst.volumeIDs = append(inst.volumeIDs, v.id)
	}
}

// releaseVolumes detaches an instance's volumes at termination: those
// marked DeleteOnTermination are deleted, the others become available.
func (s *Server) releaseVolumes(inst *instance) {
	for _, id := range inst.volumeIDs {
		v := s.volumes[id]
		if v.deleteOnTermination {
			v.state = "deleted"
		} else {
			v.state = "available"
		}
	}
}

type xmlEbsInstance struct {
	VolumeID            string `xml:"volumeId"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xmlInstanceBlockDevice struct {
	DeviceName string         `xml:"deviceName"`
	Ebs        xmlEbsInstance `xml:"ebs"`
}

// blockDevicesXML lists the volumes still attached.
func (s *Server) blockDevicesXML(inst *instance) []xmlInstanceBlockDevice {
	var out []xmlInstanceBlockDevice
	for _, id := range inst.volumeIDs {
		v := s.volumes[id]
		if v.state != "in-use" {
			continue
		}
		out = append(out, xmlInstanceBlockDevice{v.device, xmlEbsInstance{v.id, "attached", xmlTime(v.attachTime), v.deleteOnTermination}})
	}
	return out
}
