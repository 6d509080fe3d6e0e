package command

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/awsauth"
	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/cloud/local"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/redact"
	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/run"
)

// runFlags are sear run's flags.
type runFlags struct {
	in                               inputFlags
	workspace, outputDir, reportFile string
	command                          string
	maxDuration                      maxDuration
	aws                              awsFlags
}

// runFlagSet defines sear run's flags. --command and --max-duration are
// the action's command and max-duration inputs, with the same meaning.
func runFlagSet() (*flag.FlagSet, *runFlags) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f := &runFlags{}
	f.in.register(fs)
	fs.StringVar(&f.workspace, "workspace", ".", "the `DIR` uploaded as the job's working directory")
	fs.StringVar(&f.outputDir, "output-dir", "sear-output", "the `DIR` on this machine the job's outputs land in")
	fs.StringVar(&f.reportFile, "report-file", "", "write the run's report (the step summary's markdown) to this `FILE`")
	fs.StringVar(&f.command, "command", "", "run this shell `COMMAND` (sh -c) on the orchestrator instead of the runnable's; "+
		"it still gets the cluster, the secrets INI and the job's environment")
	fs.Var(&f.maxDuration, "max-duration", "stop the job after this `DURATION`, such as 90m or 2h, overriding the cluster file's max_duration; "+
		"the job is reported as timed out")
	f.aws.register(fs, "the AWS `REGION` (default: the cluster file's region_name, then AWS_REGION)")
	return fs, f
}

// maxDuration is --max-duration, read as the action reads its input.
type maxDuration time.Duration

func (d *maxDuration) String() string {
	if *d == 0 {
		return ""
	}
	return time.Duration(*d).String()
}

func (d *maxDuration) Set(s string) error {
	v, err := action.ParseMaxDuration(s)
	if err != nil {
		return err
	}
	*d = maxDuration(v)
	return nil
}

func runRun(ctx context.Context, s streams, args []string) int {
	fs, f := runFlagSet()
	loaded, code, ok := f.in.parse(fs, s, args)
	if !ok {
		return code
	}
	if f.maxDuration > 0 {
		loaded.cluster.MaxDuration = time.Duration(f.maxDuration)
	}
	// Before anything is launched, as the action does: max_cost is the
	// worst case the user accepts.
	if err := checkBudget(loaded.cluster, regionOf(loaded.cluster, f.aws, s.env), 0); err != nil {
		fmt.Fprintln(s.stderr, pretty(err))
		return ExitFailure
	}
	x := newExecution(s, loaded, s.stdout, f.in.runnable)
	defer x.out.Flush()
	if sh := secretsShape(loaded); sh != nil {
		fmt.Fprintf(x.out, "sear: %s\n", sh.Summary())
	}
	x.aws, x.workspace, x.outputDir, x.command = f.aws, f.workspace, f.outputDir, f.command
	x.tracker.update(func(r *report.Run) {
		r.Projected = projection(loaded.cluster, regionOf(loaded.cluster, x.aws, s.env), 0)
	})
	r, res, err := x.execute(ctx)
	summary(x.out, loaded.cluster, res, f.outputDir)
	code = ExitOK
	if err != nil {
		x.fail("sear run", err)
		code = ExitFailure
	}
	if f.reportFile != "" {
		if werr := os.WriteFile(f.reportFile, []byte(report.StepSummary(r)), 0o644); werr != nil {
			fmt.Fprintf(s.stderr, "sear run: write the report: %v\n", werr)
			code = ExitFailure
		}
	}
	return code
}

// runID names this run on every resource it creates (tag sear:run-id),
// so `sear sweep --run-id` finds them. In a workflow it is the run and its
// attempt, unique per repository and shared by every job of the attempt
// (which is why the post step sweeps by the cluster id instead:
// docs/design.md, "Tags"); elsewhere a random one, printed by the run.
func runID(r action.Runner) string {
	if r.RunID != "" {
		if r.RunAttempt != "" {
			return r.RunID + "-" + r.RunAttempt
		}
		return r.RunID
	}
	b := make([]byte, 6)
	rand.Read(b)
	return "local-" + hex.EncodeToString(b)
}

// awsFlags are how a command gets AWS credentials.
type awsFlags struct {
	roleARN string
	region  string
	// duration is how long role credentials last; zero is STS's default.
	duration time.Duration
	// mask, if set, also gets each credential (the action issues
	// ::add-mask:: with it).
	mask func(string)
}

// register defines the AWS flags; where the region comes from without
// --region depends on the command, and regionUsage says it.
func (a *awsFlags) register(fs *flag.FlagSet, regionUsage string) {
	fs.StringVar(&a.roleARN, "aws-role-arn", "", "assume the IAM role with this `ARN` with the workflow's OIDC token (default: the AWS SDK's credential chain)")
	fs.StringVar(&a.region, "region", "", regionUsage)
}

// awsConfig gets credentials, masking them in out as soon as they exist.
func (a awsFlags) config(ctx context.Context, s streams, out *redact.Writer, region string) (aws.Config, error) {
	if a.region != "" {
		region = a.region
	}
	mask := out.Add
	if a.mask != nil {
		mask = func(v string) { out.Add(v); a.mask(v) }
	}
	return awsauth.Config(ctx, awsauth.Options{Region: region, RoleARN: a.roleARN, Duration: a.duration, Getenv: s.env, Mask: mask})
}

// providerFor picks where the nodes live from the cluster file's tag.
// Once the credentials exist, configured sees them before anything is
// launched (the live price check); its error ends the run.
func providerFor(ctx context.Context, c *config.Cluster, a awsFlags, s streams, out *redact.Writer, runID string,
	configured func(context.Context, aws.Config) error) (cloud.Provider, error) {
	if c.Kind == config.Local {
		if a.roleARN != "" || a.region != "" {
			fmt.Fprintf(s.stderr, "warning: %s is a !LocalCluster: --aws-role-arn and --region are not used\n", c.File)
		}
		return local.New(), nil
	}
	cfg, err := a.config(ctx, s, out, c.RegionName)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "sear: run %s in %s\n", runID, cfg.Region)
	if err := configured(ctx, cfg); err != nil {
		return nil, err
	}
	return ec2Provider(cfg, s, out), nil
}

// ec2Provider is the EC2 provider for credentials cfg: one per cluster,
// since a provider tears down what it launched and launches no more.
func ec2Provider(cfg aws.Config, s streams, out *redact.Writer) cloud.Provider {
	creator := s.runner.Actor
	if creator == "" {
		creator = s.env("USER")
	}
	return ec2.New(cfg, ec2.Options{Log: out, CheckIPURL: s.env("SEAR_CHECKIP_URL"), Creator: creator})
}

// summary prints the verdict, the phases and the metrics.
func summary(w io.Writer, c *config.Cluster, res *run.Result, outputDir string) {
	if res == nil {
		return
	}
	verdict := "succeeded"
	switch {
	case res.OverBudget:
		verdict = fmt.Sprintf("stopped over budget (about $%.2f so far)", res.SpentUSD)
	case res.TimedOut:
		verdict = "timed out"
	case res.ExitStatus > 0:
		verdict = fmt.Sprintf("failed (exit status %d)", res.ExitStatus)
	case res.ExitStatus < 0:
		verdict = "did not finish"
	}
	fmt.Fprintf(w, "\nsear: job %s in %s on %d node(s) of %q (cluster %s)\n", verdict, res.Duration.Round(1e7), len(res.Nodes), c.Name, res.ClusterID)
	var phases []string
	for _, p := range res.Phases {
		if !p.Cleanup {
			phases = append(phases, fmt.Sprintf("%s %s", p.Name, p.Duration.Round(1e6)))
		}
	}
	fmt.Fprintf(w, "sear: phases: %s\n", strings.Join(phases, ", "))
	for _, name := range res.Metrics.Names() {
		m := res.Metrics[name]
		if v, ok := m.Last(); ok {
			if len(m.Series) > 0 {
				fmt.Fprintf(w, "sear: metric %-20s %g (last of %d)\n", name, v, len(m.Series))
			} else {
				fmt.Fprintf(w, "sear: metric %-20s %g\n", name, v)
			}
		}
	}
	if len(res.Outputs) > 0 {
		abs, err := filepath.Abs(outputDir)
		if err != nil {
			abs = outputDir
		}
		fmt.Fprintf(w, "sear: %d output file(s) in %s\n", len(res.Outputs), abs)
	}
}

// serverURL is the workflow's GitHub host, the only one the token is sent
// to when cloning extensions.
func serverURL(r action.Runner) string {
	if r.ServerURL != "" {
		return r.ServerURL
	}
	return "https://github.com"
}
