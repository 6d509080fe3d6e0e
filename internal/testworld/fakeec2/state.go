package fakeec2

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// StateSnapshot is everything the emulator holds, for the test world's
// JSON state endpoint and for assertions: every instance ever created,
// every security group (deleted ones too) and every volume.
type StateSnapshot struct {
	Instances      []InstanceState      `json:"instances"`
	SecurityGroups []SecurityGroupState `json:"security_groups"`
	Volumes        []VolumeState        `json:"volumes"`
}

// InstanceState describes one instance. User data is summarised by size
// and hash, never included.
type InstanceState struct {
	ID                 string            `json:"id"`
	ReservationID      string            `json:"reservation_id"`
	State              string            `json:"state"`
	StateReason        string            `json:"state_reason,omitempty"`
	InstanceType       string            `json:"instance_type"`
	ImageID            string            `json:"image_id"`
	Tags               map[string]string `json:"tags"`
	PrivateIP          string            `json:"private_ip"`
	SubnetID           string            `json:"subnet_id"`
	AvailabilityZone   string            `json:"availability_zone"`
	UserDataSize       int               `json:"user_data_size"`
	UserDataSHA256     string            `json:"user_data_sha256"`
	MetadataOptions    MetadataState     `json:"metadata_options"`
	Market             string            `json:"market"` // on-demand or spot
	SpotRequestID      string            `json:"spot_request_id,omitempty"`
	ShutdownBehavior   string            `json:"shutdown_behavior"`
	IAMInstanceProfile string            `json:"iam_instance_profile,omitempty"`
	SecurityGroups     []string          `json:"security_groups"`
	VolumeIDs          []string          `json:"volume_ids"`
	ClientToken        string            `json:"client_token,omitempty"`
	LaunchTime         time.Time         `json:"launch_time"`
	TerminateTime      *time.Time        `json:"terminate_time,omitempty"`
	BackendError       string            `json:"backend_error,omitempty"`
	// SpotInterruption is the Spot interruption notice the instance was given, if any.
	SpotInterruption *SpotInterruptionState `json:"spot_interruption,omitempty"`
}

// SpotInterruptionState is a Spot interruption notice: when EC2 gave it, and what it does when.
type SpotInterruptionState struct {
	Action     string    `json:"action"`
	NoticedAt  time.Time `json:"noticed_at"`
	ActionTime time.Time `json:"action_time"`
}

// MetadataState is an instance's IMDS configuration.
type MetadataState struct {
	HTTPTokens              string `json:"http_tokens"`
	HTTPPutResponseHopLimit int    `json:"http_put_response_hop_limit"`
	HTTPEndpoint            string `json:"http_endpoint"`
	InstanceMetadataTags    string `json:"instance_metadata_tags"`
}

// SecurityGroupState describes one security group and its rules.
type SecurityGroupState struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	VpcID       string            `json:"vpc_id"`
	Ingress     []RuleState       `json:"ingress"`
	Egress      []RuleState       `json:"egress"`
	Tags        map[string]string `json:"tags"`
	Deleted     bool              `json:"deleted"`
	CreatedAt   time.Time         `json:"created_at"`
	DeletedAt   *time.Time        `json:"deleted_at,omitempty"`
}

// RuleState is one security group rule.
type RuleState struct {
	ID       string `json:"id"`
	Protocol string `json:"protocol"`
	FromPort int    `json:"from_port"`
	ToPort   int    `json:"to_port"`
	CIDR     string `json:"cidr,omitempty"`
	GroupID  string `json:"group_id,omitempty"`
}

// VolumeState describes one EBS volume.
type VolumeState struct {
	ID                  string            `json:"id"`
	InstanceID          string            `json:"instance_id"`
	Device              string            `json:"device"`
	VolumeType          string            `json:"volume_type"`
	SizeGiB             int               `json:"size_gib"`
	DeleteOnTermination bool              `json:"delete_on_termination"`
	State               string            `json:"state"`
	Tags                map[string]string `json:"tags"`
}

// Call is one API call as the emulator saw it. Parameters are those of the
// request body; UserData is replaced by its size and SHA-256, and nothing
// of the signature or session token is kept.
type Call struct {
	Time        time.Time         `json:"time"`
	RequestID   string            `json:"request_id"`
	Action      string            `json:"action"`
	Params      map[string]string `json:"params"`
	AccessKeyID string            `json:"access_key_id"`
	Status      int               `json:"status"`
	ErrorCode   string            `json:"error_code,omitempty"`
}

// State returns a snapshot of every resource, in creation order.
func (s *Server) State() StateSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out StateSnapshot
	for _, inst := range sortedBySeq(s.instances, func(i *instance) int { return i.seq }) {
		out.Instances = append(out.Instances, instanceState(inst))
	}
	for _, g := range sortedBySeq(s.groups, func(g *securityGroup) int { return g.seq }) {
		out.SecurityGroups = append(out.SecurityGroups, groupState(g))
	}
	for _, v := range sortedBySeq(s.volumes, func(v *volume) int { return v.seq }) {
		out.Volumes = append(out.Volumes, VolumeState{v.id, v.instanceID, v.device, v.volumeType, v.size,
			v.deleteOnTermination, v.state, copyTags(v.tags)})
	}
	return out
}

// Calls returns every API call so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func sortedBySeq[T any](m map[string]T, seq func(T) int) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	return out
}

func instanceState(i *instance) InstanceState {
	sum := sha256.Sum256(i.userData)
	st := InstanceState{
		ID: i.id, ReservationID: i.reservationID, State: i.state, StateReason: i.reason.code,
		InstanceType: i.instanceType, ImageID: i.imageID, Tags: copyTags(i.tags), PrivateIP: i.privateIP,
		SubnetID: i.subnetID, AvailabilityZone: i.az, UserDataSize: len(i.userData), UserDataSHA256: hex.EncodeToString(sum[:]),
		MetadataOptions: MetadataState{i.metadata.httpTokens, i.metadata.hopLimit, i.metadata.httpEndpoint, i.metadata.metadataTags},
		Market:          "on-demand", SpotRequestID: i.spotRequestID, ShutdownBehavior: i.shutdownBehavior,
		IAMInstanceProfile: i.iamProfile, SecurityGroups: append([]string{}, i.groupIDs...),
		VolumeIDs: append([]string{}, i.volumeIDs...), ClientToken: i.clientToken, LaunchTime: i.launchTime,
		BackendError: i.backendErr,
	}
	if i.market.spot {
		st.Market = "spot"
	}
	if n := i.spot; n != nil {
		st.SpotInterruption = &SpotInterruptionState{Action: n.action, NoticedAt: n.noticedAt, ActionTime: n.actionTime}
	}
	if !i.terminateTime.IsZero() {
		t := i.terminateTime
		st.TerminateTime = &t
	}
	return st
}

func groupState(g *securityGroup) SecurityGroupState {
	st := SecurityGroupState{ID: g.id, Name: g.name, Description: g.description, VpcID: g.vpcID,
		Ingress: rulesState(g.ingress), Egress: rulesState(g.egress), Tags: copyTags(g.tags), Deleted: g.deleted, CreatedAt: g.createdAt}
	if g.deleted {
		t := g.deletedAt
		st.DeletedAt = &t
	}
	return st
}

func rulesState(rules []rule) []RuleState {
	out := []RuleState{}
	for _, r := range rules {
		out = append(out, RuleState{r.id, r.protocol, r.from, r.to, r.cidr, r.groupID})
	}
	return out
}

// logParams copies a call's parameters for the call log, replacing
// UserData by its decoded size and hash and dropping any X-Amz-* parameter
// (where a query-string signature or token would travel).
func logParams(p params) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		switch {
		case strings.HasPrefix(k, "X-Amz-"):
		case k == "UserData":
			out[k] = userDataSummary(v)
		default:
			out[k] = v
		}
	}
	return out
}

func userDataSummary(b64 string) string {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		data = []byte(b64)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("size=%d sha256=%s", len(data), hex.EncodeToString(sum[:]))
}
