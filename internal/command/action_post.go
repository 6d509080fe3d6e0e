package command

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/redact"
)

// sweepTimeout bounds a sweep, which once started is not cut short by a
// signal: half a run's instances terminated and its group left behind
// would help no one.
const sweepTimeout = 15 * time.Minute

// runActionPost is the action's post step, the second layer of teardown:
// it deletes everything tagged with the main step's cluster id, with
// fresh credentials (the main step's may have expired, or died with it).
// Only that step's: the run id is every job's of the workflow run, and
// the other jobs' clusters may still be working. A run that launched
// nothing, or ran on the local cluster, has nothing to sweep.
func runActionPost(ctx context.Context, s streams) int {
	log := action.NewLog(s.stdout, s.env)
	s = fenced(s, log)
	state := s.runner.State
	if state.ClusterID == "" || state.ClusterKind != string(config.AWS) {
		fmt.Fprintln(s.stdout, "sear: the main step launched nothing in AWS; nothing to sweep")
		return ExitOK
	}
	in, _ := action.ReadStepInputs(s.env) // the main step reported any problem
	a := awsFlags{roleARN: in.RoleARN, region: state.Region, duration: in.RoleDuration, mask: func(v string) { log.Mask([]string{v}) }}
	if a.region == "" {
		a.region = in.Region
	}
	targets := []sweepTarget{{ec2.SweepOptions{ClusterID: state.ClusterID, Repository: s.runner.Repository}, "cluster " + state.ClusterID}}
	if id := state.RetryClusterID; id != "" {
		// spot_retry's on-demand cluster, launched or not.
		targets = append(targets, sweepTarget{ec2.SweepOptions{ClusterID: id, Repository: s.runner.Repository}, "cluster " + id})
	}
	return sweep(ctx, s, log, a, targets...)
}

// sweepExpired is the action on a schedule: `sear sweep --expired`, the
// fourth layer of teardown.
func (a *actionStep) sweepExpired(ctx context.Context) int {
	f := awsFlags{roleARN: a.in.RoleARN, region: a.in.Region, duration: a.in.RoleDuration, mask: func(v string) { a.log.Mask([]string{v}) }}
	return sweep(ctx, a.s, a.log, f, sweepTarget{ec2.SweepOptions{Expired: true, Repository: a.s.runner.Repository}, "runs past their sear:expires-at"})
}

// sweepTarget is what one sweep deletes, and how the log names it.
type sweepTarget struct {
	opts ec2.SweepOptions
	what string
}

// sweep deletes what each target selects, with one set of credentials and
// within one sweepTimeout, and reports what it did; anything left fails
// the step with the commands that delete it.
func sweep(ctx context.Context, s streams, log *action.Log, a awsFlags, targets ...sweepTarget) int {
	// EC2's answers (tags, error messages) are text sear did not write.
	defer log.Fence()()
	out := redact.NewWriter(s.stdout, nil)
	defer out.Flush()
	cfg, err := a.config(ctx, s, out, "")
	if err != nil {
		whats := make([]string, len(targets))
		for i, t := range targets {
			whats[i] = t.what
		}
		log.Error(fmt.Sprintf("sear could not get AWS credentials to sweep %s: %s", strings.Join(whats, " and "), redact.String(err.Error(), out.Secrets())))
		return ExitFailure
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sweepTimeout)
	defer cancel()
	code := ExitOK
	for _, t := range targets {
		t.opts.Log = out
		res, err := ec2.Sweep(sctx, cfg, t.opts)
		out.Flush()
		fmt.Fprintf(out, "sear: swept %s: %d instance(s) and %d security group(s) in %s\n", t.what, len(res.Instances), len(res.SecurityGroups), res.Region)
		out.Flush()
		if err != nil {
			log.Error(fmt.Sprintf("sear could not sweep %s: %s", t.what, redact.String(err.Error(), out.Secrets())))
			code = ExitFailure
		}
	}
	return code
}
