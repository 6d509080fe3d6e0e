package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/remote"
)

// ErrNotInstalled is wrapped by Start's error when a node lacks the engine.
var ErrNotInstalled = errors.New("not installed")

const (
	// scriptSlack is how much longer than the ready timeout Start's
	// context lives: the scripts stop waiting at the timeout and say why,
	// and the context only covers a node that stops answering.
	scriptSlack = 15 * time.Second
	// watchEvery is how often Start looks for a daemon that has died while
	// it waits for the workers.
	watchEvery = time.Second
	// stopGrace is how long a daemon has to end on SIGTERM.
	stopGrace = 10 * time.Second
	// stopTimeout bounds Stop.
	stopTimeout = stopGrace + 20*time.Second
)

// Ready is the engine as its client saw it once every worker had joined.
type Ready struct {
	Address string   `json:"address"`
	Workers []Worker `json:"workers"`
}

// Worker is one worker process (Dask) or node (Ray).
type Worker struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	Host    string `json:"host"`
	Threads int    `json:"threads"` // Dask: threads; Ray: CPUs
}

// Threads is the workers' threads (Ray: CPUs) together.
func (r *Ready) Threads() int {
	n := 0
	for _, w := range r.Workers {
		n += w.Threads
	}
	return n
}

// Start starts the engine through shells, one per node by rank: the
// orchestrator's daemons first, since the workers dial them, then the
// factories' at once. It then waits until every worker has joined, as the
// engine's own client sees it with the job's environment, or until a
// daemon dies or ReadyTimeout passes. Whatever did start keeps running
// when Start fails: Stop ends it. With engine none, Start does nothing.
func (e *Engine) Start(ctx context.Context, shells []Shell) (*Ready, error) {
	if e.flavor == nil {
		return &Ready{}, nil
	}
	if len(shells) != len(e.opts.Nodes) || slices.Contains(shells, nil) {
		return nil, fmt.Errorf("start %s: %d shells for %d nodes", e.flavor.name(), len(shells), len(e.opts.Nodes))
	}
	e = e.within(ctx)
	deadline := time.Now().Add(e.opts.ReadyTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(scriptSlack))
	defer cancel()
	if err := e.startNode(ctx, shells[0], 0, deadline); err != nil {
		return nil, err
	}
	factories := make([]int, 0, len(shells)-1)
	for r := 1; r < len(shells); r++ {
		factories = append(factories, r)
	}
	err := e.each(ctx, factories, func(ctx context.Context, rank int) error {
		return e.startNode(ctx, shells[rank], rank, deadline)
	})
	if err != nil {
		return nil, err
	}
	return e.waitReady(ctx, shells, deadline)
}

// within is e with ReadyTimeout no later than ctx's deadline less the slack
// the start scripts need, so that the engine's own "not serving within"
// comes before the context ends, and a zero ReadyTimeout filled in.
func (e *Engine) within(ctx context.Context) *Engine {
	window := e.opts.ReadyTimeout
	if d, ok := ctx.Deadline(); ok {
		if left := max(time.Until(d)-scriptSlack, 0); window == 0 || left < window {
			window = left
		}
	} else if window == 0 {
		window = DefaultReadyTimeout
	}
	if window == e.opts.ReadyTimeout {
		return e
	}
	c := *e
	c.opts.ReadyTimeout = window
	return &c
}

// startNode runs node rank's start script and explains its failure.
func (e *Engine) startNode(ctx context.Context, sh Shell, rank int, deadline time.Time) error {
	var out bytes.Buffer
	opts := remote.RunOptions{Env: e.daemonEnv(rank), Dir: e.opts.Nodes[rank].Work, Stdout: &out, Stderr: &out}
	err := sh.Run(ctx, e.startScript(rank, time.Until(deadline)), opts)
	if err == nil {
		return nil
	}
	n, name := e.opts.Nodes[rank], e.flavor.name()
	var ee *remote.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("start %s on %s: %w", name, n.Name, err)
	}
	role := ""
	for _, dm := range e.flavor.daemons(e, rank) {
		if dm.up != "" {
			role = dm.role
		}
	}
	switch ee.Status {
	case exitMissing:
		pf, why := e.flavor.preflight(), lastLine(out.String())
		if why == "" {
			why = pf.silent
		}
		return fmt.Errorf("%s is %w on %s (%s): %s", name, ErrNotInstalled, n.Name, why, pf.fix)
	case exitDied:
		return fmt.Errorf("the %s %s on %s exited as it started; the end of its log, %s:\n%s", name, role, n.Name, e.logPath(rank, role), excerpt(out.String()))
	case exitSlow:
		return fmt.Errorf("the %s %s on %s was not serving within %s; the end of its log, %s:\n%s", name, role, n.Name, e.opts.ReadyTimeout, e.logPath(rank, role), excerpt(out.String()))
	}
	return fmt.Errorf("start %s on %s: %w\n%s", name, n.Name, err, excerpt(out.String()))
}

// waitReady runs the ready check on the orchestrator while it watches
// every node for a daemon that died, which ends the wait at once with that
// daemon's log rather than at the timeout.
func (e *Engine) waitReady(ctx context.Context, shells []Shell, deadline time.Time) (*Ready, error) {
	checkCtx, stopCheck := context.WithCancel(ctx)
	defer stopCheck()
	watchCtx, stopWatch := context.WithCancel(ctx)
	died := make(chan error, 1)
	go func() {
		err := e.watch(watchCtx, shells)
		if err != nil {
			stopCheck()
		}
		died <- err
	}()
	ready, err := e.check(checkCtx, shells, deadline)
	stopWatch()
	if derr := <-died; derr != nil {
		return nil, derr
	}
	return ready, err
}

// watch returns the first daemon death it sees, or nil once ctx is done.
// A node it cannot ask is no death: the ready check fails on its own if
// that matters.
func (e *Engine) watch(ctx context.Context, shells []Shell) error {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := e.each(ctx, e.ranks(), func(ctx context.Context, rank int) error {
			return e.alive(ctx, shells[rank], rank)
		})
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
}

func (e *Engine) alive(ctx context.Context, sh Shell, rank int) error {
	var out bytes.Buffer
	err := sh.Run(ctx, e.aliveScript(rank), remote.RunOptions{Stdout: &out, Stderr: &out})
	var ee *remote.ExitError
	if !errors.As(err, &ee) || ee.Status != exitDied {
		return nil
	}
	role, log, _ := strings.Cut(out.String(), "\n")
	return fmt.Errorf("the %s %s on %s exited; the end of its log, %s:\n%s", e.flavor.name(), role, e.opts.Nodes[rank].Name, e.logPath(rank, role), excerpt(log))
}

// check runs the ready program on the orchestrator.
func (e *Engine) check(ctx context.Context, shells []Shell, deadline time.Time) (*Ready, error) {
	var stdout, stderr bytes.Buffer
	opts := remote.RunOptions{Env: e.daemonEnv(0), Dir: e.opts.Nodes[0].Work, Stdout: &stdout, Stderr: &stderr}
	err := shells[0].Run(ctx, e.readyScript(time.Until(deadline)), opts)
	var ee *remote.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.Status == exitNotReady) {
		return nil, fmt.Errorf("the %s client on %s could not reach %s with the job's environment: %w\n%s",
			e.flavor.name(), e.opts.Nodes[0].Name, e.Address(), err, excerpt(stderr.String()))
	}
	var ready Ready
	if jerr := json.Unmarshal(stdout.Bytes(), &ready); jerr != nil {
		return nil, fmt.Errorf("the %s ready check on %s printed %q: %w\n%s", e.flavor.name(), e.opts.Nodes[0].Name, stdout.String(), jerr, excerpt(stderr.String()))
	}
	if err != nil {
		return nil, e.notReady(ctx, shells, &ready)
	}
	if e.opts.TLS && e.flavor.name() == "dask" {
		for _, w := range ready.Workers {
			if !strings.HasPrefix(w.Address, "tls://") {
				return nil, fmt.Errorf("dask worker %s (%s) joined at %s, not over TLS", w.Name, w.Host, w.Address)
			}
		}
	}
	return &ready, nil
}

// notReady explains a timeout: which nodes have no worker yet, and the end
// of their logs.
func (e *Engine) notReady(ctx context.Context, shells []Shell, ready *Ready) error {
	var missing []string
	var logs strings.Builder
	for _, rank := range e.flavor.wantRanks(e) {
		n := e.opts.Nodes[rank]
		if slices.ContainsFunc(ready.Workers, func(w Worker) bool { return w.Host == n.IP }) {
			continue
		}
		missing = append(missing, n.Name)
		dms := e.flavor.daemons(e, rank)
		role := dms[len(dms)-1].role
		out, _ := output(ctx, shells[rank], e.tailScript(rank, role))
		fmt.Fprintf(&logs, "\n%s, %s:\n%s", n.Name, e.logPath(rank, role), excerpt(out))
	}
	return fmt.Errorf("%d of %d %s workers joined within %s; none from %s; the end of their logs:%s",
		len(ready.Workers), e.flavor.want(e), e.flavor.name(), e.opts.ReadyTimeout, strings.Join(missing, ", "), logs.String())
}

// Stop ends the engine's daemons on every node at once, the last started
// first: SIGTERM to each daemon's process group, SIGKILL after a grace.
// It is idempotent: a node where nothing runs, or where Start never got
// to, is done. A nil shell (a node never reached) is skipped; a nil
// *remote.Client in a Shell is not nil, so pass nil itself.
func (e *Engine) Stop(ctx context.Context, shells []Shell) error {
	if e.flavor == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	return e.each(ctx, e.ranks(), func(ctx context.Context, rank int) error {
		if rank >= len(shells) || shells[rank] == nil {
			return nil
		}
		if _, err := output(ctx, shells[rank], e.stopScript(rank)); err != nil {
			return fmt.Errorf("stop %s on %s: %w", e.flavor.name(), e.opts.Nodes[rank].Name, err)
		}
		return nil
	})
}

// ranks are all the nodes' ranks.
func (e *Engine) ranks() []int {
	r := make([]int, len(e.opts.Nodes))
	for i := range r {
		r[i] = i
	}
	return r
}

// each runs fn for every rank at once and joins the errors, which name
// their nodes.
func (e *Engine) each(ctx context.Context, ranks []int, fn func(ctx context.Context, rank int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ranks))
	for i, rank := range ranks {
		wg.Go(func() { errs[i] = fn(ctx, rank) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// output runs script and returns its output, stdout and stderr together.
func output(ctx context.Context, sh Shell, script string) (string, error) {
	var out bytes.Buffer
	err := sh.Run(ctx, script, remote.RunOptions{Stdout: &out, Stderr: &out})
	if err != nil && out.Len() > 0 {
		err = fmt.Errorf("%w\n%s", err, excerpt(out.String()))
	}
	return out.String(), err
}

// excerpt is the end of a log as an error shows it: Python's traceback
// frames (a "  File" line, the source lines indented under it, the ^^^
// markers) left out, so the exceptions, whose chain tells what went wrong
// ("TLS certificate does not match", then "Nanny failed to start"), fit in
// shownLines.
func excerpt(log string) string {
	var kept []string
	frame := false
	for _, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case strings.HasPrefix(line, "  File \""):
			frame = true
			continue
		case frame && indent >= 4:
			continue
		case strings.Trim(line, " ^~") == "" && line != "":
			continue
		}
		frame = false
		kept = append(kept, line)
	}
	if len(kept) > shownLines {
		kept = kept[len(kept)-shownLines:]
	}
	return strings.Join(kept, "\n")
}

// lastLine is the last non-empty line of s, where tools say why they failed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
