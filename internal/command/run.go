package command

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/local"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/redact"
	"github.com/sear-ci/sear/internal/run"
)

func runRun(ctx context.Context, s streams, args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var in inputFlags
	in.register(fs)
	workspace := fs.String("workspace", ".", "the directory uploaded as the job's working directory")
	outputDir := fs.String("output-dir", "sear-output", "where the job's outputs land on this machine")
	if code, ok := parseFlags(fs, s, args); !ok {
		return code
	}
	if !require(fs, s, "runnable", "cluster") {
		return ExitUsage
	}
	loaded, ok := in.load(s)
	if !ok {
		return ExitFailure
	}
	// Mask before anything else is printed.
	var mask []string
	var ini []byte
	if loaded.secrets != nil {
		mask, ini = loaded.secrets.Mask, loaded.secrets.INI
	}
	out := redact.NewWriter(s.stdout, mask)
	defer out.Flush()
	provider, err := providerFor(loaded.cluster)
	if err != nil {
		fmt.Fprintf(s.stderr, "sear run: %v\n", err)
		return ExitFailure
	}
	res, err := run.Run(ctx, run.Options{
		Runnable: loaded.runnable, Cluster: loaded.cluster, SecretsINI: ini,
		Workspace: *workspace, OutputDir: *outputDir, RunID: s.env("GITHUB_RUN_ID"),
		Repository: repository("", s.env), Provider: provider, Log: out, Abandon: s.abandon,
		GitToken: s.env("GITHUB_TOKEN"), GitTokenHost: serverURL(s.env), SSHAgentSocket: s.env("SSH_AUTH_SOCK"),
	})
	out.Flush()
	summary(out, loaded.cluster, res, *outputDir)
	if err != nil {
		fmt.Fprintf(s.stderr, "sear run: %s\n", redact.String(err.Error(), mask))
		return ExitFailure
	}
	return ExitOK
}

// providerFor picks where the nodes live from the cluster file's tag.
func providerFor(c *config.Cluster) (cloud.Provider, error) {
	if c.Kind == config.Local {
		return local.New(), nil
	}
	return nil, fmt.Errorf("%s: !AWSCluster runs are not in this build yet (the EC2 provider is being built); use sear plan to check the file, or a !LocalCluster to run here", c.File)
}

// summary prints the verdict, the phases and the metrics.
func summary(w io.Writer, c *config.Cluster, res *run.Result, outputDir string) {
	if res == nil {
		return
	}
	verdict := "succeeded"
	switch {
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
func serverURL(env Env) string {
	if u := env("GITHUB_SERVER_URL"); u != "" {
		return u
	}
	return "https://github.com"
}
