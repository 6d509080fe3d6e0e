package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/plan"
	"github.com/sear-ci/sear/internal/secrets"
)

// inputs are the validated files a plan or a run starts from.
type inputs struct {
	runnable *config.Runnable
	cluster  *config.Cluster
	secrets  *secrets.File
}

// inputFlags are the flags that name the inputs, shared by plan and run.
type inputFlags struct {
	runnable, cluster, secretsJSON, section, include string
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.runnable, "runnable", "", "the runnable YAML file (Flambé format)")
	fs.StringVar(&f.cluster, "cluster", "", "the cluster YAML file (!AWSCluster or !LocalCluster)")
	fs.StringVar(&f.secretsJSON, "secrets-json", "", "a file holding a JSON object of secret names to values")
	fs.StringVar(&f.section, "secrets-section", "SECRETS", "the INI section for secret names without \"__\"")
	fs.StringVar(&f.include, "secrets-include", "", "comma-separated secret names or patterns to pass on (default all)")
}

// parse parses a plan's or a run's flags, which must name both files,
// and loads the inputs. It returns false with the status to exit with.
func (f *inputFlags) parse(fs *flag.FlagSet, s streams, args []string) (*inputs, int, bool) {
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
func (f *inputFlags) load(s streams) (*inputs, bool) {
	in := &inputs{}
	r, c, problems := loadConfig(f.runnable, f.cluster)
	in.runnable, in.cluster = r, c
	if f.secretsJSON != "" {
		file, err := loadSecrets(f.secretsJSON, f.section, f.include)
		if err != nil {
			problems = append(problems, err)
		}
		in.secrets = file
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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secrets JSON %s: %w", path, errors.Unwrap(err))
	}
	var inc []string
	for _, p := range strings.Split(include, ",") {
		if p = strings.TrimSpace(p); p != "" {
			inc = append(inc, p)
		}
	}
	return convertSecrets(data, path, section, inc)
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

// pretty renders configuration errors with their source lines.
func pretty(err error) string {
	var es config.Errors
	if errors.As(err, &es) {
		return es.Pretty()
	}
	var e *config.Error
	if errors.As(err, &e) {
		return e.Pretty()
	}
	return err.Error()
}

func runPlan(_ context.Context, s streams, args []string) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var in inputFlags
	in.register(fs)
	asJSON := fs.Bool("json", false, "print the plan as one JSON object")
	repo := fs.String("repository", "", "OWNER/REPO for the IAM trust policy (default $GITHUB_REPOSITORY, then the git remote)")
	loaded, code, ok := in.parse(fs, s, args)
	if !ok {
		return code
	}
	p := plan.Make(plan.Input{
		Runnable: loaded.runnable, Cluster: loaded.cluster, Secrets: secretsShape(loaded.secrets),
		Repository: repository(*repo, s.env), Region: region(s.env),
	})
	write := p.WriteText
	if *asJSON {
		write = p.WriteJSON
	}
	if err := write(s.stdout); err != nil {
		fmt.Fprintf(s.stderr, "sear plan: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

func secretsShape(f *secrets.File) *plan.Secrets {
	if f == nil {
		return nil
	}
	m := map[string][]string{}
	for _, sec := range f.Sections {
		m[sec.Name] = sec.Keys
	}
	return plan.SecretsShape(m)
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
func repository(flagValue string, env Env) string {
	if flagValue != "" {
		return flagValue
	}
	if r := env("GITHUB_REPOSITORY"); r != "" {
		return r
	}
	out, err := exec.Command("git", "config", "--get", "remote.origin.url").Output()
	if err == nil {
		if m := remoteRepo.FindStringSubmatch(strings.TrimSpace(string(out))); m != nil {
			return m[1]
		}
	}
	return "OWNER/REPO"
}
