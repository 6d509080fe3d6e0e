package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// closeTimeout bounds the teardown after a signal: removing a few dozen containers takes seconds.
const closeTimeout = 2 * time.Minute

// upFlags are the flags of testworld up.
type upFlags struct {
	backend, repository, event, region, label string
	bootDelay, terminateDelay, latency        time.Duration
	credentialLifetime                        time.Duration
	throttle                                  float64
	fork, immutableSub, staticCredentials     bool
	portBase                                  int
}

func parseUp(args []string, stderr io.Writer) (upFlags, error) {
	var f upFlags
	fs := flag.NewFlagSet("testworld up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.backend, "backend", "memory", "where instances run: memory (they boot, nothing runs) or docker (containers with real cloud-init and sshd)")
	fs.StringVar(&f.label, "label", "", "docker backend: the world id labelling its containers and network (sear.testworld=ID); default random")
	fs.DurationVar(&f.bootDelay, "boot-delay", 0, "EC2 pending→running time")
	fs.DurationVar(&f.terminateDelay, "terminate-delay", 0, "EC2 shutting-down→terminated time")
	fs.Float64Var(&f.throttle, "throttle", 0, "share of EC2 calls answered RequestLimitExceeded, 0 to 1 (0.5: every second call)")
	fs.DurationVar(&f.latency, "latency", 0, "latency added to every EC2 call")
	fs.StringVar(&f.repository, "repository", world.DefaultRepository, "the owner/name the job runs in; the role trusts it")
	fs.StringVar(&f.event, "event", "pull_request", "what triggered the job: pull_request, push or workflow_dispatch")
	fs.BoolVar(&f.fork, "fork", false, "the pull request comes from a fork: read-only GITHUB_TOKEN, no ACTIONS_ID_TOKEN_* variables")
	fs.BoolVar(&f.immutableSub, "immutable-sub", false, "ID tokens carry the sub claim with owner and repository ids")
	fs.DurationVar(&f.credentialLifetime, "credential-lifetime", 0, "lifetime of STS credentials, whatever DurationSeconds asks (0: as asked)")
	fs.StringVar(&f.region, "region", world.DefaultRegion, "the AWS region EC2 serves")
	fs.IntVar(&f.portBase, "port-base", 0, "listen on ports BASE to BASE+5 (OIDC, STS, EC2, GitHub, checkip, control); 0: free ports")
	fs.BoolVar(&f.staticCredentials, "static-credentials", false, "also accept a generated long-lived access key, and export it as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q: testworld up takes only flags", fs.Arg(0))
	}
	if f.backend != "memory" && f.backend != "docker" {
		return f, fmt.Errorf("-backend %q: expected memory or docker", f.backend)
	}
	if f.label != "" && f.backend != "docker" {
		return f, errors.New("-label names the docker backend's containers; it needs -backend docker")
	}
	if f.portBase < 0 || f.portBase > 65535-5 {
		return f, fmt.Errorf("-port-base %d: expected 0 or a port up to 65530", f.portBase)
	}
	return f, nil
}

// options turns the flags into the world's options; the backend is added by the caller.
func (f upFlags) options(stderr io.Writer) world.Options {
	o := world.Options{
		Repository: f.repository, Event: f.event, Fork: f.fork, ImmutableSub: f.immutableSub, Region: f.region,
		BootDelay: f.bootDelay, TerminateDelay: f.terminateDelay, CredentialLifetime: f.credentialLifetime,
		Log: stderr,
	}
	if f.throttle != 0 || f.latency != 0 {
		o.Faults = &world.Faults{EC2: &world.EC2Faults{Throttle: f.throttle, Latency: world.Duration(f.latency)}}
	}
	if b := f.portBase; b != 0 {
		o.Ports = world.Ports{OIDC: b, STS: b + 1, EC2: b + 2, GitHub: b + 3, CheckIP: b + 4, Control: b + 5}
	}
	if f.staticCredentials {
		o.StaticCredentials = &world.StaticCredentials{AccessKeyID: "AKIA" + randomUpper(16), SecretAccessKey: randomUpper(40)}
	}
	return o
}

// up starts the world, prints its exports and serves until ctx ends.
func up(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseUp(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "testworld up: %v\n", err)
		return exitUsage
	}
	opts := f.options(stderr)
	if f.backend == "docker" {
		b, err := startDocker(ctx, f.label, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "testworld up: %v\n", err)
			return exitFailure
		}
		opts.Backend = b
	}
	w, err := world.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "testworld up: %v\n", err)
		closeBackend(opts.Backend, stderr)
		return exitFailure
	}
	if _, err := io.WriteString(stdout, exports(w.Env())); err != nil {
		fmt.Fprintf(stderr, "testworld up: print the environment: %v\n", err)
	}
	fmt.Fprintf(stderr, "testworld: serving; state at %s/_testworld/state; stop with Ctrl-C or SIGTERM\n", w.URLs().Control)
	<-ctx.Done()
	fmt.Fprintln(stderr, "testworld: stopping (a second signal abandons the cleanup)")
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	if err := w.Close(cctx); err != nil {
		fmt.Fprintf(stderr, "testworld: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stderr, "testworld: stopped")
	return exitOK
}

// startDocker makes the Docker backend; the first run builds the instance image, which takes
// minutes, and says so on stderr.
func startDocker(ctx context.Context, label string, stderr io.Writer) (*docker.Backend, error) {
	fmt.Fprintln(stderr, "testworld: preparing the docker backend (the first run builds the instance image)")
	b, err := docker.New(ctx, docker.Options{Log: stderr, Label: label})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "testworld: docker backend on network %s; everything it makes is labelled sear.testworld=%s\n", b.Network(), b.Label())
	return b, nil
}

// closeBackend releases a backend the world never took over.
func closeBackend(b fakeec2.Backend, stderr io.Writer) {
	c, ok := b.(interface{ Close(context.Context) error })
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		fmt.Fprintf(stderr, "testworld: %v\n", err)
	}
}

// exports renders NAME=value pairs as POSIX shell export lines.
func exports(env []string) string {
	var b strings.Builder
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	return b.String()
}

// shellQuote single-quotes s for a POSIX shell: inside single quotes every character is literal
// except the quote itself, which is closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// randomUpper is n characters of A-Z and 2-7, the alphabet of AWS access key ids.
func randomUpper(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base32.StdEncoding.EncodeToString(b)[:n]
}
