// Command testworld runs the test world standalone: emulated EC2, STS, the Actions OIDC token
// endpoint, the GitHub REST API and checkip on loopback, with the environment that points sear at
// them printed as shell exports. docs/testworld.md describes it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal the world closes (with Docker, that removes containers); a second
	// signal gets the default behaviour back and ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
