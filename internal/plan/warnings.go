package plan

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
)

// HostedRunnerJobLimit is how long a job may run on a GitHub-hosted runner
// ("Usage limits": 6 hours of job execution time; a self-hosted runner's
// job may run 5 days). GitHub cancels the job at that point, whatever sear
// is doing.
const HostedRunnerJobLimit = 6 * time.Hour

// accelerators are the instance families whose accelerator needs a driver
// that stock Ubuntu does not have, by the letters before the generation
// digit ("g" of g4dn.xlarge). AWS lists them under "Accelerated computing"
// in its instance-type documentation
// (https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html): P and G
// have NVIDIA GPUs (g4ad AMD's), Gr NVIDIA's for graphics, Inf and Trn
// AWS's Inferentia and Trainium chips (the Neuron driver), DL Habana's
// Gaudi (dl1) and Qualcomm's (dl2q). This is the one list sear keeps.
var accelerators = map[string]accelerator{
	"p":   gpu,
	"g":   gpu,
	"gr":  gpu,
	"inf": neuron,
	"trn": neuron,
	"dl":  {what: "a deep-learning accelerator", driver: "its vendor's driver (Habana's for dl1, Qualcomm's for dl2q)"},
}

type accelerator struct{ what, driver string }

var (
	gpu    = accelerator{what: "a GPU", driver: "the GPU driver and CUDA"}
	neuron = accelerator{what: "an AWS Neuron accelerator", driver: "the AWS Neuron driver"}
)

// instanceFamily is the letters before an instance type's generation
// digit: "g" of g4dn.xlarge, "inf" of inf2.xlarge.
var instanceFamily = regexp.MustCompile(`^([a-z]+)[0-9]`)

// role is one kind of node as the warnings see it: its instance type, its
// AMI and the fields that name them.
type role struct {
	name, typeField, amiField string
	instanceType, ami         string
}

// roles are the cluster's kinds of node that are launched: the factories
// only when there are some.
func roles(c *config.Cluster) []role {
	var out []role
	for _, n := range c.Roles() {
		name := "the orchestrator"
		if n.Role == config.RoleFactory {
			name = "the factories"
		}
		out = append(out, role{name, n.TypeField, n.AMIField, n.Type(), n.AMI})
	}
	return out
}

// stockImage are the roles launched without an AMI of the user's, on
// Ubuntu 22.04 (Canonical's, or AWS's GPU image, which adds the NVIDIA
// driver), which has python3 but no pip, no Dask, no Ray and no Flambé.
func stockImage(rs []role) []role {
	var out []role
	for _, r := range rs {
		if r.ami == "" {
			out = append(out, r)
		}
	}
	return out
}

func names(rs []role) string {
	var n, f []string
	for _, r := range rs {
		n, f = append(n, r.name), append(f, r.amiField)
	}
	return strings.Join(n, " and ") + " (no " + strings.Join(f, " or ") + ")"
}

// warnings are what would go wrong or cost money for nothing, found before
// anything is launched. Each is one stable sentence that says what to
// change; the golden tests hold them.
func warnings(c *config.Cluster, r *config.Runnable) []string {
	var out []string
	if !c.TLS {
		out = append(out, "tls: false — node-to-node traffic is NOT encrypted or authenticated; use only for troubleshooting")
	}
	if g := c.SecurityGroup; c.Kind == config.AWS && g != "" && !strings.HasPrefix(g, "sg-") {
		out = append(out, fmt.Sprintf("security_group %q is a name: IAM pins security groups by id only, so the permission policy lets the role launch into any security group of the region; write its id (sg-…)", g))
	}
	if c.MaxDuration > HostedRunnerJobLimit {
		out = append(out, fmt.Sprintf("max_duration %s is longer than the 6h a job may run on a GitHub-hosted runner: GitHub cancels the job first (sear's post step, the nodes' own deadline and the sweep still delete the cluster); shorten it, or run the workflow on a self-hosted runner", config.FormatDuration(c.MaxDuration)))
	}
	if c.Kind != config.AWS {
		// A local cluster's nodes are this machine: they cost nothing,
		// its Python is what it is, and sear checks it before the job.
		return out
	}
	out = append(out, idleSettings(c)...)
	out = append(out, idleFactories(c, r)...)
	out = append(out, missingPip(c)...)
	out = append(out, missingEngine(c)...)
	out = append(out, missingFlambe(c, r)...)
	return append(out, missingDriver(c)...)
}

// idleSettings: fields a cluster file may give that do nothing in it.
// Neither is refused: spot is often switched off for a while, and the
// action's max-cost input may give the limit the file leaves out.
func idleSettings(c *config.Cluster) []string {
	var out []string
	if _, set := c.Set["spot_signal"]; set && !c.Spot {
		out = append(out, "spot_signal has no effect without spot: true: no node is a spot node, so no job is ever signalled; set spot: true or remove spot_signal")
	}
	if c.GuardsExpected() && c.MaxCost <= 0 {
		out = append(out, "max_cost_mode: expected guards nothing without a limit: set max_cost in the cluster file, or the action's max-cost input, or remove max_cost_mode")
	}
	return out
}

// idleFactories: a job that cannot use the factories pays for them all the
// same. With engine: none nothing runs on them; a !Experiment runs as
// Flambé on the orchestrator alone, whatever the engine (README, "Coming
// from Flambé").
func idleFactories(c *config.Cluster, r *config.Runnable) []string {
	n := c.FactoriesNum
	switch {
	case n == 0:
		return nil
	case r.Kind == config.KindFlambe && c.Engine == config.EngineRay:
		return []string{fmt.Sprintf("factories_num is %d with engine: ray, but %s runs as single-machine Flambé on the orchestrator: Flambé 0.4 pins Ray 0.7.6, which cannot join sear's Ray cluster (a newer Ray, over mutual TLS), so the factories idle and cost money; set factories_num: 0 and engine: none, and size orchestrator_type for the experiment", n, r.Tag)}
	case r.Kind == config.KindFlambe && c.Engine == config.EngineDask:
		return []string{fmt.Sprintf("factories_num is %d with engine: dask, but %s runs as single-machine Flambé on the orchestrator, and Flambé does not use Dask: only your own components that call distributed.Client() reach the factories; if none do, set factories_num: 0 and engine: none", n, r.Tag)}
	case r.Kind == config.KindFlambe:
		return []string{fmt.Sprintf("factories_num is %d, but %s runs as single-machine Flambé on the orchestrator, so the factories idle and cost money; set factories_num: 0, and size orchestrator_type for the experiment", n, r.Tag)}
	case c.Engine == config.EngineNone:
		return []string{fmt.Sprintf("factories_num is %d with engine: none: sear starts nothing on the factories and the %s runs on the orchestrator, so they idle and cost money; set engine: dask or ray for a job that spreads over them, or factories_num: 0", n, r.Tag)}
	}
	return nil
}

// missingPip: setup_cmds that run pip on stock Ubuntu fail, since its
// image has no pip, unless an earlier command installs it.
func missingPip(c *config.Cluster) []string {
	stock := stockImage(roles(c))
	if len(stock) == 0 || setupMakesPython(c) {
		return nil
	}
	for _, cmd := range c.SetupCmds {
		w := words(cmd)
		if installsPip(w) {
			return nil
		}
		if runsPip(w) {
			return []string{fmt.Sprintf("setup_cmds run pip, which stock Ubuntu 22.04 does not have, on %s; run \"sudo apt-get update && sudo apt-get install -y python3-pip\" first, or name an AMI with pip", names(stock))}
		}
	}
	return nil
}

// missingEngine: the engine's daemons start on every node, so each kind of
// node needs the engine's package from its image, the setup: field or a
// setup command.
func missingEngine(c *config.Cluster) []string {
	pkg, ok := enginePackages[c.Engine]
	if !ok {
		return nil
	}
	stock := stockImage(roles(c))
	if len(stock) == 0 || setupMakesPython(c) || setupInstalls(c, pkg) {
		return nil
	}
	return []string{fmt.Sprintf("engine: %s needs %s on every node, and nothing puts it on %s: stock Ubuntu 22.04 has neither pip nor %s, and neither setup_cmds nor a setup: field installs it; add \"setup: {}\" (sear installs the engine in a venv on every node), or %s to setup_cmds, or name an AMI that has it", c.Engine, pkg.what, names(stock), pkg.what, pkg.fix)}
}

// missingFlambe: anything but a !Script runs with the flambe command on
// the orchestrator.
func missingFlambe(c *config.Cluster, r *config.Runnable) []string {
	if r.Kind != config.KindFlambe || c.OrchestratorAMI != "" || setupInstalls(c, flambePackage) || setupListsFlambe(c) {
		return nil
	}
	return []string{fmt.Sprintf("%s runs with the flambe command on the orchestrator, and nothing puts it there: no orchestrator_ami is named (stock Ubuntu 22.04 has no Flambé) and no setup command installs it; name an AMI with Flambé in orchestrator_ami (Flambé 0.4 pins ray==0.7.6 and torch~=1.3.0, built for Python 3.7 and older, not Ubuntu 22.04's 3.10)", r.Tag)}
}

// missingDriver: an accelerator is only used with its driver, which
// sear's default image lacks and which sear cannot see in an AMI before
// launch.
func missingDriver(c *config.Cluster) []string {
	var out []string
	for _, r := range roles(c) {
		m := instanceFamily.FindStringSubmatch(strings.ToLower(r.instanceType))
		if m == nil {
			continue
		}
		a, ok := accelerators[m[1]]
		switch {
		case !ok:
		case r.ami == "" && defaultImageDrives(r.instanceType):
		case r.ami == "" && oldNVIDIA(r.instanceType):
			out = append(out, fmt.Sprintf("%s %s has an NVIDIA GPU older than Turing, which the Deep Learning Base OSS Nvidia Driver GPU AMI that sear launches GPU nodes from does not support, so the launch fails; name an AMI with a driver for it in %s, or choose a newer instance type (g4dn, g5, g6, p4d, p5)", r.typeField, r.instanceType, r.amiField))
		case r.ami == "":
			out = append(out, fmt.Sprintf("%s %s has %s, but no %s is named: sear launches stock Ubuntu 22.04, which lacks %s, so the job cannot use it; name an image with it in %s (an AWS Deep Learning AMI, or your own)", r.typeField, r.instanceType, a.what, r.amiField, a.driver, r.amiField))
		case !knownAcceleratedImage(r.ami):
			out = append(out, fmt.Sprintf("%s %s has %s, and %s %s is not an image sear knows to have %s (it cannot look inside an AMI before launch); make sure it does, or the job runs without the accelerator", r.typeField, r.instanceType, a.what, r.amiField, r.ami, a.driver))
		}
	}
	return out
}

// defaultImageDrives says whether the image sear launches for a type when
// the file names no AMI has its driver: for NVIDIA types it is AWS's Deep
// Learning Base OSS Nvidia Driver GPU AMI (cloud/ec2 decides, by the same
// name rule), except for the GPUs that image's open driver does not support.
func defaultImageDrives(instanceType string) bool {
	return ec2.GPUInstanceType(instanceType) && !oldNVIDIA(instanceType)
}

// oldNVIDIA are the types with the K80 (p2), V100 (p3) and M60 (g3) GPUs,
// which the Deep Learning Base OSS Nvidia Driver GPU AMI does not drive (its
// open kernel modules need a Turing or later GPU): a launch without an AMI
// of the user's fails for them.
func oldNVIDIA(instanceType string) bool {
	family, _, _ := strings.Cut(strings.ToLower(instanceType), ".")
	return strings.HasPrefix(family, "p2") || strings.HasPrefix(family, "p3") || strings.HasPrefix(family, "g3")
}

// knownAcceleratedImage would say that an AMI has an accelerator's driver.
// AMI ids differ per region and change with every release, and a plan is
// made offline, so sear knows of none: every AMI named for an accelerated
// type gets the warning that asks the user to make sure.
func knownAcceleratedImage(string) bool { return false }

// pkg is a Python package a node needs, as setup commands name it.
type pkg struct {
	what  string
	names func(name, extras string) bool // whether a requirement's name and extras are it
	fix   string                         // a setup command that installs it on stock Ubuntu
}

var enginePackages = map[config.Engine]pkg{
	config.EngineDask: {
		what: "Dask's distributed package",
		names: func(n, x string) bool {
			return n == "distributed" || n == "python3-distributed" || n == "dask" && (strings.Contains(x, "distributed") || strings.Contains(x, "complete"))
		},
		fix: "\"sudo apt-get update && sudo apt-get install -y python3-distributed\"",
	},
	config.EngineRay: {
		what:  "Ray",
		names: func(n, _ string) bool { return n == "ray" },
		fix:   "\"sudo apt-get update && sudo apt-get install -y python3-pip && python3 -m pip install --user 'ray[default]'\"",
	},
}

var flambePackage = pkg{what: "Flambé", names: func(n, _ string) bool { return n == "flambe" }}

// installers are the words of a command that installs packages.
var installers = map[string]bool{"pip": true, "pip3": true, "apt": true, "apt-get": true, "conda": true, "mamba": true, "micromamba": true, "uv": true}

// setupInstalls says whether a setup command installs p, or may: sear
// cannot read what a requirements file or a local project pulls in, so a
// pip install of one gets the benefit of the doubt.
func setupInstalls(c *config.Cluster, p pkg) bool {
	for _, cmd := range c.SetupCmds {
		w := words(cmd)
		if !installs(w) {
			continue
		}
		for _, word := range w {
			if word == "-r" || word == "--requirement" || word == "-e" || word == "--editable" || word == "." {
				return true
			}
			name, extras := requirement(word)
			if p.names(name, extras) {
				return true
			}
		}
	}
	return false
}

// setupMakesPython: with the cluster's setup: field, sear makes a venv on
// every node with pip and the engine's packages (docs/node-environment.md),
// so neither pip nor the engine is missing.
func setupMakesPython(c *config.Cluster) bool { return c.Setup != nil }

// setupListsFlambe says whether the setup: field installs Flambé, or may
// (a requirements file, which sear cannot read offline).
func setupListsFlambe(c *config.Cluster) bool {
	if c.Setup == nil {
		return false
	}
	if c.Setup.Requirements != "" {
		return true
	}
	for _, p := range c.Setup.Packages {
		if name, extras := requirement(strings.ToLower(p)); flambePackage.names(name, extras) {
			return true
		}
	}
	return false
}

// words splits a shell command into lower-case words, without quotes;
// operators (&&, ;, |) end up as words of their own or at a word's edge,
// and are trimmed.
func words(cmd string) []string {
	f := strings.FieldsFunc(strings.ToLower(cmd), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == ';' || r == '&' || r == '|' || r == '(' || r == ')'
	})
	for i, w := range f {
		f[i] = strings.Trim(w, `"'`)
	}
	return f
}

func installs(w []string) bool {
	var installer, install bool
	for _, word := range w {
		installer = installer || installers[word]
		install = install || word == "install"
	}
	return installer && install
}

func runsPip(w []string) bool {
	for _, word := range w {
		if word == "pip" || word == "pip3" {
			return true
		}
	}
	return false
}

// installsPip: apt's python3-pip, or Python's own ensurepip or get-pip.py.
func installsPip(w []string) bool {
	for _, word := range w {
		if word == "ensurepip" || strings.HasSuffix(word, "get-pip.py") {
			return true
		}
		if name, _ := requirement(word); name == "python3-pip" && installs(w) {
			return true
		}
	}
	return false
}

// requirement is a pip requirement's (or apt package's) name and extras:
// "ray[default]==2.9" is "ray" and "default".
func requirement(word string) (name, extras string) {
	if i := strings.IndexAny(word, "=<>~!;@ "); i >= 0 {
		word = word[:i]
	}
	name, extras, _ = strings.Cut(word, "[")
	return strings.ReplaceAll(name, "_", "-"), strings.TrimSuffix(extras, "]")
}
