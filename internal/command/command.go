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

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/version"
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
	// runner is the Actions runner's variables, read once from env; empty
	// outside a workflow.
	runner  action.Runner
	abandon <-chan struct{}
}

// subcommands run sear's commands; each has its help in docs.
var subcommands = map[string]func(ctx context.Context, s streams, args []string) int{
	"action":  runAction,
	"plan":    runPlan,
	"run":     runRun,
	"secrets": runSecrets,
	"sweep":   runSweep,
	"version": runVersion,
}

// Run runs sear and returns its exit status. Cancelling ctx (the first
// signal) starts an orderly teardown.
func Run(ctx context.Context, p Process) int {
	s := streams{stdout: p.Stdout, stderr: p.Stderr, env: p.Env, runner: action.ReadRunner(p.Env), abandon: p.Abandon}
	args := p.Args
	if len(args) == 0 {
		shortOverview(s.stderr)
		return ExitUsage
	}
	switch args[0] {
	case "help":
		return runHelp(ctx, s, args[1:])
	case "-h", "-help", "--help":
		overview(s.stdout)
		return ExitOK
	case "-version", "--version":
		return runVersion(ctx, s, args[1:])
	}
	run, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(s.stderr, "sear: unknown command %q%s\n", args[0], suggestCommand(args[0]))
		shortOverview(s.stderr)
		return ExitUsage
	}
	return run(ctx, s, args[1:])
}

// runHelp is `sear help [COMMAND]`. A command's help comes from the
// command itself, as `sear COMMAND --help`, so the flags it lists are the
// ones the command defines.
func runHelp(ctx context.Context, s streams, args []string) int {
	switch {
	case len(args) == 0:
		overview(s.stdout)
		return ExitOK
	case len(args) > 1:
		fmt.Fprintf(s.stderr, "sear help: unexpected argument %q; give one command, such as `sear help run`\n", args[1])
		return ExitUsage
	}
	run, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(s.stderr, "sear help: unknown command %q%s\n", args[0], suggestCommand(args[0]))
		shortOverview(s.stderr)
		return ExitUsage
	}
	return run(ctx, s, []string{"--help"})
}

// runVersion is `sear version` and `sear --version`.
func runVersion(_ context.Context, s streams, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if code, ok := parseFlags(fs, s, args); !ok {
		return code
	}
	fmt.Fprint(s.stdout, version.Get())
	return ExitOK
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

// isHelp says whether arg asks for help, as the flag package reads it.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--h", "--help":
		return true
	}
	return false
}

// parseFlags parses a subcommand's flags, reporting usage errors the same
// way for every subcommand; -h and --help print the command's help to
// stdout. It returns false with the status to exit with.
func parseFlags(fs *flag.FlagSet, s streams, args []string) (int, bool) {
	// The flag package would print its own usage, single-dashed, on every
	// error and on -h; sear prints its help instead, and its errors once.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = func() { shortUsage(s.stderr, fs.Name()) }
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(s.stdout, fs.Name(), fs)
		return ExitOK, false
	case err != nil:
		fmt.Fprintf(s.stderr, "sear %s: %v\n", fs.Name(), err)
		fs.Usage()
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

// deprecatedFlag is an old name of a flag, kept working for one release
// so scripts have time to move: it sets the flag it stands for, says so
// on stderr, and the help leaves it out.
type deprecatedFlag struct {
	flag.Value
	cmd, old, name string
	stderr         io.Writer
}

func (d *deprecatedFlag) Set(v string) error {
	fmt.Fprintf(d.stderr, "sear %s: --%s is deprecated and goes in the next release; use --%s\n", d.cmd, d.old, d.name)
	return d.Value.Set(v)
}

// deprecate defines old as a hidden alias of fs's flag name.
func deprecate(fs *flag.FlagSet, stderr io.Writer, old, name string) {
	f := fs.Lookup(name)
	fs.Var(&deprecatedFlag{Value: f.Value, cmd: fs.Name(), old: old, name: name, stderr: stderr}, old, "deprecated: use --"+name)
}
