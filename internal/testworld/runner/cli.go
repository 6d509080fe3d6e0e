package runner

import (
	"strings"

	"github.com/sear-ci/sear/internal/testworld/docker"
)

// dockerCLI runs the docker CLI with stdin (which may be nil) and returns its stdout, trimmed;
// its errors carry the engine's stderr.
var dockerCLI = docker.CLI

// isNotFound reports whether the engine said that the container or network is not there (or,
// for docker kill, no longer running), which for a removal means the work is done.
func isNotFound(err error) bool {
	if docker.NotFound(err) {
		return true
	}
	msg := strings.ToLower(docker.Stderr(err))
	return strings.Contains(msg, "is not running") || strings.Contains(msg, "already in progress")
}
