package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The file commands of one step: files the runner creates empty before the step, names in the
// step's environment (translated to /github/file_commands/...), and reads back after it. The
// runner names them <command>_<step's guid> in _temp/_runner_file_commands.
const (
	fileOutput  = "set_output"
	fileState   = "save_state"
	fileEnv     = "set_env"
	filePath    = "add_path"
	fileSummary = "step_summary"
)

// fileCommands maps each file command's variable to its file's prefix.
var fileCommands = []struct{ variable, prefix string }{
	{"GITHUB_OUTPUT", fileOutput},
	{"GITHUB_STATE", fileState},
	{"GITHUB_ENV", fileEnv},
	{"GITHUB_PATH", filePath},
	{"GITHUB_STEP_SUMMARY", fileSummary},
}

// stepFiles creates a step's empty file command files in dir and returns their paths by prefix.
func stepFiles(dir, guid string) (map[string]string, error) {
	files := map[string]string{}
	for _, fc := range fileCommands {
		p := filepath.Join(dir, fc.prefix+"_"+guid)
		// Writable by any user in the container, as the runner's are by the container's root.
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return nil, fmt.Errorf("create the step's %s file: %w", fc.variable, err)
		}
		files[fc.prefix] = p
	}
	return files, nil
}

// parseKeyValues reads GITHUB_OUTPUT, GITHUB_STATE or GITHUB_ENV as the runner does
// (SetOutputFileCommand, SaveStateFileCommand, SetEnvFileCommand): each non-empty line is
// NAME=VALUE, or NAME<<DELIMITER followed by the value's lines and a line that is exactly the
// delimiter. Whichever of "=" and "<<" comes first decides. A later value for a name wins.
func parseKeyValues(file, content string) (map[string]string, error) {
	values := map[string]string{}
	lines := strings.Split(content, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if line == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (heredoc < 0 || eq < heredoc):
			name := line[:eq]
			if name == "" {
				return nil, fmt.Errorf("%s line %d: %q has no name before =", file, i+1, line)
			}
			values[name] = line[eq+1:]
		case heredoc >= 0:
			name, delim := line[:heredoc], line[heredoc+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("%s line %d: %q: a heredoc needs a name and a delimiter", file, i+1, line)
			}
			start := i + 1
			end := start
			for end < len(lines) && strings.TrimSuffix(lines[end], "\r") != delim {
				end++
			}
			if end == len(lines) {
				return nil, fmt.Errorf("%s line %d: matching delimiter %q not found", file, i+1, delim)
			}
			var value []string
			for _, l := range lines[start:end] {
				value = append(value, strings.TrimSuffix(l, "\r"))
			}
			values[name] = strings.Join(value, "\n")
			i = end
		default:
			return nil, fmt.Errorf("%s line %d: %q is neither NAME=VALUE nor NAME<<DELIMITER", file, i+1, line)
		}
	}
	return values, nil
}

// parsePath reads GITHUB_PATH: one directory a line.
func parsePath(content string) []string {
	var dirs []string
	for _, l := range strings.Split(content, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			dirs = append(dirs, l)
		}
	}
	return dirs
}
