// Package command is sear's command line: it parses arguments, runs the
// subcommand and turns the outcome into an exit status.
package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit statuses, as the command-line contract fixes them.
const (
	ExitOK      = 0
	ExitFailure = 1 // the job or the input failed
	ExitUsage   = 2
)

// Env reads an environment variable; injected so tests run in parallel.
type Env func(string) string

// Process is what sear gets from the process that runs it.
type Process struct {
	Args           []string // without the program name
	Env            Env
	Stdout, Stderr io.Writer
	// Abandon is closed on a second signal: a teardown under way stops
	// waiting (the terminate calls already sent still complete).
	Abandon <-chan struct{}
}

// streams bundles what every subcommand reads and writes.
type streams struct {
	stdout, stderr io.Writer
	env            Env
	abandon        <-chan struct{}
}

type subcommand struct {
	summary string
	run     func(ctx context.Context, s streams, args []string) int
}

var subcommands = map[string]subcommand{
	"action":  {"the GitHub Action's main step (`sear action`) and post step (`sear action post`)", runAction},
	"plan":    {"validate the runnable and cluster; print the plan and the IAM policy it needs", runPlan},
	"run":     {"run the runnable on the cluster, stream its log, bring outputs back, tear down", runRun},
	"secrets": {"print the INI file the job reads, made from a secrets JSON object", runSecrets},
	"sweep":   {"delete what earlier runs left behind, found by tag (--run-id ID or --expired)", runSweep},
}

// Run runs sear and returns its exit status. Cancelling ctx (the first
// signal) starts an orderly teardown.
func Run(ctx context.Context, p Process) int {
	s := streams{stdout: p.Stdout, stderr: p.Stderr, env: p.Env, abandon: p.Abandon}
	args, stdout, stderr := p.Args, p.Stdout, p.Stderr
	if len(args) == 0 {
		usage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return ExitOK
	}
	sub, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sear: unknown command %q%s\n", args[0], suggestCommand(args[0]))
		usage(stderr)
		return ExitUsage
	}
	return sub.run(ctx, s, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sear <command> [flags]\n\ncommands:")
	for _, name := range commandNames() {
		fmt.Fprintf(w, "  %-8s %s\n", name, subcommands[name].summary)
	}
	fmt.Fprintln(w, "\nRun sear <command> -h for a command's flags.")
}

func commandNames() []string {
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func suggestCommand(s string) string {
	for _, n := range commandNames() {
		if strings.HasPrefix(n, s) || strings.HasPrefix(s, n) {
			return fmt.Sprintf("; did you mean %q?", n)
		}
	}
	return ""
}

// parseFlags parses a subcommand's flags, reporting usage errors the same
// way for every subcommand. It returns false with the status to exit with.
func parseFlags(fs *flag.FlagSet, s streams, args []string) (int, bool) {
	fs.SetOutput(s.stderr)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ExitOK, false
	case err != nil:
		return ExitUsage, false
	case fs.NArg() > 0:
		fmt.Fprintf(s.stderr, "sear %s: unexpected argument %q; every input is given with a flag\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return ExitUsage, false
	}
	return ExitOK, true
}

// require reports the required flags left empty.
func require(fs *flag.FlagSet, s streams, names ...string) bool {
	var missing []string
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(s.stderr, "sear %s: missing %s\n", fs.Name(), strings.Join(missing, " and "))
		fs.Usage()
		return false
	}
	return true
}
