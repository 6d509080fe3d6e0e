// Command sear runs machine-learning experiments on an ephemeral cluster,
// as a GitHub Action or from the command line.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/sear-ci/sear/internal/command"
)

func main() {
	// The Actions runner cancels a job with SIGINT, then SIGTERM; a closed
	// terminal sends SIGHUP. The first starts an orderly teardown (whose
	// first act is the terminate call); the second abandons the teardown's
	// waits, never a terminate call already sent; later ones are ignored
	// for the same reason (SIGKILL, which the runner sends 10 s after its
	// SIGINT, cannot be, and the instances' deadline covers that case).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithCancelCause(context.Background())
	abandon := make(chan struct{})
	go func() {
		s := <-sigs
		cancel(fmt.Errorf("received %v", s))
		s = <-sigs
		fmt.Fprintf(os.Stderr, "sear: received %v again: no longer waiting for the teardown to finish\n", s)
		close(abandon)
		for range sigs {
		}
	}()
	code := command.Run(ctx, command.Process{Args: args(os.Args), Env: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Abandon: abandon})
	os.Exit(code)
}

// entryPoints are the names the action's image calls the binary by. The
// Actions runner starts a Docker action's entrypoint and post-entrypoint
// with the same arguments (action.yml's args, none here), so the name is
// what tells the main step from the post step; a link per name in the
// image saves a shell, which would drop the INPUT_* variables whose names
// hold a hyphen.
var entryPoints = map[string][]string{
	"sear-action":      {"action"},
	"sear-action-post": {"action", "post"},
}

// args are the command's arguments: the entry point's subcommand, if the
// binary was called by one of those names, then the arguments given.
func args(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	return append(append([]string(nil), entryPoints[filepath.Base(argv[0])]...), argv[1:]...)
}
