package fakeec2

import "time"

// world is every resource the emulator knows, guarded by Server.mu.
// Sequence numbers give each resource a creation order, which describe calls
// and pagination follow.
type world struct {
	seq          int
	instances    map[string]*instance
	reservations map[string]*reservation
	tokens       map[string]*idempotentLaunch
	groups       map[string]*securityGroup
	images       map[string]*image
	vpcs         map[string]*vpc
	subnets      map[string]*subnet
	volumes      map[string]*volume
	enis         map[string]*networkInterface
	spotPrices   map[string]*spotPrice // by type/zone
}

func newWorld() world {
	return world{
		instances:    map[string]*instance{},
		reservations: map[string]*reservation{},
		tokens:       map[string]*idempotentLaunch{},
		groups:       map[string]*securityGroup{},
		images:       map[string]*image{},
		vpcs:         map[string]*vpc{},
		subnets:      map[string]*subnet{},
		volumes:      map[string]*volume{},
		enis:         map[string]*networkInterface{},
	}
}

// next returns the next creation sequence number.
func (w *world) next() int {
	w.seq++
	return w.seq
}

// Instance states and their codes (EC2 API Reference, "InstanceState": the
// high byte is internal, the low byte is 0 pending, 16 running,
// 32 shutting-down, 48 terminated, 64 stopping, 80 stopped).
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
)

var stateCodes = map[string]int{
	statePending: 0, stateRunning: 16, stateShuttingDown: 32,
	stateTerminated: 48, stateStopping: 64, stateStopped: 80,
}

// instance is one emulated EC2 instance.
type instance struct {
	seq                       int
	id, reservationID         string
	imageID, instanceType     string
	state                     string
	target                    string // terminated or stopped, while shutting down
	reason                    stateReason
	transition                string // stateTransitionReason
	privateIP                 string
	subnetID, vpcID, az       string
	groupIDs                  []string
	tags                      map[string]string
	userData                  []byte
	metadata                  metadataOptions
	shutdownBehavior          string
	market                    marketOptions
	spotRequestID             string
	iamProfile                string
	clientToken               string
	launchIndex               int
	volumeIDs                 []string
	eniID                     string
	launchTime, terminateTime time.Time
	backendErr                string
	spot                      *spotNotice // the Spot interruption notice, nil until one
}

// live reports whether the instance still holds resources such as its
// security groups (EC2 refuses to delete a group while such an instance
// uses it).
func (i *instance) live() bool { return i.state != stateTerminated }

// stateReason is the stateReason element of an instance.
type stateReason struct{ code, message string }

// metadataOptions are an instance's IMDS settings (EC2 API Reference,
// "InstanceMetadataOptionsRequest").
type metadataOptions struct {
	httpTokens   string
	hopLimit     int
	httpEndpoint string
	metadataTags string
}

// marketOptions records a Spot request's options; spot is false for
// on-demand launches.
type marketOptions struct {
	spot                 bool
	spotType             string
	interruptionBehavior string
	maxPrice             string
}

// reservation groups the instances of one RunInstances call.
type reservation struct {
	seq         int
	id          string
	instanceIDs []string
}

// idempotentLaunch remembers a successful RunInstances by client token.
type idempotentLaunch struct {
	fingerprint   string
	reservationID string
}

// volume is an EBS volume created by a block device mapping.
type volume struct {
	seq                 int
	id, instanceID      string
	device, volumeType  string
	size                int
	deleteOnTermination bool
	state               string // in-use, deleted, available
	tags                map[string]string
	attachTime          time.Time
}

// networkInterface is an instance's primary network interface.
type networkInterface struct {
	id, instanceID string
	tags           map[string]string
	deleted        bool
}
