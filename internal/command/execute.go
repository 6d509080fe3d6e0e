package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/pipeline"
	"github.com/sear-ci/sear/internal/redact"
	"github.com/sear-ci/sear/internal/report"
	"github.com/sear-ci/sear/internal/run"
)

// logTailLines is how much of the job's log a report keeps: the step
// summary shows all of it, the check run and the comment fewer.
const logTailLines = 500

// execution is one run of loaded inputs, shared by `sear run` and
// `sear action`: the masking writer everything goes through, the report
// that follows the phases, and the job's log tail.
type execution struct {
	s       streams
	loaded  *loadedFiles
	out     *redact.Writer
	tail    *logTail
	tracker *tracker
	aws     awsFlags
	runID   string
	// clusterID, if set, is the cluster's id, chosen before the run so
	// that the action's post step can sweep this step's cluster alone;
	// retryClusterID likewise for spot_retry's on-demand cluster.
	clusterID, retryClusterID string
	// cfg is the role's credentials once providerFor has them (AWS only).
	cfg       aws.Config
	workspace string
	outputDir string
	// outputBase, if set, is the directory outputDir must be inside with
	// no symlink on the way (the action's workspace: a pull request fills
	// it); maxOutputBytes and maxOutputFiles cap the outputs, zero for
	// the run's defaults.
	outputBase     string
	maxOutputBytes int64
	maxOutputFiles int
	// command replaces the runnable's command (the action's command input).
	command string
	// maxCost overrides the cluster's max_cost (the action's max-cost
	// input); zero for the file's.
	maxCost float64
	// prices are the prices the run was checked with once it had
	// credentials (live_prices); nil for the offline table.
	prices *report.PriceTable
	// gitToken clones the runnable's extensions from the workflow's host.
	gitToken string
	// observe, if set, sees each event before the report does (the action
	// opens and closes log groups with it).
	observe func(pipeline.Event)
}

// newExecution masks the secrets in everything written to stdout from
// now on and starts the report of runnable name.
func newExecution(s streams, loaded *loadedFiles, stdout io.Writer, name string) *execution {
	var mask []string
	if loaded.secrets != nil {
		mask = loaded.secrets.Mask
	}
	tail := newLogTail(logTailLines)
	out := redact.NewWriter(io.MultiWriter(stdout, tail), mask)
	x := &execution{s: s, loaded: loaded, out: out, tail: tail, runID: runID(s.runner), gitToken: s.runner.Token}
	x.tracker = newTracker(report.Run{Runnable: name, Verdict: report.Running, TLSOff: !loaded.cluster.TLS}, x.maskString)
	x.tracker.secrets = x.out.Secrets
	return x
}

func (x *execution) maskString(s string) string { return redact.String(s, x.out.Secrets()) }

// execute brings the cluster up, runs the job and tears down. It returns
// the finished report with the result; err is the run's error, already
// in the report.
func (x *execution) execute(ctx context.Context) (report.Run, *run.Result, error) {
	c := x.loaded.cluster
	provider, err := providerFor(ctx, c, x.aws, x.s, x.out, x.runID, x.configured)
	if err != nil {
		return x.tracker.finish(ctx, c, nil, err, x.tail), nil, err
	}
	if c.Kind == config.AWS {
		x.tracker.update(func(r *report.Run) { r.Region = regionOf(c, x.aws, x.s.env) })
	}
	var saved string
	if c.SpotRetry != "" {
		if saved, err = os.MkdirTemp("", "sear-checkpoint-"); err != nil {
			return x.tracker.finish(ctx, c, nil, err, x.tail), nil, fmt.Errorf("make a directory for the job's checkpoint: %w", err)
		}
		defer os.RemoveAll(saved)
	}
	res, err := x.runOn(ctx, c, provider, x.clusterID, run.Options{SaveCheckpoint: saved}, 0)
	retry := x.retryOnDemand(ctx, c, res, err)
	if retry == nil {
		return x.tracker.finish(ctx, c, res, err, x.tail), res, err
	}
	// The retry's provider has the first's credentials (the role is not
	// assumed again), and the first cluster's time counts against a
	// max_cost_mode: expected budget too.
	first := res
	x.tracker.update(func(r *report.Run) {
		r.Retry = &report.Retry{ClusterID: first.ClusterID, CheckpointFiles: first.CheckpointFiles,
			Nodes: withUptime(reportNodes(first.Nodes), first.Duration)}
	})
	res, err = x.runOn(ctx, retry, ec2Provider(x.cfg, x.s, x.out), x.retryClusterID, run.Options{RestoreCheckpoint: saved}, first.Duration)
	res.Interruptions = append(first.Interruptions, res.Interruptions...)
	r := x.tracker.finish(ctx, retry, res, err, x.tail)
	// The report is the whole run's: both clusters' time.
	r.Started, r.Duration = first.Started, res.Started.Add(res.Duration).Sub(first.Started)
	return r, res, err
}

// configured is providerFor's hook once the role's credentials exist:
// they are kept for spot_retry's second cluster, and the live prices are
// checked.
func (x *execution) configured(ctx context.Context, cfg aws.Config) error {
	x.cfg = cfg
	return x.reprice(ctx, cfg)
}

// runOn runs the job on c with provider, as cluster clusterID ("" for a
// new id), with what opts adds; spentBefore is how long an earlier cluster
// of this run was up (the spot cluster a retry follows), which the spend
// limit counts.
func (x *execution) runOn(ctx context.Context, c *config.Cluster, provider cloud.Provider, clusterID string, opts run.Options,
	spentBefore time.Duration) (*run.Result, error) {
	var ini []byte
	if x.loaded.secrets != nil {
		ini = x.loaded.secrets.INI
	}
	res, err := run.Run(ctx, run.Options{
		Runnable: x.loaded.runnable, Cluster: c, SecretsINI: ini,
		Workspace: x.workspace, OutputDir: x.outputDir, RunID: x.runID, ClusterID: clusterID,
		Repository: repository("", x.s.runner), Provider: provider, Command: x.command, Log: x.out, Abandon: x.s.abandon,
		GitToken: x.gitToken, GitTokenHost: serverURL(x.s.runner), SSHAgentSocket: x.s.env("SSH_AUTH_SOCK"),
		Observe:    x.observeEvent,
		OutputBase: x.outputBase, MaxOutputBytes: x.maxOutputBytes, MaxOutputFiles: x.maxOutputFiles,
		Spend:          x.spendLimit(regionOf(c, x.aws, x.s.env), spentBefore),
		SaveCheckpoint: opts.SaveCheckpoint, RestoreCheckpoint: opts.RestoreCheckpoint,
	})
	x.out.Flush()
	return res, err
}

// retryOnDemand is the cluster to run the job again on when spot_retry
// asks for it: c on on-demand nodes. Only a job that a spot interruption
// ended is retried, once, and only when the first cluster's teardown left
// nothing behind (else the report must say what is left, and a second
// cluster would add to it) and the run was not cancelled.
func (x *execution) retryOnDemand(ctx context.Context, c *config.Cluster, res *run.Result, err error) *config.Cluster {
	var left cloud.LeftoverError
	if c.SpotRetry != config.SpotRetryOnDemand || ctx.Err() != nil || !errors.Is(err, run.ErrSpotInterrupted) || errors.As(err, &left) {
		return nil
	}
	// A job that a limit stopped while a notice was out would be stopped
	// again: max_duration is the retry's too, and the budget is spent.
	if res.OverBudget || res.TimedOut || errors.Is(err, run.ErrOverBudget) || errors.Is(err, run.ErrTimedOut) {
		return nil
	}
	if l := x.spendLimit(regionOf(c, x.aws, x.s.env), res.Duration); l != nil && l.After <= 0 {
		fmt.Fprintf(x.out, "sear: a spot interruption ended the job; spot_retry: no retry, as the first cluster has spent what max_cost leaves (max_cost_mode: expected)\n")
		return nil
	}
	fmt.Fprintf(x.out, "sear: a spot interruption ended the job (%v); spot_retry: running it once more on on-demand nodes\n", firstLine(x.maskString(err.Error())))
	retry := *c
	retry.Spot, retry.SpotRetry = false, ""
	return &retry
}

// observeEvent keeps the job's log tail while the job runs, then lets the
// caller and the report see the event.
func (x *execution) observeEvent(e pipeline.Event) {
	if e.Step == run.StepJob && e.Phase == pipeline.PhaseRun {
		x.out.Flush()
		x.tail.record(!e.Done)
	}
	if x.observe != nil {
		x.observe(e)
	}
	x.tracker.observe(e)
}

// fail prints a run's error, masked, with the way to clean up after it.
func (x *execution) fail(prefix string, err error) {
	fmt.Fprintf(x.s.stderr, "%s: %s\n", prefix, x.maskString(err.Error()))
	switch {
	case x.loaded.cluster.Kind != config.AWS:
	case x.clusterID != "":
		// In a workflow, every job of the run shares the run id: sweeping
		// by it would end the other jobs' clusters too.
		fmt.Fprintf(x.s.stderr, "%s: if anything of cluster %s outlived this, `sear sweep --cluster-id %s` deletes it\n", prefix, x.clusterID, x.clusterID)
	default:
		fmt.Fprintf(x.s.stderr, "%s: if anything of run %s outlived this, `sear sweep --run-id %s` deletes it\n", prefix, x.runID, x.runID)
	}
}

// regionOf is the region a run's cluster is in, as the provider picks it:
// the flag, the cluster file's region_name, then the environment.
func regionOf(c *config.Cluster, a awsFlags, env Env) string {
	switch {
	case a.region != "":
		return a.region
	case c.RegionName != "":
		return c.RegionName
	}
	return region(env)
}
