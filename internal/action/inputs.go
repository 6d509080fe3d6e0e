// Package action is sear's side of the GitHub Actions runner: the step's
// inputs, the event that triggered the workflow, the action's state, and
// the workflow commands that mask, group and annotate the log. It knows
// nothing of clusters; the command package runs sear with what it reads.
package action

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Getenv reads an environment variable.
type Getenv = func(string) string

// StepInputs are the step's `with:` values, as action.yml declares them.
type StepInputs struct {
	Runnable, Cluster string // relative to WorkingDirectory
	// Secrets is a JSON object of secrets; masked before anything else.
	Secrets        string
	SecretsInclude []string
	SecretsSection string
	RoleARN        string
	Region         string
	RoleDuration   time.Duration
	Token          string
	Report         Report
	// Command replaces the runnable's command on the orchestrator.
	Command string
	// MaxDuration overrides the cluster file's max_duration; zero keeps it.
	MaxDuration time.Duration
	// MaxCost overrides the cluster file's max_cost, in US dollars; zero
	// keeps it.
	MaxCost    float64
	AllowForks bool
	// SweepExpired runs `sear sweep --expired` instead of the runnable.
	SweepExpired     bool
	WorkingDirectory string // relative to the workspace, cleaned
	OutputDir        string // relative to the workspace, cleaned
	// MaxOutputBytes and MaxOutputFiles cap the outputs brought back;
	// zero leaves sear's defaults (which action.yml's defaults repeat).
	MaxOutputBytes int64
	MaxOutputFiles int
}

// Report says where a run is reported. The step summary is always
// written: it needs no permission and is where a 403 sends the reader.
type Report struct {
	Check, Comment bool
}

// InputError lists every problem with the step's inputs, so a workflow
// author fixes them in one edit.
type InputError struct {
	Problems []string
}

func (e *InputError) Error() string {
	return "the step's `with:` inputs have problems:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// input reads one input the way the runner passes it: INPUT_ and the name
// upper-cased, spaces as underscores, hyphens kept (INPUT_AWS-ROLE-ARN).
func input(getenv Getenv, name string) string {
	return strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))))
}

// ReadStepInputs reads and checks every input, and reports all problems at
// once as an *InputError.
func ReadStepInputs(getenv Getenv) (StepInputs, error) {
	var in StepInputs
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	in.Runnable, in.Cluster = input(getenv, "runnable"), input(getenv, "cluster")
	switch s := input(getenv, "sweep"); s {
	case "":
		if in.Runnable == "" {
			bad("`runnable` is required: the path of the runnable YAML, such as `runnable: experiments/bert.yaml`")
		}
		if in.Cluster == "" {
			bad("`cluster` is required: the path of the cluster YAML, such as `cluster: clusters/gpu.yaml`")
		}
	case "expired":
		in.SweepExpired = true
	default:
		bad("`sweep` is %q; give `expired` to delete what earlier runs left past their expiry, or leave it out to run the runnable", s)
	}
	// Secrets arrive raw: strings.TrimSpace would be harmless for JSON,
	// but the value is read once, here, and never printed.
	in.Secrets = getenv("INPUT_SECRETS")
	in.SecretsInclude = list(input(getenv, "secrets-include"))
	in.SecretsSection = orDefault(input(getenv, "secrets-section"), "SECRETS")
	in.RoleARN = input(getenv, "aws-role-arn")
	if in.RoleARN != "" && !strings.HasPrefix(in.RoleARN, "arn:") {
		bad("`aws-role-arn` is %q, which is not an ARN; it looks like `arn:aws:iam::123456789012:role/sear`", in.RoleARN)
	}
	in.Region = input(getenv, "aws-region")
	in.RoleDuration = time.Hour
	if s := input(getenv, "role-duration-seconds"); s != "" {
		n, err := strconv.Atoi(s)
		// STS: DurationSeconds "minimum value of 900 ... maximum value of
		// 43200" (AssumeRoleWithWebIdentity, API reference).
		if err != nil || n < 900 || n > 43200 {
			bad("`role-duration-seconds` is %q; give a whole number of seconds from 900 to 43200, as STS accepts", s)
		} else {
			in.RoleDuration = time.Duration(n) * time.Second
		}
	}
	in.Token = getenv("INPUT_GITHUB-TOKEN")
	var err error
	if in.Report, err = parseReport(input(getenv, "report")); err != nil {
		bad("%v", err)
	}
	in.Command = input(getenv, "command")
	if s := input(getenv, "max-duration"); s != "" {
		if in.MaxDuration, err = ParseMaxDuration(s); err != nil {
			bad("`max-duration` is %q; %v", s, err)
		}
	}
	if s := input(getenv, "max-cost"); s != "" {
		if in.MaxCost, err = ParseMaxCost(s); err != nil {
			bad("`max-cost` is %q; %v", s, err)
		}
	}
	if in.AllowForks, err = parseBool(input(getenv, "allow-fork-pull-requests")); err != nil {
		bad("`allow-fork-pull-requests` is %v", err)
	}
	if in.WorkingDirectory, err = inside("working-directory", orDefault(input(getenv, "working-directory"), ".")); err != nil {
		bad("%v", err)
	}
	if in.OutputDir, err = outputDir(orDefault(input(getenv, "output-dir"), "sear-output")); err != nil {
		bad("%v", err)
	}
	if s := input(getenv, "max-output-bytes"); s != "" {
		if in.MaxOutputBytes, err = parseSize(s); err != nil {
			bad("`max-output-bytes` is %q; %v", s, err)
		}
	}
	if s := input(getenv, "max-output-files"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			bad("`max-output-files` is %q; give a whole number of files and directories, such as `10000`", s)
		} else {
			in.MaxOutputFiles = n
		}
	}
	if len(problems) > 0 {
		return in, &InputError{Problems: problems}
	}
	return in, nil
}

// ParseMaxDuration reads a max-duration, the action's input or sear run's
// flag, which overrides the cluster file's max_duration: a Go duration
// that must be positive, since a job given no time at all would time out
// before it starts.
func ParseMaxDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("give a positive duration such as `90m` or `2h`")
	}
	return d, nil
}

// ParseMaxCost reads max-cost, which overrides the cluster file's
// max_cost: a positive number of US dollars. A currency sign or code is
// refused rather than stripped, as the cluster field does, so that one
// spelling works in both places.
func ParseMaxCost(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0 && v <= 1_000_000) { // NaN is neither
		return 0, errors.New("give a positive number of US dollars, without a currency sign, such as `25` or `7.50`")
	}
	return v, nil
}

// parseReport reads the report input: check, comment, summary, none.
func parseReport(s string) (Report, error) {
	if s == "" {
		return Report{Check: true, Comment: true}, nil
	}
	var r Report
	for _, item := range list(s) {
		switch strings.ToLower(item) {
		case "check":
			r.Check = true
		case "comment":
			r.Comment = true
		case "summary", "none":
		default:
			return r, fmt.Errorf("`report` has %q; give a comma-separated list of check, comment and summary, or none", item)
		}
	}
	return r, nil
}

// parseBool accepts what YAML 1.2's core schema calls booleans, as the
// runner's own boolean inputs do.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("%q; give true or false", s)
}

// inside cleans a workspace-relative path and refuses one that leaves the
// workspace: it is the directory sear uploads or writes into.
func inside(name, p string) (string, error) {
	if path.IsAbs(p) {
		return "", fmt.Errorf("`%s` is %q; give a path relative to the workspace", name, p)
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("`%s` is %q, which leaves the workspace; give a path inside it", name, p)
	}
	return c, nil
}

// outputDir checks output-dir. sear writes there what the job, which is a
// pull request's code, produces, so it must be a directory of its own:
// not the workspace itself, where the outputs would replace the files
// that later steps run, and not in .git, where an output becomes a hook
// that git runs.
func outputDir(p string) (string, error) {
	c, err := inside("output-dir", p)
	if err != nil {
		return "", err
	}
	if c == "." {
		return "", fmt.Errorf("`output-dir` is %q, the workspace itself, where the job's outputs would replace the repository's files; give a directory of its own, such as `sear-output`", p)
	}
	for _, elem := range strings.Split(c, "/") {
		if dotGit(elem) {
			return "", fmt.Errorf("`output-dir` is %q, inside .git, where an output could become a hook that git runs; give a directory outside it, such as `sear-output`", p)
		}
	}
	return c, nil
}

// dotGit says whether a path element names .git on some file system a
// runner has: case-insensitively (macOS and Windows), with the trailing
// dots and spaces Windows drops, and as its 8.3 short name git~1. The run
// package skips outputs from the node by the same test.
func dotGit(elem string) bool {
	elem = strings.TrimRight(elem, ". ")
	return strings.EqualFold(elem, ".git") || strings.EqualFold(elem, "git~1")
}

// sizeUnits are the units parseSize reads: SI ones in powers of 1000, as
// disks are sold, and binary ones in powers of 1024, as sear reports.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseSize reads a size such as `500MB`, `2GiB`, `1.5 GB` or a plain
// number of bytes.
func parseSize(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if err != nil || !ok {
		return 0, errors.New("give a size such as `500MB`, `2GiB` or a number of bytes (kB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024)")
	}
	b := n * unit
	if b < 1 || b >= 1<<62 {
		return 0, errors.New("give a size of at least one byte and under 4 EiB, such as `500MB` or `2GiB`")
	}
	return int64(b), nil
}

// list splits a comma- or newline-separated input.
func list(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ErrNoWorkspace is returned outside a runner's workspace.
var ErrNoWorkspace = errors.New("GITHUB_WORKSPACE is not set: `sear action` runs as a step of a GitHub Actions workflow; on the command line use `sear run`")
