package command

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/redact"
)

// runSweep deletes what earlier runs left behind, found by tag: layer 4
// of teardown (--expired, safe on a schedule) and the tool behind layer 2
// (--run-id, the action's post step).
func runSweep(ctx context.Context, s streams, args []string) int {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	var a awsFlags
	a.register(fs)
	id := fs.String("run-id", "", "delete what the run with this id created, every cluster of it (sear run prints it)")
	cluster := fs.String("cluster-id", "", "delete what one cluster created (sear-…, in the log and the report)")
	expired := fs.Bool("expired", false, "delete what any run left past its sear:expires-at")
	dryRun := fs.Bool("dry-run", false, "list what would be deleted; delete nothing")
	repo := fs.String("repository", "", "only what runs of this OWNER/REPO created (tag sear:repository); default every repository")
	if code, ok := parseFlags(fs, s, args); !ok {
		return code
	}
	if n := btoi(*id != "") + btoi(*cluster != "") + btoi(*expired); n != 1 {
		fmt.Fprintln(s.stderr, "sear sweep: give --run-id ID, --cluster-id ID or --expired (one of them)")
		fs.Usage()
		return ExitUsage
	}
	out := redact.NewWriter(s.stdout, nil)
	defer out.Flush()
	cfg, err := a.config(ctx, s, out, "")
	if err != nil {
		fmt.Fprintf(s.stderr, "sear sweep: %s\n", redact.String(err.Error(), out.Secrets()))
		return ExitFailure
	}
	// Like a teardown, a sweep that started finishes: a signal must not
	// leave half the run's instances terminated and its group behind.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
	defer cancel()
	res, err := ec2.Sweep(sctx, cfg, ec2.SweepOptions{RunID: *id, ClusterID: *cluster, Expired: *expired, DryRun: *dryRun, Repository: *repo, Log: out})
	out.Flush()
	verb := "deleted"
	if *dryRun {
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
