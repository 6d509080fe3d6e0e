package main

import (
	"context"
	"fmt"
	"io"
)

// Exit statuses, as sear's own command line has them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// run runs the command with args (without the program name) and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "up":
		return up(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "testworld: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: testworld up [flags]

Starts the test world on loopback, prints export lines for the environment that points sear at
it on stdout, and serves until SIGINT or SIGTERM. Run testworld up -h for the flags, and see
docs/testworld.md.
`)
}
