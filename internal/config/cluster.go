package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sear-ci/sear/internal/timebudget"
)

// ClusterKind says which provider brings a cluster up.
type ClusterKind string

// The cluster kinds, named by their YAML tags.
const (
	AWS   ClusterKind = "AWSCluster"
	Local ClusterKind = "LocalCluster"
)

// Engine is the distributed engine started on the nodes.
type Engine string

// The engines sear can start.
const (
	EngineDask Engine = "dask"
	EngineRay  Engine = "ray"
	EngineNone Engine = "none"
)

// Defaults for sear's own fields.
const (
	DefaultReadyTimeout = 10 * time.Minute
	DefaultMaxDuration  = 6 * time.Hour
	DefaultVolumeSize   = 100
	DefaultVolumeType   = "gp2"
	DefaultUsername     = "ubuntu"
)

// Pos is a position in a file, kept so later stages (a preflight that finds
// an AMI missing) can still point at the line that named it (FieldError).
type Pos struct {
	File      string
	Line, Col int
}

// Cluster is a validated cluster file.
type Cluster struct {
	File string
	Kind ClusterKind
	Name string

	FactoriesNum     int
	FactoriesType    string
	OrchestratorType string
	OrchestratorAMI  string
	FactoryAMI       string
	SecurityGroup    string
	SubnetID         string
	Creator          string
	RegionName       string
	Username         string
	VolumeType       string
	VolumeSize       int
	Dedicated        bool
	Tags             map[string]string
	SetupCmds        []string

	// Accepted from Flambé files and not used: sear makes ephemeral keys
	// and tears the cluster down itself instead of relying on idle alarms.
	KeyName             string
	Key                 string
	OrchestratorTimeout int
	FactoriesTimeout    int

	Engine             Engine
	Spot               bool
	MaxDuration        time.Duration
	ReadyTimeout       time.Duration
	UsePrivateIP       bool
	SSHIngressCIDR     string
	IAMInstanceProfile string
	Outputs            []string
	TLS                bool
	// Setup, if set, is how sear bootstraps the nodes' Python environment
	// (setup.go); nil when the image must have it.
	Setup *Setup `json:",omitempty"`
	// Capacity holds the list forms of subnet_id, orchestrator_type and
	// factories_type, and check_quotas (capacity.go).
	Capacity
	// Budget is max_cost, max_cost_mode and live_prices (budget.go).
	Budget
	// SpotHandling is spot_signal and spot_retry (spot.go).
	SpotHandling

	// Set lists the fields the file gives, with their positions.
	Set map[string]Pos

	// lines are the file's, for the source line under a FieldError; items
	// are where each item of a list field stands, by field and value.
	lines []string
	items map[string]map[string]Pos
}

// Nodes is the number of nodes: the orchestrator and its factories.
func (c *Cluster) Nodes() int { return 1 + c.FactoriesNum }

// ExpiryMargin was the fixed part of a cluster's lifetime besides
// ready_timeout and max_duration.
//
// Deprecated: the lifetime is TimeBudget's sum of bounds, which depends on
// setup: and setup_cmds; use Lifetime() - ReadyTimeout - MaxDuration.
const ExpiryMargin = 15 * time.Minute

// TimeBudget is the run's bound for each phase, derived from this cluster's
// numbers (package timebudget owns how).
func (c *Cluster) TimeBudget() timebudget.Budget {
	return timebudget.For(timebudget.Inputs{
		ReadyTimeout: c.ReadyTimeout, MaxDuration: c.MaxDuration,
		Bootstrap: c.Setup != nil, SetupCmds: len(c.SetupCmds) > 0,
	})
}

// Lifetime is how long the cluster's nodes may live from launch: the sum of
// TimeBudget's bounds. It sets the nodes' own shutdown deadline,
// sear:expires-at and the certificates' validity; since the run's deadlines
// come from the same budget, the dead-man's switch never ends a run still
// inside its bounds.
func (c *Cluster) Lifetime() time.Duration { return c.TimeBudget().Lifetime() }

// flambeAWSFields are AWSCluster's constructor parameters in Flambé, which a
// Flambé project's cluster file may use verbatim.
var flambeAWSFields = []string{
	"name", "factories_num", "factories_type", "orchestrator_type", "key_name", "key",
	"security_group", "subnet_id", "creator", "volume_type", "volume_size", "region_name",
	"username", "tags", "dedicated", "orchestrator_ami", "factory_ami",
	"orchestrator_timeout", "factories_timeout", "setup_cmds",
}

// searFields extend both cluster kinds.
var searFields = []string{
	"engine", "spot", "max_duration", "ready_timeout", "use_private_ip", "ssh_ingress_cidr",
	"iam_instance_profile", "outputs", "tls", "setup", "check_quotas",
	"max_cost", "live_prices", "spot_signal", "spot_retry", "max_cost_mode",
}

var localFields = []string{"name", "factories_num", "engine", "setup_cmds", "outputs", "max_duration", "ready_timeout", "tls", "setup"}

// awsRequired are the fields Flambé's AWSCluster has no default for, minus
// the ones sear does not need: key and key_name (sear makes ephemeral keys),
// security_group and subnet_id (sear makes a per-run group and uses the
// default subnet), creator (sear falls back to the GitHub actor or user).
var awsRequired = []string{"name", "factories_num", "factories_type", "orchestrator_type"}

// volumeTypes are the EBS volume types sear launches with. Flambé allows gp2
// and io1 ("Only gp2 and io1 drives available."); sear adds their current
// generation, gp3 and io2.
var volumeTypes = []string{"gp2", "gp3", "io1", "io2"}

// clusterName is what fits in tags, security group names and host names.
var clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// LoadCluster reads and validates a cluster file. All problems are reported
// at once as Errors.
func LoadCluster(path string) (*Cluster, error) {
	src, err := readSource(path)
	if err != nil {
		return nil, err
	}
	return parseCluster(src)
}

// ParseCluster validates cluster YAML held in memory; name is used in errors.
func ParseCluster(name string, data []byte) (*Cluster, error) {
	src, err := newSource(name, data)
	if err != nil {
		return nil, err
	}
	return parseCluster(src)
}

func parseCluster(src *source) (*Cluster, error) {
	docs, ok := src.documents()
	if !ok {
		return nil, src.errs.orNil()
	}
	root := src.singleDocument(docs, "a cluster file")
	if root == nil || !src.boundExpansion(root) {
		return nil, src.errs.orNil()
	}
	c := &Cluster{File: src.name, Set: map[string]Pos{}, lines: src.lines}
	switch customTag(root) {
	case "!AWSCluster":
		c.Kind = AWS
		src.awsCluster(root, c)
	case "!LocalCluster":
		c.Kind = Local
		src.localCluster(root, c)
	case "":
		src.errorAt(root, "the cluster has no tag; start it with !AWSCluster (EC2) or !LocalCluster (this machine)")
	default:
		tag := customTag(root)
		hint := "expected !AWSCluster or !LocalCluster"
		if near, ok := nearest(strings.TrimPrefix(tag, "!"), []string{"AWSCluster", "LocalCluster"}); ok {
			hint = fmt.Sprintf("did you mean !%s?", near)
		}
		src.errorAt(root, "%q is not a cluster kind sear knows; %s", tag, hint)
	}
	if err := src.errs.orNil(); err != nil {
		return nil, err
	}
	return c, nil
}

// singleDocument returns the only document's root, reporting an empty file
// or extra documents.
func (s *source) singleDocument(docs []*yaml.Node, what string) *yaml.Node {
	switch {
	case len(docs) == 0:
		s.errorFile("is empty; %s needs a YAML document", what)
		return nil
	case len(docs) > 1:
		s.errorAt(docs[1], "%s holds one YAML document, found %d; remove the extra \"---\"", what, len(docs))
		return nil
	}
	return documentRoot(docs[0])
}

func documentRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return doc
}

func (s *source) awsCluster(root *yaml.Node, c *Cluster) {
	fs := s.fields(root, "!AWSCluster", append(append([]string(nil), flambeAWSFields...), searFields...))
	s.required(root, fs, "!AWSCluster", awsRequired)
	c.Username, c.VolumeSize, c.VolumeType = DefaultUsername, DefaultVolumeSize, DefaultVolumeType
	c.OrchestratorTimeout, c.FactoriesTimeout = -1, 1
	s.commonCluster(fs, c)
	s.awsStrings(fs, c)
	s.capacity(fs, c)
	s.awsNumbers(fs, c)
	if f, ok := fs["tags"]; ok {
		s.clusterTags(f, c)
	}
	s.searFields(fs, c)
	s.spotFields(fs, c)
}

func (s *source) localCluster(root *yaml.Node, c *Cluster) {
	fs := s.fields(root, "!LocalCluster", localFields)
	s.required(root, fs, "!LocalCluster", []string{"name"})
	s.commonCluster(fs, c)
	s.searFields(fs, c)
}

func (s *source) commonCluster(fs map[string]field, c *Cluster) {
	for name, f := range fs {
		c.Set[name] = Pos{File: s.name, Line: f.key.Line, Col: f.key.Column}
	}
	if f, ok := fs["name"]; ok {
		if v, ok := s.str(f); ok {
			if !clusterName.MatchString(v) {
				s.errorAt(f.value, "%q is not a valid cluster name; use letters, digits, \"-\" and \"_\", starting with a letter or digit, at most 63 characters", v)
			}
			c.Name = v
		}
	}
	if f, ok := fs["factories_num"]; ok {
		if v, ok := s.integer(f); ok {
			if v < 0 || v > 256 {
				s.errorAt(f.value, "factories_num %d is out of range; give 0 to 256 factories", v)
			}
			c.FactoriesNum = v
		}
	}
	if f, ok := fs["setup_cmds"]; ok {
		c.SetupCmds, _ = s.strList(f)
	}
}

func (s *source) awsStrings(fs map[string]field, c *Cluster) {
	for name, dst := range map[string]*string{
		"orchestrator_ami": &c.OrchestratorAMI, "factory_ami": &c.FactoryAMI,
		"security_group": &c.SecurityGroup, "creator": &c.Creator,
		"region_name": &c.RegionName, "username": &c.Username, "key_name": &c.KeyName, "key": &c.Key,
		"iam_instance_profile": &c.IAMInstanceProfile,
	} {
		if f, ok := fs[name]; ok {
			if v, ok := s.optStr(f); ok && v != "" {
				*dst = v
			}
		}
	}
	for name, prefix := range map[string]string{"orchestrator_ami": "ami-", "factory_ami": "ami-", "subnet_id": "subnet-"} {
		if f, ok := fs[name]; ok {
			if n := resolve(f.value); n.ShortTag() == "!!str" && n.Value != "" && !strings.HasPrefix(n.Value, prefix) {
				s.errorAt(f.value, "%q is not an id for %q; EC2 ids of this kind start with %q", n.Value, name, prefix)
			}
		}
	}
	if f, ok := fs["volume_type"]; ok {
		if v, ok := s.str(f); ok {
			if !contains(volumeTypes, v) {
				s.errorAt(f.value, "%q is not an EBS volume type; expected one of: %s", v, strings.Join(volumeTypes, ", "))
			}
			c.VolumeType = v
		}
	}
}

func (s *source) awsNumbers(fs map[string]field, c *Cluster) {
	if f, ok := fs["volume_size"]; ok {
		if v, ok := s.integer(f); ok {
			if v < 8 || v > 16384 {
				s.errorAt(f.value, "volume_size %d is out of range; EBS volumes are 8 to 16384 GiB here", v)
			}
			c.VolumeSize = v
		}
	}
	if f, ok := fs["dedicated"]; ok {
		c.Dedicated, _ = s.boolean(f)
	}
	s.idleTimeouts(fs, c)
}

// idleTimeouts validates Flambé's idle-alarm hours: -1 disables the alarm,
// 0 is Flambé's five-minute alarm, N is N hours; and, as Flambé's
// AWSCluster.parse checks, factories must not outlive the orchestrator.
func (s *source) idleTimeouts(fs map[string]field, c *Cluster) {
	okO, okF := true, true
	if f, ok := fs["orchestrator_timeout"]; ok {
		c.OrchestratorTimeout, okO = s.integer(f)
		if okO && c.OrchestratorTimeout < -1 {
			s.errorAt(f.value, "orchestrator_timeout %d must be a number of idle hours, or -1 for no timeout", c.OrchestratorTimeout)
			okO = false
		}
	}
	if f, ok := fs["factories_timeout"]; ok {
		c.FactoriesTimeout, okF = s.integer(f)
		if okF && c.FactoriesTimeout < -1 {
			s.errorAt(f.value, "factories_timeout %d must be a number of idle hours, or -1 for no timeout", c.FactoriesTimeout)
			okF = false
		}
	}
	f, given := fs["factories_timeout"]
	if !given {
		f, given = fs["orchestrator_timeout"]
	}
	if given && okO && okF && c.OrchestratorTimeout != -1 {
		if c.FactoriesTimeout == -1 || c.FactoriesTimeout > c.OrchestratorTimeout {
			s.errorAt(f.value, "factories_timeout (%d) must be between 0 and orchestrator_timeout (%d): factories can't be terminated after the orchestrator is terminated", c.FactoriesTimeout, c.OrchestratorTimeout)
		}
	}
}

// reservedTags are set by Flambé (and sear) on every instance. Flambé
// refuses creator and name; it lets Purpose, Cluster-Name and Role through
// and then overwrites them or loses track of its instances, so sear refuses
// them too.
var reservedTags = []string{"creator", "name", "purpose", "cluster-name", "role"}

func (s *source) clusterTags(f field, c *Cluster) {
	tags, keys, _ := s.strMap(f)
	names := make([]string, 0, len(tags))
	for k := range tags {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lk := strings.ToLower(k)
		switch {
		case contains(reservedTags, lk):
			s.errorAt(keys[k], "tag %q is one sear sets on every instance; remove it from tags", k)
		case strings.HasPrefix(lk, "aws:") || strings.HasPrefix(lk, "sear:"):
			s.errorAt(keys[k], "tag %q uses a reserved prefix (%q); choose another key", k, k[:strings.IndexByte(k, ':')+1])
		case len(k) > 128:
			s.errorAt(keys[k], "tag key is %d characters; AWS allows 128", len(k))
		case len(tags[k]) > 256:
			s.errorAt(keys[k], "tag %q has a value of %d characters; AWS allows 256", k, len(tags[k]))
		}
	}
	c.Tags = tags
}

func (s *source) searFields(fs map[string]field, c *Cluster) {
	c.Engine, c.TLS = EngineNone, true
	c.MaxDuration, c.ReadyTimeout = DefaultMaxDuration, DefaultReadyTimeout
	if f, ok := fs["engine"]; ok {
		if v, ok := s.str(f); ok {
			switch e := Engine(strings.ToLower(v)); e {
			case EngineDask, EngineRay, EngineNone:
				c.Engine = e
			default:
				s.errorAt(f.value, "%q is not an engine sear can start; expected dask, ray or none", v)
			}
		}
	}
	for name, dst := range map[string]*bool{"spot": &c.Spot, "use_private_ip": &c.UsePrivateIP, "tls": &c.TLS} {
		if f, ok := fs[name]; ok {
			*dst, _ = s.boolean(f)
		}
	}
	for name, dst := range map[string]*time.Duration{"max_duration": &c.MaxDuration, "ready_timeout": &c.ReadyTimeout} {
		if f, ok := fs[name]; ok {
			if d, ok := s.duration(f); ok {
				*dst = d
			}
		}
	}
	if f, ok := fs["ssh_ingress_cidr"]; ok {
		if v, ok := s.str(f); ok {
			if _, err := netip.ParsePrefix(v); err != nil {
				s.errorAt(f.value, "%q is not a CIDR block; write it like 203.0.113.7/32", v)
			}
			c.SSHIngressCIDR = v
		}
	}
	if f, ok := fs["outputs"]; ok {
		c.Outputs, _ = s.strList(f)
		s.checkGlobs(f, c.Outputs)
	}
	if f, ok := fs["setup"]; ok {
		s.setup(f, c)
	}
	s.budget(fs, c)
}

// checkGlobs refuses output patterns that would reach outside the job's
// directory on the orchestrator.
func (s *source) checkGlobs(f field, globs []string) {
	for i, g := range globs {
		n := resolve(f.value).Content[i]
		if strings.HasPrefix(g, "/") || g == ".." || strings.HasPrefix(g, "../") || strings.Contains(g, "/../") {
			s.errorAt(n, "output pattern %q must stay inside the job's working directory; write a relative path", g)
		}
	}
}

// required reports, in one error, every required field a mapping lacks.
func (s *source) required(root *yaml.Node, fs map[string]field, what string, names []string) {
	if root.Kind != yaml.MappingNode {
		return
	}
	var missing []string
	for _, name := range names {
		if _, ok := fs[name]; !ok {
			missing = append(missing, fmt.Sprintf("%q", name))
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		s.errorAt(root, "%s is missing %s", what, missing[0])
	default:
		s.errorAt(root, "%s is missing %s and %s", what, strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1])
	}
}
