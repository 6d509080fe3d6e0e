// Package plan describes what a run would do, before anything is launched:
// the nodes, their tags and network rules, the job's command, the secrets
// file's shape, and the IAM policies the AWS role needs.
package plan

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/extensions"
)

// DefaultAMI is what sear launches when the cluster file names no AMI:
// Canonical's current Ubuntu 22.04 image, found with DescribeImages at
// launch, since AMI ids differ per region and change with every release.
const DefaultAMI = "latest Canonical Ubuntu 22.04 LTS (resolved at launch)"

// DefaultGPUAMI is what sear launches for an instance type with NVIDIA
// GPUs when the cluster file names no AMI (cloud/ec2's gpuImage): AWS's
// Ubuntu 22.04 with the NVIDIA driver and CUDA, found through its public
// SSM parameter at launch.
const DefaultGPUAMI = "latest AWS Deep Learning Base OSS Nvidia Driver GPU AMI, Ubuntu 22.04 (resolved at launch)"

// Plan is what a run would do. Field names are stable: --json prints them.
type Plan struct {
	Runnable  Runnable          `json:"runnable"`
	Cluster   Cluster           `json:"cluster"`
	Nodes     []Node            `json:"nodes"`
	Tags      map[string]string `json:"tags"`
	Network   []Rule            `json:"network"`
	Lifetime  Lifetime          `json:"lifetime"`
	Cost      *Cost             `json:"cost"`
	Secrets   *Secrets          `json:"secrets,omitempty"`
	Policy    *Policies         `json:"iam,omitempty"`
	Notes     []string          `json:"notes"`
	Warnings  []string          `json:"warnings"`
	Generated time.Time         `json:"-"`
}

// Runnable is the job half of the plan.
type Runnable struct {
	File       string      `json:"file"`
	Kind       string      `json:"kind"`
	Tag        string      `json:"tag"`
	Name       string      `json:"name"`
	Command    []string    `json:"command"`
	Extensions []Extension `json:"extensions"`
	Search     bool        `json:"search"`
	// RunsOn says where the job runs: a !Experiment on the orchestrator
	// alone, a !Script on the orchestrator with the engine's workers.
	RunsOn string `json:"runs_on"`
}

// Extension is one extension and what sear does with it.
type Extension struct {
	Name     string `json:"name"`
	Location string `json:"location"`
	Kind     string `json:"kind"`
	Action   string `json:"action"`
}

// Cluster is the cluster half of the plan.
type Cluster struct {
	File     string   `json:"file"`
	Provider string   `json:"provider"`
	Name     string   `json:"name"`
	Region   string   `json:"region,omitempty"`
	Engine   string   `json:"engine"`
	TLS      bool     `json:"tls"`
	Market   string   `json:"market,omitempty"`
	Outputs  []string `json:"outputs"`
	Setup    []string `json:"setup_cmds"`
	Username string   `json:"username,omitempty"`
}

// Node is one machine of the cluster.
type Node struct {
	Name         string `json:"name"`
	Role         string `json:"role"`
	Rank         int    `json:"rank"`
	InstanceType string `json:"instance_type,omitempty"`
	AMI          string `json:"ami,omitempty"`
	Volume       string `json:"volume,omitempty"`
	Address      string `json:"address,omitempty"`
}

// Rule is one network rule of the cluster's security group.
type Rule struct {
	Port   string `json:"port"`
	Source string `json:"source"`
	Why    string `json:"why"`
}

// Lifetime bounds how long anything lives.
type Lifetime struct {
	ReadyTimeout string `json:"ready_timeout"`
	MaxDuration  string `json:"max_duration"`
	ExpiresAfter string `json:"expires_after"`
	// Budget is each phase's bound; ExpiresAfter is their sum.
	Budget []Bound `json:"budget"`
}

// Secrets is the INI file's shape, never its values.
type Secrets struct {
	Sections []Section `json:"sections"`
	// Names are the secrets that go to the nodes, as secrets-include names
	// them, sorted; Count is how many.
	Names []string `json:"names"`
	Count int      `json:"count"`
	// All is set when secrets-include is empty, which sends every secret
	// the workflow passes but github_token: the plan says so, since a job
	// usually reads a few of them.
	All bool `json:"all"`
}

// Section is one INI section and its key names.
type Section struct {
	Name string   `json:"name"`
	Keys []string `json:"keys"`
}

// Input is what a plan is made from.
type Input struct {
	Runnable   *config.Runnable
	Cluster    *config.Cluster
	Secrets    *Secrets
	Repository string // OWNER/REPO, for the trust policy and the tags
	Region     string // from the environment when the cluster names none
	// NodeRole is the role of the cluster file's iam_instance_profile (a
	// name, path/name or ARN), which iam:PassRole names; "" means the
	// profile's own name.
	NodeRole string
	// Trust says which workflow runs the trust policy admits; nil means
	// DefaultTrust.
	Trust *Trust
}

// Make builds the plan.
func Make(in Input) *Plan {
	c, r := in.Cluster, in.Runnable
	p := &Plan{Secrets: in.Secrets, Tags: map[string]string{}, Notes: []string{}, Warnings: []string{}}
	p.Runnable = runnable(r)
	p.Runnable.RunsOn = runsOn(c, r)
	p.Cluster = cluster(c, in.Region)
	p.Nodes = nodes(c)
	p.Lifetime = Lifetime{
		ReadyTimeout: config.FormatDuration(c.ReadyTimeout),
		MaxDuration:  config.FormatDuration(c.MaxDuration),
		ExpiresAfter: config.FormatDuration(c.Lifetime()),
		Budget:       bounds(c.TimeBudget()),
	}
	if c.Kind == config.AWS {
		p.Tags = tags(c, in.Repository)
		p.Network = rules(c)
		t := DefaultTrust
		if in.Trust != nil {
			t = *in.Trust
		}
		p.Policy = policies(policyInput{cluster: c, repo: in.Repository, region: p.Cluster.Region, nodeRole: in.NodeRole, trust: t})
		if p.Cluster.Region == "" {
			p.Warnings = append(p.Warnings, "no region: set region_name in the cluster file, the action's aws-region input or AWS_REGION")
		}
	}
	p.Notes, p.Warnings = append(p.Notes, notes(c)...), append(p.Warnings, warnings(c, r)...)
	var costWarnings []string
	p.Cost, costWarnings = projectCost(c, p.Cluster.Region)
	p.Warnings = append(p.Warnings, costWarnings...)
	return p
}

// runnable describes the job. Extension locations and the command line
// may hold a URL with credentials in it (https://user:token@host/...),
// which the plan, printed into logs and pasted into issues, never shows.
func runnable(r *config.Runnable) Runnable {
	out := Runnable{File: r.File, Kind: string(r.Kind), Tag: r.Tag, Name: r.Name, Search: r.Search, Extensions: []Extension{}}
	out.Command = redactAll(Command(r))
	for _, e := range r.Extensions {
		out.Extensions = append(out.Extensions, Extension{Name: e.Name, Location: RedactURLs(e.Location), Kind: string(e.Kind), Action: extensionAction(r, e)})
	}
	return out
}

// extensionAction says what becomes of an extension, as the run does it:
// git ones are cloned on the runner (internal/run's extensions step) and
// uploaded with the workspace to every node under .sear/extensions, local
// ones are uploaded with the workspace, and the only thing that installs
// any of them is Flambé's -i, on the orchestrator, which a !Script does
// not run with (config refuses a !Script's pip requirements for that).
func extensionAction(r *config.Runnable, e config.Extension) string {
	where := map[config.ExtensionKind]string{
		config.ExtGit:   "cloned on the runner and uploaded to every node as " + path.Join(extensions.DefaultNodeDir, e.Name) + " in the job's working directory",
		config.ExtLocal: "uploaded with the workspace to every node (a path inside the workspace; one outside it is not uploaded)",
		config.ExtPip:   "a pip requirement",
	}[e.Kind]
	if r.Kind == config.KindFlambe {
		return where + "; flambe -i pip-installs it on the orchestrator before the run"
	}
	if e.Kind == config.ExtPip {
		return where + "; nothing installs it: a !Script runs without flambe -i"
	}
	return where + "; not installed: a !Script runs without flambe -i, so import it from there or pip-install it in setup_cmds"
}

// runsOn says where the job runs. A !Experiment (any runnable but a
// !Script) runs as single-machine Flambé on the orchestrator: sear does not
// hand Flambé its cluster (README, "Coming from Flambé").
func runsOn(c *config.Cluster, r *config.Runnable) string {
	switch {
	case r.Kind == config.KindFlambe && c.FactoriesNum > 0:
		return "the orchestrator only, as single-machine Flambé; the factories get no trials"
	case r.Kind == config.KindFlambe:
		return "the orchestrator, as single-machine Flambé"
	case c.Engine == config.EngineNone || c.FactoriesNum == 0:
		return "the orchestrator"
	}
	return fmt.Sprintf("the orchestrator, with the %s workers of %d factories", c.Engine, c.FactoriesNum)
}

// Command is the job's command line on the orchestrator. A !Script runs
// natively; anything else runs under flambe, with -i when extensions need
// installing, reading the secrets INI that sear places at $SEAR_SECRETS.
func Command(r *config.Runnable) []string {
	if r.Kind == config.KindScript {
		return r.Script.Argv()
	}
	cmd := []string{"flambe", "runnable.yaml", "--secrets", "$SEAR_SECRETS"}
	if len(r.Extensions) > 0 {
		cmd = append(cmd, "-i")
	}
	return cmd
}

func cluster(c *config.Cluster, envRegion string) Cluster {
	out := Cluster{File: c.File, Provider: "local", Name: c.Name, Engine: string(c.Engine), TLS: c.TLS,
		Outputs: nonNil(c.Outputs), Setup: redactAll(nonNil(c.SetupCmds))}
	if c.Kind == config.AWS {
		out.Provider, out.Username, out.Market = "aws", c.Username, "on-demand"
		if c.Spot {
			out.Market = "spot, falling back to on-demand"
		}
		out.Region = c.RegionName
		if out.Region == "" {
			out.Region = envRegion
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nodes(c *config.Cluster) []Node {
	out := make([]Node, 0, c.Nodes())
	for _, cn := range c.AllNodes() {
		n := Node{Rank: cn.Rank, Role: string(cn.Role), Name: cn.Name}
		if c.Kind == config.Local {
			n.Address = fmt.Sprintf("127.0.0.%d (ssh, in-process)", cn.Rank+2)
			out = append(out, n)
			continue
		}
		n.InstanceType, n.AMI = cn.Type(), cn.AMI
		if n.AMI == "" {
			n.AMI = DefaultAMI
			if ec2.GPUInstanceType(n.InstanceType) {
				n.AMI = DefaultGPUAMI
			}
		}
		n.Volume = fmt.Sprintf("%d GiB %s, deleted on termination", c.VolumeSize, c.VolumeType)
		out = append(out, n)
	}
	return out
}

// tags are what the EC2 provider tags a node's resources with
// (cloud.Tags and cloud.NodeTags), with placeholders for what only the run
// knows and every rank's Role and Name at once.
func tags(c *config.Cluster, repo string) map[string]string {
	t := cloud.Tags(c, cloud.TagValues{
		ClusterID: "<generated per run>", RunID: "<GITHUB_RUN_ID, or generated>", Repository: repo,
		ExpiresAt: "<start + " + config.FormatDuration(c.Lifetime()) + ", RFC 3339>", Creator: "<the GitHub actor or local user>",
	})
	orch, fact := c.Node(0), c.Node(1)
	t[cloud.TagRole] = cloud.FlambeRole(orch.Role) + " | " + cloud.FlambeRole(fact.Role)
	t[cloud.TagName] = orch.Name + " | " + c.Name + "_factory_<i>"
	for k, v := range c.Tags {
		t[k] = RedactURLs(v)
	}
	return t
}

func rules(c *config.Cluster) []Rule {
	if c.SecurityGroup != "" {
		return []Rule{{Port: "as configured", Source: c.SecurityGroup, Why: "the cluster file names this security group; sear uses it as it is and creates none"}}
	}
	src := "the runner's public address /32 (found at run time)"
	if c.SSHIngressCIDR != "" {
		src = c.SSHIngressCIDR + " (ssh_ingress_cidr)"
	}
	return []Rule{
		{Port: "tcp/22", Source: src, Why: "sear's SSH, with pinned host keys"},
		{Port: "all", Source: "members of this security group", Why: "node-to-node traffic (mutual TLS)"},
	}
}

func notes(c *config.Cluster) []string {
	var out []string
	if c.Kind == config.AWS && (c.Key != "" || c.KeyName != "") {
		out = append(out, "key and key_name are accepted and not used: sear makes ephemeral keys for each run and never uploads yours")
	}
	if _, ok := c.Set["orchestrator_timeout"]; ok {
		out = append(out, "orchestrator_timeout is not needed: sear tears the cluster down when the job ends and at max_duration")
	}
	if _, ok := c.Set["factories_timeout"]; ok {
		out = append(out, "factories_timeout is not needed: sear tears the cluster down when the job ends and at max_duration")
	}
	return out
}

// SecretsShape sorts sections and keys for display, with the names of the
// secrets that go to the nodes; all says secrets-include was empty.
func SecretsShape(sections map[string][]string, names []string, all bool) *Secrets {
	sectionNames := make([]string, 0, len(sections))
	for n := range sections {
		sectionNames = append(sectionNames, n)
	}
	sort.Strings(sectionNames)
	s := &Secrets{Sections: []Section{}, Names: sortedSet(names...), All: all}
	if s.Names == nil {
		s.Names = []string{}
	}
	s.Count = len(s.Names)
	for _, n := range sectionNames {
		keys := append([]string(nil), sections[n]...)
		sort.Strings(keys)
		s.Sections = append(s.Sections, Section{Name: n, Keys: keys})
	}
	return s
}

// shellJoin quotes a command line for display the way a POSIX shell reads it.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.HasPrefix(s, "$") && !strings.ContainsAny(s[1:], " '\"\\;&|<>()`") {
		return `"` + s + `"`
	}
	if !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>()*?[]{}#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
