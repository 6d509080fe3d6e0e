package command

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/redact"
)

// sweepFlags are sear sweep's flags.
type sweepFlags struct {
	aws              awsFlags
	runID, clusterID string
	expired, dryRun  bool
	repository       string
}

// sweepFlagSet defines sear sweep's flags.
func sweepFlagSet() (*flag.FlagSet, *sweepFlags) {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	f := &sweepFlags{}
	// A sweep reads no cluster file: the region is the flag's or the
	// AWS SDK's, and one sweep covers one region.
	f.aws.register(fs, "the AWS `REGION` to sweep (default: AWS_REGION, then the AWS profile's region)")
	fs.StringVar(&f.runID, "run-id", "", "delete what the run with this `ID` created, every cluster of it (sear run prints it)")
	fs.StringVar(&f.clusterID, "cluster-id", "", "delete what the cluster with this `ID` created (sear-..., in the log and the report)")
	fs.BoolVar(&f.expired, "expired", false, "delete what any run left past its sear:expires-at")
	fs.BoolVar(&f.dryRun, "dry-run", false, "list what would be deleted; delete nothing")
	fs.StringVar(&f.repository, "repository", "", "only what runs of this `OWNER/REPO` created (tag sear:repository); default every repository")
	return fs, f
}

// runSweep deletes what earlier runs left behind, found by tag: layer 4
// of teardown (--expired, safe on a schedule), one run's clusters
// (--run-id), or one cluster (--cluster-id, what the action's post step,
// layer 2, sweeps by; docs/design.md, "Teardown in four layers").
func runSweep(ctx context.Context, s streams, args []string) int {
	fs, f := sweepFlagSet()
	if code, ok := parseFlags(fs, s, args); !ok {
		return code
	}
	if n := btoi(f.runID != "") + btoi(f.clusterID != "") + btoi(f.expired); n != 1 {
		fmt.Fprintln(s.stderr, "sear sweep: give --run-id ID, --cluster-id ID or --expired (one of them)")
		fs.Usage()
		return ExitUsage
	}
	out := redact.NewWriter(s.stdout, nil)
	defer out.Flush()
	cfg, err := f.aws.config(ctx, s, out, "")
	if err != nil {
		fmt.Fprintf(s.stderr, "sear sweep: %s\n", redact.String(err.Error(), out.Secrets()))
		return ExitFailure
	}
	// Like a teardown, a sweep that started finishes: a signal must not
	// leave half the run's instances terminated and its group behind.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
	defer cancel()
	res, err := ec2.Sweep(sctx, cfg, ec2.SweepOptions{RunID: f.runID, ClusterID: f.clusterID, Expired: f.expired, DryRun: f.dryRun, Repository: f.repository, Log: out})
	out.Flush()
	verb := "deleted"
	if f.dryRun {
		verb = "would delete"
	}
	fmt.Fprintf(out, "sear sweep: %s %d instance(s) and %d security group(s) in %s\n", verb, len(res.Instances), len(res.SecurityGroups), res.Region)
	if err != nil {
		fmt.Fprintf(s.stderr, "sear sweep: %s\n", redact.String(err.Error(), out.Secrets()))
		return ExitFailure
	}
	return ExitOK
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
