// Command sear runs machine-learning experiments on an ephemeral cluster,
// as a GitHub Action or from the command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sear-ci/sear/internal/command"
)

func main() {
	// The Actions runner cancels a job with SIGINT, then SIGTERM; a closed
	// terminal sends SIGHUP. All of them start an orderly teardown.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := command.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
