package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// cliError is a failed docker command with what it printed on stderr, where the engine explains
// itself.
type cliError struct {
	args   []string
	err    error
	stderr string
}

func (e *cliError) Error() string {
	return fmt.Sprintf("docker %s: %v: %s", strings.Join(e.args, " "), e.err, e.stderr)
}

func (e *cliError) Unwrap() error { return e.err }

// isNotFound reports whether the engine said that the container or network is not there (or,
// for docker kill, no longer running), which for a removal means the work is done.
func isNotFound(err error) bool {
	var ce *cliError
	if !errors.As(err, &ce) {
		return false
	}
	msg := strings.ToLower(ce.stderr)
	return strings.Contains(msg, "no such container") || strings.Contains(msg, "no such network") ||
		strings.Contains(msg, "is not running") || strings.Contains(msg, "already in progress") || (strings.Contains(msg, "network") && strings.Contains(msg, "not found"))
}

// dockerCLI runs the docker CLI with stdin (which may be nil) and returns its stdout, trimmed.
func dockerCLI(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return "", &cliError{args: args, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return strings.TrimSpace(stdout.String()), nil
}
