package command

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/plan"
	"github.com/sear-ci/sear/internal/secrets"
)

// loadedFiles are the validated files a plan or a run starts from: the
// runnable, the cluster and the secrets.
type loadedFiles struct {
	runnable *config.Runnable
	cluster  *config.Cluster
	secrets  *secrets.File
	// secretNames are the names of the secrets that go to the nodes, as
	// the secrets JSON spells them, for the plan (never their values).
	secretNames []string
	// allSecrets is set when secrets-include is empty.
	allSecrets bool
}

// inputFlags are the flags that name the inputs, shared by plan and run.
type inputFlags struct {
	runnable, cluster, secretsJSON, section, include string
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.runnable, "runnable", "", "the runnable YAML `FILE` (Flambé format)")
	fs.StringVar(&f.cluster, "cluster", "", "the cluster YAML `FILE` (!AWSCluster or !LocalCluster)")
	registerSecretsFlags(fs, &f.secretsJSON, &f.section, &f.include)
}

// parse parses a plan's or a run's flags, which must name both files,
// and loads the inputs. It returns false with the status to exit with.
func (f *inputFlags) parse(fs *flag.FlagSet, s streams, args []string) (*loadedFiles, int, bool) {
	if code, ok := parseFlags(fs, s, args); !ok {
		return nil, code, false
	}
	if !require(fs, s, "runnable", "cluster") {
		return nil, ExitUsage, false
	}
	loaded, ok := f.load(s)
	if !ok {
		return nil, ExitFailure, false
	}
	return loaded, ExitOK, true
}

// load validates every input before anything else happens, and reports
// the problems of all files together.
func (f *inputFlags) load(s streams) (*loadedFiles, bool) {
	in := &loadedFiles{}
	r, c, problems := loadConfig(f.runnable, f.cluster)
	in.runnable, in.cluster = r, c
	if f.secretsJSON != "" {
		data, err := readSecrets(f.secretsJSON)
		if err == nil {
			inc := includeList(f.include)
			in.secrets, err = convertSecrets(data, f.secretsJSON, f.section, inc)
			in.allSecrets = len(inc) == 0
			if err == nil {
				in.secretNames = secretNames(data, f.section, in.secrets)
			}
		}
		if err != nil {
			problems = append(problems, err)
		}
	}
	for _, p := range problems {
		fmt.Fprintln(s.stderr, pretty(p))
	}
	// Warnings (a secret left out, say) matter to every command that
	// reads the secrets, so they are printed here, once.
	if in.secrets != nil {
		for _, w := range in.secrets.Warnings {
			fmt.Fprintf(s.stderr, "warning: %s\n", w)
		}
	}
	return in, len(problems) == 0
}

// loadConfig loads the runnable and the cluster file, returning the
// problems of both.
func loadConfig(runnable, cluster string) (*config.Runnable, *config.Cluster, []error) {
	var problems []error
	r, err := config.LoadRunnable(runnable)
	if err != nil {
		problems = append(problems, err)
	}
	c, err := config.LoadCluster(cluster)
	if err != nil {
		problems = append(problems, err)
	}
	return r, c, problems
}

func loadSecrets(path, section, include string) (*secrets.File, error) {
	data, err := readSecrets(path)
	if err != nil {
		return nil, err
	}
	return convertSecrets(data, path, section, includeList(include))
}

func readSecrets(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secrets JSON %s: %w", path, errors.Unwrap(err))
	}
	return data, nil
}

// includeList splits secrets-include at its commas.
func includeList(include string) []string {
	var inc []string
	for _, p := range strings.Split(include, ",") {
		if p = strings.TrimSpace(p); p != "" {
			inc = append(inc, p)
		}
	}
	return inc
}

// secretNames names the secrets f holds, as the secrets JSON spells them,
// for secrets-include: each INI key is matched back to the JSON name that
// package secrets places there (SECTION__KEY, split at the first "__", or
// KEY in the default section; keys lower-cased). Two JSON names that
// place alike (X and SECRETS__X) cannot both be in f, and then the place
// names it, as SECTION__KEY or KEY.
func secretNames(data []byte, section string, f *secrets.File) []string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || f == nil {
		return nil
	}
	if section == "" {
		section = secrets.DefaultSection
	}
	type place struct{ section, key string }
	byPlace := map[place][]string{}
	for name := range obj {
		sec, key, found := strings.Cut(name, "__")
		if !found {
			sec, key = section, name
		}
		p := place{sec, strings.ToLower(key)}
		byPlace[p] = append(byPlace[p], name)
	}
	var out []string
	for _, s := range f.Sections {
		for _, k := range s.Keys {
			if c := byPlace[place{s.Name, k}]; len(c) == 1 {
				out = append(out, c[0])
				continue
			}
			name := strings.ToUpper(k)
			if s.Name != section {
				name = s.Name + "__" + name
			}
			out = append(out, name)
		}
	}
	return out
}

// convertSecrets turns a secrets JSON object into the INI; source names
// where the JSON came from in errors (a file, an input), never its text.
func convertSecrets(data []byte, source, section string, include []string) (*secrets.File, error) {
	f, err := secrets.Convert(data, secrets.Options{Section: section, Include: include})
	if err != nil {
		return f, fmt.Errorf("%s: %w", source, err)
	}
	return f, nil
}

// pretty renders configuration errors with their source lines, without
// the credentials of any URL they quote (a source line may be an
// extension's https://user:token@host/... location).
func pretty(err error) string {
	var es config.Errors
	if errors.As(err, &es) {
		return plan.RedactURLs(es.Pretty())
	}
	var e *config.Error
	if errors.As(err, &e) {
		return plan.RedactURLs(e.Pretty())
	}
	return plan.RedactURLs(err.Error())
}

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("empty value")
	}
	*l = append(*l, v)
	return nil
}

// roleName is an IAM role name with an optional path (IAM User Guide, "IAM
// and AWS STS quotas", name and path characters), or a role ARN.
var roleName = regexp.MustCompile(`^(arn:aws[a-z-]*:iam::[0-9]{12}:role/)?([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)

// planFlags are sear plan's own flags: how the IAM policies are scoped.
type planFlags struct {
	asJSON       bool
	repo         string
	nodeRole     string
	trustPRs     bool
	branches     stringList
	environments stringList
}

func (f *planFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.asJSON, "json", false, "print the plan as one JSON object")
	fs.StringVar(&f.repo, "repository", "", "the `OWNER/REPO` the IAM policies are for (default $GITHUB_REPOSITORY, then the git remote)")
	fs.StringVar(&f.nodeRole, "node-role", "", "the `ROLE` of the cluster file's iam_instance_profile, the only role iam:PassRole names (default: the profile's name)")
	fs.BoolVar(&f.trustPRs, "trust-pull-requests", true, "the trust policy admits pull_request runs (sub repo:OWNER/REPO:pull_request); --trust-pull-requests=false admits none")
	fs.Var(&f.branches, "trust-branch", "the trust policy admits runs on this `BRANCH`, or full ref, e.g. main for workflow_dispatch and schedule (sub repo:OWNER/REPO:ref:refs/heads/NAME); repeatable")
	fs.Var(&f.environments, "trust-environment", "the trust policy admits jobs that run in this `ENVIRONMENT` (sub repo:OWNER/REPO:environment:NAME); repeatable")
}

// planFlagSet defines sear plan's flags.
func planFlagSet() (*flag.FlagSet, *inputFlags, *planFlags) {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var in inputFlags
	in.register(fs)
	var pf planFlags
	pf.register(fs)
	return fs, &in, &pf
}

// check refuses flag values that would make a policy IAM rejects or one
// that admits nothing.
func (f *planFlags) check(s streams, fs *flag.FlagSet) bool {
	var problems []string
	if f.nodeRole != "" && !roleName.MatchString(f.nodeRole) {
		problems = append(problems, fmt.Sprintf("--node-role %q is not an IAM role name, path/name or role ARN", f.nodeRole))
	}
	if !f.trustPRs && len(f.branches) == 0 && len(f.environments) == 0 {
		problems = append(problems, "the trust policy would admit no workflow run: keep --trust-pull-requests, or add --trust-branch or --trust-environment")
	}
	for _, b := range f.branches {
		if strings.ContainsAny(b, ": \t") {
			problems = append(problems, fmt.Sprintf("--trust-branch %q is not a branch name", b))
		}
	}
	for _, p := range problems {
		fmt.Fprintf(s.stderr, "sear plan: %s\n", p)
	}
	if len(problems) > 0 {
		fs.Usage()
	}
	return len(problems) == 0
}

func runPlan(_ context.Context, s streams, args []string) int {
	fs, in, pf := planFlagSet()
	loaded, code, ok := in.parse(fs, s, args)
	if !ok {
		return code
	}
	if !pf.check(s, fs) {
		return ExitUsage
	}
	p := plan.Make(plan.Input{
		Runnable: loaded.runnable, Cluster: loaded.cluster, Secrets: secretsShape(loaded),
		Repository: repository(pf.repo, s.runner), Region: region(s.env), NodeRole: pf.nodeRole,
		Trust: &plan.Trust{PullRequests: pf.trustPRs, Branches: pf.branches, Environments: pf.environments},
	})
	write := p.WriteText
	if pf.asJSON {
		write = p.WriteJSON
	}
	if err := write(s.stdout); err != nil {
		fmt.Fprintf(s.stderr, "sear plan: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

func secretsShape(in *loadedFiles) *plan.Secrets {
	if in.secrets == nil {
		return nil
	}
	m := map[string][]string{}
	for _, sec := range in.secrets.Sections {
		m[sec.Name] = sec.Keys
	}
	return plan.SecretsShape(m, in.secretNames, in.allSecrets)
}

func region(env Env) string {
	if r := env("AWS_REGION"); r != "" {
		return r
	}
	return env("AWS_DEFAULT_REGION")
}

// remoteRepo finds OWNER/REPO in a GitHub remote URL, https or ssh.
var remoteRepo = regexp.MustCompile(`github\.com[:/]([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(\.git)?/?$`)

// repository names the repository the trust policy admits: the flag, the
// workflow's GITHUB_REPOSITORY, the git remote, or a placeholder to edit.
func repository(flagValue string, runner action.Runner) string {
	if flagValue != "" {
		return flagValue
	}
	if runner.Repository != "" {
		return runner.Repository
	}
	out, err := exec.Command("git", "config", "--get", "remote.origin.url").Output()
	if err == nil {
		if m := remoteRepo.FindStringSubmatch(strings.TrimSpace(string(out))); m != nil {
			return m[1]
		}
	}
	return "OWNER/REPO"
}
