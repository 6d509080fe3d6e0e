package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// cliError is a failed docker command with what it printed on stderr, which is where the
// engine explains itself ("No such container", "Pool overlaps with other one").
type cliError struct {
	args   []string
	err    error
	stderr string
}

func (e *cliError) Error() string {
	return fmt.Sprintf("docker %s: %v: %s", strings.Join(e.args, " "), e.err, e.stderr)
}

func (e *cliError) Unwrap() error { return e.err }

// notFound reports whether err is the engine saying that the container or network is not there,
// which for a removal means the work is already done. Engines word it "No such container: x",
// "No such network: x" or "network x not found" depending on their version.
func notFound(err error) bool {
	var ce *cliError
	if !errors.As(err, &ce) {
		return false
	}
	msg := strings.ToLower(ce.stderr)
	return strings.Contains(msg, "no such container") || strings.Contains(msg, "no such network") ||
		(strings.Contains(msg, "network") && strings.Contains(msg, "not found"))
}

// CLI runs the docker CLI as the backend does, for the test world's other users of the engine
// (the action's runner, internal/testworld/runner): stdout trimmed, and on failure an error that
// carries stderr (Stderr, NotFound).
func CLI(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	return run(ctx, stdin, args...)
}

// Stderr is what a failed docker command printed on stderr; "" for any other error.
func Stderr(err error) string {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.stderr
	}
	return ""
}

// NotFound reports whether err is the engine saying that the container or network is not there.
func NotFound(err error) bool { return notFound(err) }

// run runs the docker CLI with stdin (which may be nil) and returns its stdout, trimmed.
func run(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
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

// randomHex returns n random bytes in hex, for names that concurrent test worlds must not share.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}

// runCombined runs the docker CLI and returns what it printed on stdout and stderr together, for
// docker logs, which replays a container's stdout and stderr on its own.
func runCombined(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return "", &cliError{args: args, err: err, stderr: strings.TrimSpace(string(out))}
	}
	return string(out), nil
}
