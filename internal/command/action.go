package command

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/pipeline"
	"github.com/sear-ci/sear/internal/plan"
	"github.com/sear-ci/sear/internal/report"
	ghreport "github.com/sear-ci/sear/internal/report/github"
	"github.com/sear-ci/sear/internal/secrets"
)

// reportTimeout bounds the report's last calls to GitHub after the run:
// they happen after a signal too, and must not hold the step past the
// runner's patience (it kills the container 10 s after its SIGINT, and the
// post step sweeps whatever that leaves).
const reportTimeout = 90 * time.Second

// runAction is the action's main step: `sear action`, run by the image's
// sear-action entry point. Every input comes from the step's `with:`.
func runAction(ctx context.Context, s streams, args []string) int {
	if wantsHelp(args) {
		return help(s, "action")
	}
	if len(args) == 1 && args[0] == "post" {
		return runActionPost(ctx, s)
	}
	if len(args) > 0 {
		fmt.Fprintf(s.stderr, "sear action: unexpected argument %q: `sear action` and `sear action post` take their inputs from the step's `with:`\n", args[0])
		return ExitUsage
	}
	log := action.NewLog(s.stdout, s.env)
	a := &actionStep{s: fenced(s, log), log: log}
	if !a.prepare() {
		return ExitFailure
	}
	if a.in.SweepExpired {
		return a.sweepExpired(ctx)
	}
	return a.run(ctx)
}

// fenced routes a step's stdout and stderr through log, one stream: the
// runner reads its two pipes separately, so a fence on stdout would say
// nothing about where a line on stderr falls.
func fenced(s streams, log *action.Log) streams {
	s.stdout, s.stderr = log.Output(), log.Output()
	return s
}

// actionStep is one main step of the action.
type actionStep struct {
	s         streams
	log       *action.Log
	in        action.StepInputs
	event     action.Event
	secrets   *secrets.File
	workspace string
	reporter  *ghreport.Reporter
	runnable  string // the runnable's path in the repository, its name in reports
	cluster   string // the cluster file's path in the repository
}

// prepare reads the inputs, the secrets and the event, masking the
// secrets before anything else is printed. Every problem is reported.
func (a *actionStep) prepare() bool {
	in, err := action.ReadStepInputs(a.s.env)
	a.in = in
	var problems []string
	if err != nil {
		var ie *action.InputError
		if errors.As(err, &ie) {
			problems = append(problems, ie.Problems...)
		} else {
			problems = append(problems, err.Error())
		}
	}
	if in.Secrets != "" {
		f, err := convertSecrets([]byte(in.Secrets), "the `secrets` input", in.SecretsSection, in.SecretsInclude)
		if f != nil {
			a.log.Mask(f.Mask)
		}
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			for _, w := range f.Warnings {
				a.log.Warning(w)
			}
			names := secretNames([]byte(in.Secrets), in.SecretsSection, f)
			fmt.Fprintf(a.s.stdout, "sear: %s\n", plan.SecretsShape(nil, names, len(in.SecretsInclude) == 0).Summary())
		}
		a.secrets = f
	}
	if a.workspace = a.s.runner.Workspace; a.workspace == "" {
		problems = append(problems, action.ErrNoWorkspace.Error())
	}
	if a.event, err = action.ReadEvent(a.s.runner); err != nil {
		problems = append(problems, err.Error())
	}
	for _, p := range problems {
		a.log.Error(p)
	}
	a.runnable, a.cluster = path.Join(in.WorkingDirectory, in.Runnable), path.Join(in.WorkingDirectory, in.Cluster)
	return len(problems) == 0
}

func (a *actionStep) run(ctx context.Context) int {
	a.reporter = a.newReporter()
	base := report.Run{Runnable: a.runnable, Commit: a.event.HeadSHA, Verdict: report.Running, Started: time.Now(),
		Links: report.Links{Workflow: a.s.runner.WorkflowURL(), Log: a.s.runner.WorkflowURL()}}
	if a.event.Fork && !a.in.AllowForks {
		base.Verdict = report.ActionRequired
		base.Reason = fmt.Sprintf("pull request #%d comes from the fork %s, and this workflow does not allow fork pull requests "+
			"(`allow-fork-pull-requests: true`): a fork's code would run with the repository's cloud role and secrets. Nothing was launched.",
			a.event.PullRequest, orUnknown(a.event.HeadRepo))
		a.log.Error(base.Reason)
		return a.conclude(ctx, base)
	}
	loaded, cerrs := a.load()
	if len(cerrs) > 0 {
		base.Verdict, base.ConfigErrors = report.BadConfig, cerrs
		base.Reason = fmt.Sprintf("%d problem(s) in the configuration; nothing was launched", len(cerrs))
		a.log.Annotate(annotations(cerrs))
		return a.conclude(ctx, base)
	}
	if c := loaded.cluster; !c.TLS && c.Engine != config.EngineNone {
		a.log.Warning(fmt.Sprintf("%s has tls: false: the %s traffic between the nodes is neither encrypted nor authenticated; use it only for troubleshooting", a.cluster, c.Engine))
	}
	x := newExecution(a.s, loaded, a.s.stdout, a.runnable)
	x.tracker.update(func(r *report.Run) { r.Commit, r.Links, r.Started = base.Commit, base.Links, base.Started })
	x.aws = awsFlags{roleARN: a.in.RoleARN, region: a.in.Region, duration: a.in.RoleDuration, mask: func(v string) { a.log.Mask([]string{v}) }}
	x.tracker.update(func(r *report.Run) {
		r.Projected = projection(loaded.cluster, regionOf(loaded.cluster, x.aws, a.s.env), a.in.MaxCost)
	})
	x.gitToken, x.command, x.maxCost = a.in.Token, a.in.Command, a.in.MaxCost
	x.workspace = filepath.Join(a.workspace, filepath.FromSlash(a.in.WorkingDirectory))
	x.outputDir = filepath.Join(a.workspace, filepath.FromSlash(a.in.OutputDir))
	x.outputBase = a.workspace
	x.maxOutputBytes, x.maxOutputFiles = a.in.MaxOutputBytes, a.in.MaxOutputFiles
	// The post step sweeps by the cluster's id with fresh credentials,
	// whatever happens to this process from here on. Not by the run id:
	// every job of a workflow run (a matrix's, a rerun's other jobs)
	// shares it, and one job's post step would end its siblings' clusters.
	var err error
	if x.clusterID, err = keys.NewID(); err != nil {
		a.log.Error(err.Error())
		return ExitFailure
	}
	if loaded.cluster.SpotRetry != "" {
		if x.retryClusterID, err = keys.NewID(); err != nil {
			a.log.Error(err.Error())
			return ExitFailure
		}
	}
	if err := a.s.runner.SaveState(action.State{RunID: x.runID, ClusterID: x.clusterID, RetryClusterID: x.retryClusterID,
		ClusterKind: string(loaded.cluster.Kind), Region: regionOf(loaded.cluster, x.aws, a.s.env)}); err != nil {
		a.log.Warning(fmt.Sprintf("sear could not save the cluster id for the post step (%v); if this run is cut short, `sear sweep --cluster-id %s` cleans up after it", err, x.clusterID))
	}
	pub := a.startReport(ctx, x)
	x.observe = a.groups(x)
	r, _, err := x.execute(ctx)
	pub.stop()
	r = a.annotateRunErrors(r, err, x.maskString)
	code := a.conclude(ctx, r)
	if err != nil {
		// The error may quote a node's output (a setup command's stderr).
		end := a.log.Fence()
		x.fail("sear", err)
		end()
		code = ExitFailure
	}
	a.giveOutputsToRunner(x.outputDir)
	return code
}

// load reads the runnable and the cluster files, with the inputs that
// override them. Its errors name the files as the repository does, which
// is what puts an annotation on the pull request's diff.
func (a *actionStep) load() (*loadedFiles, []report.ConfigError) {
	abs := func(p string) string { return filepath.Join(a.workspace, filepath.FromSlash(p)) }
	if out := a.outsideWorkspace(a.runnable, a.cluster); len(out) > 0 {
		return nil, out
	}
	r, c, errs := loadConfig(abs(a.runnable), abs(a.cluster))
	var out []report.ConfigError
	end := a.log.Fence() // the lines quoted are the pull request's
	for _, err := range errs {
		// The log shows each problem with its line and a caret; the
		// annotations put it on the file in the pull request.
		fmt.Fprintln(a.s.stderr, pretty(err))
		out = append(out, configErrors(err, a.workspace)...)
	}
	end()
	if len(out) > 0 {
		return nil, out
	}
	if c.Kind == config.Local {
		// The local cluster's nodes run commands with a shell, and the job
		// with Python, on this machine: the action's image has neither.
		if _, err := exec.LookPath("sh"); err != nil {
			return nil, []report.ConfigError{{File: a.cluster, Line: 1, Message: "a !LocalCluster runs the job on the runner itself with sh and python3, " +
				"which the action's image does not have; use an !AWSCluster here, and !LocalCluster with `sear run` on your machine"}}
		}
	}
	if a.in.MaxDuration > 0 {
		c.MaxDuration = a.in.MaxDuration
	}
	// After max-duration, which the worst case counts; before anything
	// is created, which is the point of a budget.
	if err := checkBudget(c, regionOf(c, awsFlags{region: a.in.Region}, a.s.env), a.in.MaxCost); err != nil {
		end := a.log.Fence()
		fmt.Fprintln(a.s.stderr, pretty(err))
		end()
		return nil, configErrors(err, a.workspace)
	}
	return &loadedFiles{runnable: r, cluster: c, secrets: a.secrets}, nil
}

// outsideWorkspace refuses a configuration file that is, or lies under, a
// symbolic link out of the workspace. The pull request chooses what its
// files link to: a link to a file of the runner's (its environment under
// /proc, a credentials file) would have sear read that file and quote its
// lines in the log and the annotations.
func (a *actionStep) outsideWorkspace(files ...string) []report.ConfigError {
	root, err := filepath.EvalSymlinks(a.workspace)
	if err != nil {
		return []report.ConfigError{{Message: fmt.Sprintf("sear cannot resolve the workspace %s: %v", a.workspace, err)}}
	}
	var out []report.ConfigError
	for _, f := range files {
		real, err := filepath.EvalSymlinks(filepath.Join(a.workspace, filepath.FromSlash(f)))
		if err != nil {
			continue // missing: the loader says so, with the file's name
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			out = append(out, report.ConfigError{File: f, Message: fmt.Sprintf("%s is a symbolic link to a file outside the workspace, "+
				"and sear reads only the repository's own files: commit the file itself in its place", f)})
		}
	}
	return out
}

// configErrors turns a loader's error into report errors whose files are
// relative to the repository's root.
func configErrors(err error, root string) []report.ConfigError {
	rel := func(f string) string {
		if r, err := filepath.Rel(root, f); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
		return f
	}
	var es config.Errors
	var e *config.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &e):
		es = config.Errors{e}
	default:
		return []report.ConfigError{{Message: plan.RedactURLs(err.Error())}}
	}
	out := make([]report.ConfigError, len(es))
	for i, e := range es {
		// An extension's https://user:token@host location is quoted in
		// its errors; annotations and check runs are not masked.
		out[i] = report.ConfigError{File: rel(e.File), Line: e.Line, Column: e.Col, Message: plan.RedactURLs(e.Msg), Source: plan.RedactURLs(e.Source)}
	}
	return out
}

// annotateRunErrors puts the configuration errors a failed run met on
// their file and line, as load does with validation's, and lists them in
// the report: a provider's preflight finds what validation cannot (an
// instance type the region does not offer, a subnet that does not exist)
// and says it as a *config.Error at the field. Their text passes mask,
// since annotations are not masked by the report's renderers.
func (a *actionStep) annotateRunErrors(r report.Run, err error, mask func(string) string) report.Run {
	found := configErrorsIn(err)
	if len(found) == 0 {
		return r
	}
	cerrs := configErrors(found, a.workspace)
	for i := range cerrs {
		cerrs[i].Message, cerrs[i].Source = mask(cerrs[i].Message), mask(cerrs[i].Source)
	}
	r.ConfigErrors = append(r.ConfigErrors, cerrs...)
	a.log.Annotate(annotations(cerrs))
	return r
}

// configErrorsIn are the configuration errors in err's tree, every one:
// errors.As would find the first, and the capacity failover or a joined
// cleanup can carry several.
func configErrorsIn(err error) config.Errors {
	var out config.Errors
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *config.Error:
			out = append(out, e)
		case config.Errors:
			out = append(out, e...)
		case interface{ Unwrap() []error }:
			for _, u := range e.Unwrap() {
				walk(u)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// annotations are the report's configuration errors as the log's
// annotations.
func annotations(errs []report.ConfigError) []action.Annotation {
	out := make([]action.Annotation, len(errs))
	for i, e := range errs {
		out[i] = action.Annotation{File: e.File, Line: e.Line, Column: e.Column, Message: e.Message}
	}
	return out
}

// startReport creates the check run, in progress, before anything costs
// money, and keeps it current as phases pass.
func (a *actionStep) startReport(ctx context.Context, x *execution) *publisher {
	if a.reporter == nil || !a.in.Report.Check {
		return &publisher{}
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.reporter.Start(sctx, x.tracker.snapshot()); err != nil {
		a.log.Warning(fmt.Sprintf("sear could not create the check run: %v", err))
	}
	p := newPublisher(a.reporter)
	x.tracker.changed = p.push
	return p
}

// groups folds each phase of the run into a group of the Actions log, and
// fences each group's content: the job's output, but also the setup
// commands', the engine's and the nodes' error output stream there, and
// no line of theirs may act on the workflow.
func (a *actionStep) groups(x *execution) func(pipeline.Event) {
	end := func() {}
	return func(e pipeline.Event) {
		x.out.Flush()
		title := "sear: " + e.Step
		if e.Phase == pipeline.PhaseCleanup {
			title += " (teardown)"
		}
		if !e.Done {
			a.log.Group(title)
			end = a.log.Fence()
			return
		}
		end()
		a.log.EndGroup()
	}
}

// conclude completes the report everywhere it goes: the check run and the
// comment (as far as GitHub lets it), the step summary and the outputs.
// It returns the exit status for the verdict.
func (a *actionStep) conclude(ctx context.Context, r report.Run) int {
	if r.Duration == 0 && !r.Started.IsZero() {
		r.Duration = time.Since(r.Started)
	}
	if a.reporter != nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
		r2, err := a.finishReport(fctx, r)
		cancel()
		r = r2
		if err != nil {
			a.log.Warning(fmt.Sprintf("sear could not post the whole report to GitHub: %v", err))
		}
	}
	for _, w := range r.Warnings {
		a.log.Warning(w)
	}
	if p := a.s.runner.SummaryFile; p != "" {
		if err := report.AppendStepSummary(p, r); err != nil {
			a.log.Warning(err.Error())
		}
	}
	if p := a.s.runner.OutputFile; p != "" {
		if err := action.WriteOutputs(p, report.Outputs(r)); err != nil {
			a.log.Error(err.Error())
			return ExitFailure
		}
	}
	if r.Verdict == report.Success {
		return ExitOK
	}
	return ExitFailure
}

// finishReport completes the check run and writes the comment, each only
// if the report input asks for it.
func (a *actionStep) finishReport(ctx context.Context, r report.Run) (report.Run, error) {
	if base, err := a.reporter.BaseRun(ctx, r.Runnable); err != nil {
		a.log.Warning(fmt.Sprintf("sear could not read the base branch's run to compare metrics with: %v", err))
	} else {
		r.Base = base
	}
	return a.reporter.Finish(ctx, r)
}

// newReporter is the GitHub reporter, or nil when nothing is to be posted.
func (a *actionStep) newReporter() *ghreport.Reporter {
	if !a.in.Report.Check && !a.in.Report.Comment {
		return nil
	}
	if a.in.Token == "" {
		a.log.Warning("the `github-token` input is empty: sear posts no check run and no comment; the step summary has the report")
		return nil
	}
	client := gh.NewClient(&http.Client{Timeout: 30 * time.Second}).WithAuthToken(a.in.Token)
	if api := a.s.runner.APIURL; api != "" {
		u, err := url.Parse(strings.TrimSuffix(api, "/") + "/")
		if err != nil {
			a.log.Warning(fmt.Sprintf("GITHUB_API_URL %q is not a URL (%v): sear posts no check run and no comment", api, err))
			return nil
		}
		client.BaseURL = u
	}
	pr := a.event.PullRequest
	if !a.in.Report.Comment {
		pr = 0 // Finish writes a comment only for a pull request
	}
	opts := ghreport.Options{Owner: a.event.Owner, Repo: a.event.Repo, HeadSHA: a.event.HeadSHA, PullRequest: pr,
		BaseSHA: a.event.BaseSHA, Fork: a.event.Fork, DetailsURL: a.s.runner.WorkflowURL()}
	opts.NoCheck = !a.in.Report.Check
	rp := ghreport.New(client, opts)
	if pr != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		rp.Identify(ctx)
	}
	return rp
}

// giveOutputsToRunner hands the outputs to the workspace's owner. A Docker
// action runs as root, and the runner's later steps (and its cleanup of
// the workspace) run as the runner's user, which could not remove or
// change root's files.
func (a *actionStep) giveOutputsToRunner(dir string) {
	uid, gid, ok := owner(a.workspace)
	if !ok || os.Geteuid() != 0 || uid == 0 {
		return
	}
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		a.log.Warning(fmt.Sprintf("sear could not give the outputs in %s to the workspace's owner: %v", dir, err))
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(a deleted repository)"
	}
	return s
}
