package command

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/help/*.golden from the help sear prints")

// golden compares got with testdata/help/name.golden, or rewrites the
// file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "help", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestHelp -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("the help differs from %s (go test -run TestHelp -update rewrites it):\n%s", path, got)
	}
}

// TestHelpGolden checks every help text, and that each way of asking for
// it prints the same to stdout and exits 0.
func TestHelpGolden(t *testing.T) {
	t.Parallel()
	ways := map[string][][]string{"sear": {{"help"}, {"-h"}, {"-help"}, {"--help"}}}
	for _, name := range commandNames() {
		ways[name] = [][]string{{"help", name}, {name, "-h"}, {name, "-help"}, {name, "--help"}}
	}
	ways["action"] = append(ways["action"], []string{"action", "post", "--help"})
	for name, argvs := range ways {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var first string
			for i, args := range argvs {
				code, stdout, stderr := sear(t, nil, args...)
				if code != ExitOK || stderr != "" {
					t.Errorf("sear %s: exit %d, stderr %q; want 0 and nothing", strings.Join(args, " "), code, stderr)
				}
				if i == 0 {
					first = stdout
					golden(t, name, stdout)
				} else if stdout != first {
					t.Errorf("sear %s prints other help than sear %s:\n%s", strings.Join(args, " "), strings.Join(argvs[0], " "), stdout)
				}
			}
		})
	}
}

// flagSets are the commands' flags, as the commands define them.
func flagSets() map[string]*flag.FlagSet {
	discard := streams{stdout: io.Discard, stderr: io.Discard, env: func(string) string { return "" }}
	plan, _, _ := planFlagSet()
	run, _ := runFlagSet()
	sweep, _ := sweepFlagSet()
	secrets, _, _, _ := secretsFlagSet(discard)
	return map[string]*flag.FlagSet{
		"plan": plan, "run": run, "sweep": sweep, "secrets": secrets,
		"action":  flag.NewFlagSet("action", flag.ContinueOnError), // its inputs are INPUT_* variables
		"version": flag.NewFlagSet("version", flag.ContinueOnError),
	}
}

// crossReferences are the flags a command's help names that are another
// command's (sear sweep --run-id in sear run's), or a family of its own.
var crossReferences = map[string][]string{
	"plan": {"trust-"},
	"run":  {"run-id"},
}

var mentioned = regexp.MustCompile(`--[a-z][a-z-]*`)

// TestHelpListsEveryFlag checks the help against the FlagSet: every flag
// is listed, with a named value unless it is a switch, no deprecated one
// is, and the text names no flag the command lacks.
func TestHelpListsEveryFlag(t *testing.T) {
	t.Parallel()
	sets := flagSets()
	for _, name := range commandNames() {
		fs, ok := sets[name]
		if !ok {
			t.Errorf("the test has no FlagSet for %q", name)
			continue
		}
		_, help, _ := sear(t, nil, "help", name)
		listed := map[string]bool{}
		_, flags, _ := strings.Cut(help, "\nFlags:\n")
		flags, _, _ = strings.Cut(flags, "\n\n")
		for _, l := range strings.Split(flags, "\n") {
			if strings.HasPrefix(l, "  --") {
				listed[strings.Fields(l)[0][2:]] = true
			}
		}
		fs.VisitAll(func(f *flag.Flag) {
			_, deprecated := f.Value.(*deprecatedFlag)
			switch {
			case deprecated && listed[f.Name]:
				t.Errorf("sear %s --help lists the deprecated --%s", name, f.Name)
			case !deprecated && !listed[f.Name]:
				t.Errorf("sear %s --help does not list --%s", name, f.Name)
			}
			if metavar, _ := flag.UnquoteUsage(f); !deprecated && metavar != "" && !strings.Contains(f.Usage, "`") {
				t.Errorf("sear %s --%s: its usage names no value in backquotes, so the help calls it %q", name, f.Name, metavar)
			}
			delete(listed, f.Name)
		})
		for f := range listed {
			t.Errorf("sear %s --help lists --%s, which it does not define", name, f)
		}
		for _, m := range mentioned.FindAllString(help, -1) {
			n := m[2:]
			if fs.Lookup(n) != nil || n == "help" || n == "version" && name == "version" ||
				slices.ContainsFunc(crossReferences[name], func(p string) bool { return n == p || strings.HasSuffix(p, "-") && strings.HasPrefix(n, p) }) {
				continue
			}
			t.Errorf("sear %s --help names %s, which sear %s does not define", name, m, name)
		}
	}
}

// TestHelpLayout checks what every help has, and that it fits a terminal.
func TestHelpLayout(t *testing.T) {
	t.Parallel()
	for _, name := range commandNames() {
		d, ok := docs[name]
		if !ok {
			t.Errorf("sear %s has no help in docs", name)
			continue
		}
		if d.summary == "" || len(d.synopsis) == 0 || len(d.description) == 0 || len(d.examples) == 0 {
			t.Errorf("sear %s: the help lacks a summary, a synopsis, a description or an example", name)
		}
		codes := map[int]bool{}
		for _, e := range d.exits {
			codes[e.code] = true
		}
		if !codes[ExitOK] || !codes[ExitUsage] {
			t.Errorf("sear %s: the help's exit statuses lack 0 or 2: %v", name, d.exits)
		}
		_, help, _ := sear(t, nil, "help", name)
		for _, section := range []string{"\nUsage:\n", "\nDescription:\n", "\nFlags:\n", "\nExamples:\n", "\nExit status:\n"} {
			if !strings.Contains(help, section) {
				t.Errorf("sear %s --help lacks %q", name, strings.TrimSpace(section))
			}
		}
	}
	for name := range docs {
		if _, ok := subcommands[name]; !ok {
			t.Errorf("docs has help for %q, which is no command", name)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "help", "*.golden"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for i, l := range strings.Split(string(data), "\n") {
			if n := len([]rune(l)); n > helpWidth {
				t.Errorf("%s:%d is %d columns wide, over %d", f, i+1, n, helpWidth)
			}
		}
	}
}

// TestUsageErrors checks that a usage error says what is wrong and where
// the help is, on stderr, and exits 2.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"usage: sear COMMAND", "commands: action, plan, run, secrets, sweep, version", "sear help"}},
		{[]string{"pla"}, []string{`unknown command "pla"; did you mean "plan"?`, "usage: sear COMMAND"}},
		{[]string{"help", "rnu"}, []string{`sear help: unknown command "rnu"`}},
		{[]string{"help", "run", "plan"}, []string{`unexpected argument "plan"`}},
		{[]string{"plan", "--bogus"}, []string{"sear plan: flag provided but not defined: -bogus", "usage: sear plan --runnable FILE --cluster FILE [flags]", "`sear plan --help`"}},
		{[]string{"sweep"}, []string{"give --run-id ID, --cluster-id ID or --expired", "usage: sear sweep --run-id ID [flags]\n       sear sweep --cluster-id ID [flags]", "`sear sweep --help`"}},
		{[]string{"version", "now"}, []string{`sear version: unexpected argument "now"`, "usage: sear version"}},
		{[]string{"--version", "now"}, []string{`sear version: unexpected argument "now"`}},
		{[]string{"run", "--runnable", "r", "--cluster", "c", "--max-duration", "0"}, []string{"invalid value \"0\" for flag -max-duration: give a positive duration such as `90m` or `2h`"}},
		{[]string{"run", "--runnable", "r", "--cluster", "c", "--max-duration", "soon"}, []string{"give a positive duration"}},
	}
	for _, tt := range tests {
		code, stdout, stderr := sear(t, nil, tt.args...)
		if code != ExitUsage || stdout != "" {
			t.Errorf("sear %s: exit %d, stdout %q; want 2 and nothing", strings.Join(tt.args, " "), code, stdout)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("sear %s: stderr lacks %q:\n%s", strings.Join(tt.args, " "), w, stderr)
			}
		}
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := sear(t, nil, "version")
	if code != ExitOK || stderr != "" || !strings.HasPrefix(stdout, "sear ") || !strings.Contains(stdout, "\n  go      go") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, flagOut, _ := sear(t, nil, "--version"); flagOut != stdout {
		t.Errorf("sear --version printed %q, sear version %q", flagOut, stdout)
	}
}
