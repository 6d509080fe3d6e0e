package command

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// helpWidth is the column help text is wrapped at: a terminal's default.
const helpWidth = 80

// doc is a command's help: what `sear help CMD`, `sear CMD -h` and
// `sear CMD --help` print, in the one layout printHelp gives every
// command. The flags are not here: printHelp lists those the command's
// FlagSet defines, so the help cannot name a flag the command lacks or
// leave one out.
type doc struct {
	// summary is one line, also in sear's list of commands.
	summary string
	// synopsis is the command's forms, each after "sear ".
	synopsis []string
	// description is paragraphs, wrapped when printed.
	description []string
	examples    []example
	exits       []exit
}

// example is a command line with what it does.
type example struct{ what, command string }

// exit is an exit status and what it means for this command.
type exit struct {
	code    int
	meaning string
}

// usageExit is every command's status 2.
var usageExit = exit{ExitUsage, "a usage error: an unknown flag, a missing or malformed value, a stray argument"}

// printHelp writes the help of the command name, listing fs's flags (fs
// is nil for a command without any).
func printHelp(w io.Writer, name string, fs *flag.FlagSet) {
	d := docs[name]
	var b strings.Builder
	fmt.Fprintf(&b, "sear %s: %s\n\nUsage:\n", name, d.summary)
	for _, s := range d.synopsis {
		fmt.Fprintf(&b, "  sear %s\n", s)
	}
	b.WriteString("\nDescription:\n")
	for i, p := range d.description {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(wrap(p, "  "))
	}
	b.WriteString("\nFlags:\n")
	if fs != nil {
		fs.VisitAll(func(f *flag.Flag) {
			if _, hidden := f.Value.(*deprecatedFlag); hidden {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			b.WriteString("  --" + f.Name)
			if name != "" {
				b.WriteString(" " + name)
			}
			b.WriteString("\n")
			if !zeroDefault(f.DefValue) {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			b.WriteString(wrap(usage, "      "))
		})
	}
	b.WriteString("  -h, --help\n      print this help and exit\n")
	if len(d.examples) > 0 {
		b.WriteString("\nExamples:\n")
		for i, e := range d.examples {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(wrapHanging(e.what, "  # ", "  # "))
			for _, l := range strings.Split(e.command, "\n") {
				b.WriteString("  " + l + "\n")
			}
		}
	}
	b.WriteString("\nExit status:\n")
	for _, e := range d.exits {
		b.WriteString(wrapHanging(e.meaning, fmt.Sprintf("  %d  ", e.code), "     "))
	}
	io.WriteString(w, b.String())
}

// help prints the help of a command that takes no flags, for -h or
// --help among its arguments.
func help(s streams, name string) int {
	printHelp(s.stdout, name, nil)
	return ExitOK
}

// wantsHelp says whether args ask for help anywhere.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if isHelp(a) {
			return true
		}
	}
	return false
}

// zeroDefault says a flag's default is its type's zero value, which the
// help does not print.
func zeroDefault(v string) bool {
	switch v {
	case "", "false", "0", "0s":
		return true
	}
	return false
}

// shortUsage is what a usage error prints after saying what is wrong:
// the command's forms, and where the rest is.
func shortUsage(w io.Writer, name string) {
	for i, s := range docs[name].synopsis {
		prefix := "usage: "
		if i > 0 {
			prefix = "       "
		}
		fmt.Fprintf(w, "%ssear %s\n", prefix, s)
	}
	fmt.Fprintf(w, "Run `sear %s --help` for its flags, examples and exit statuses.\n", name)
}

// overview is `sear --help`: every command, and how to read more.
func overview(w io.Writer) {
	var b strings.Builder
	b.WriteString("sear runs machine-learning experiments on an ephemeral cluster, as a GitHub\n" +
		"Action or from the command line.\n\nUsage:\n  sear COMMAND [flags]\n  sear help COMMAND\n\nCommands:\n")
	for _, n := range commandNames() {
		b.WriteString(wrapHanging(docs[n].summary, fmt.Sprintf("  %-8s ", n), "           "))
	}
	b.WriteString("\nFlags:\n  -h, --help\n      print this help and exit\n  --version\n      print sear's version, as `sear version` does\n")
	b.WriteString("\nRun `sear help COMMAND` or `sear COMMAND --help` for a command's flags,\nexamples and exit statuses.\n")
	io.WriteString(w, b.String())
}

// shortOverview is what a missing or unknown command prints.
func shortOverview(w io.Writer) {
	fmt.Fprintf(w, "usage: sear COMMAND [flags]\ncommands: %s\n", strings.Join(commandNames(), ", "))
	fmt.Fprintln(w, "Run `sear help` for what each does, `sear help COMMAND` for a command's flags.")
}

// wrap fills text into lines of helpWidth columns, each after indent.
func wrap(text, indent string) string {
	return wrapHanging(text, indent, strings.Repeat(" ", len([]rune(indent))))
}

// wrapHanging is wrap with one indent for the first line and another for
// the lines after it.
func wrapHanging(text, first, rest string) string {
	var b strings.Builder
	line, n := first, len([]rune(first))
	empty := true
	for _, word := range strings.Fields(text) {
		w := len([]rune(word))
		if !empty && n+1+w > helpWidth {
			b.WriteString(line + "\n")
			line, n, empty = rest, len([]rune(rest)), true
		}
		if !empty {
			line += " "
			n++
		}
		line += word
		n += w
		empty = false
	}
	b.WriteString(line + "\n")
	return b.String()
}
