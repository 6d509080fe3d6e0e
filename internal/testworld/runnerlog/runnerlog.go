// Package runnerlog reads a step's output as the GitHub Actions runner does:
// which lines are workflow commands it acts on, which it shows as text,
// and what the log shows once its masks are applied. Tests use it as the
// oracle for what sear's output does to a workflow and its log.
package runnerlog

import (
	"strings"
)

// Transcript is a step's output as the Actions runner turns it into the
// job's log: the commands it acted on and the lines it shows as text,
// masked with the masks registered by the time each line arrived.
type Transcript struct {
	// Shown are the lines the log shows, as a reader sees them.
	Shown []string
	// Masks are the values ::add-mask:: registered, in order.
	Masks []string
	// Commands are the commands the runner acted on (not add-mask's,
	// which are in Masks, nor stop-commands and its resume).
	Commands []Command
}

// Command is a workflow command the runner acted on.
type Command struct {
	Name string
	Data string
}

// registeredCommands are the commands the runner's ActionCommandManager
// knows (its Initialize plus the command extensions of
// src/Runner.Worker/ActionCommandManager.cs and the file-command era's
// set-output, save-state and set-env, still parsed). A line naming any
// other command is shown as text.
var registeredCommands = []string{
	"stop-commands", "set-env", "set-output", "save-state", "add-mask", "add-path",
	"add-matcher", "remove-matcher", "warning", "error", "notice", "debug",
	"group", "endgroup", "echo",
}

// Interpret reads a step's output (its stdout and stderr as one stream)
// as the runner does, line by line (ActionCommandManager.TryProcessCommand,
// ActionCommand.TryParseV2 and TryParse):
//   - a command is `::name props::data` at the start of a line, leading
//     white space trimmed, or the legacy `##[name props]data` anywhere in
//     it; names are matched without regard to case, and a name the runner
//     does not know leaves the line as text;
//   - after `::stop-commands::TOKEN` every command is ignored, and its
//     line shown as text, until a line `::TOKEN::`;
//   - the stop and the resume lines are echoed; ::add-mask:: is not;
//   - every shown line is masked with the masks registered so far.
func Interpret(output string) Transcript {
	var t Transcript
	stopToken := ""
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSuffix(line, "\r")
		name, data, ok := parseCommand(line, stopToken)
		switch {
		case !ok:
			t.show(line)
		case stopToken != "":
			if strings.EqualFold(name, stopToken) {
				stopToken = ""
			}
			t.show(line)
		case strings.EqualFold(name, "stop-commands"):
			stopToken = data
			t.show(line)
		case strings.EqualFold(name, "add-mask"):
			if strings.TrimSpace(data) != "" {
				t.Masks = append(t.Masks, data)
			}
		default:
			t.Commands = append(t.Commands, Command{Name: strings.ToLower(name), Data: data})
		}
	}
	if n := len(t.Shown); n > 0 && t.Shown[n-1] == "" {
		t.Shown = t.Shown[:n-1] // the newline ending the output
	}
	return t
}

func (t *Transcript) show(line string) {
	for _, m := range t.Masks {
		line = strings.ReplaceAll(line, m, "***")
	}
	t.Shown = append(t.Shown, line)
}

// parseCommand finds the command in line, if any: one the runner knows,
// or the stop token while commands are stopped.
func parseCommand(line, stopToken string) (name, data string, ok bool) {
	known := func(n string) bool {
		if stopToken != "" && strings.EqualFold(n, stopToken) {
			return true
		}
		for _, c := range registeredCommands {
			if strings.EqualFold(n, c) {
				return true
			}
		}
		return false
	}
	if s := strings.TrimLeft(line, " \t"); strings.HasPrefix(s, "::") {
		if end := strings.Index(s[2:], "::"); end >= 0 {
			info := s[2 : 2+end]
			name, _, _ = strings.Cut(info, " ")
			if known(name) {
				return name, unescapeData(s[2+end+2:]), true
			}
		}
	}
	if i := strings.Index(line, "##["); i >= 0 {
		if end := strings.IndexByte(line[i:], ']'); end >= 0 {
			info := line[i+3 : i+end]
			name, _, _ = strings.Cut(info, " ")
			if known(name) {
				return name, unescapeData(line[i+end+1:]), true
			}
		}
	}
	return "", "", false
}

// unescapeData undoes the escaping of a command's data
// (ActionCommand._escapeDataMappings).
func unescapeData(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(s)
}
