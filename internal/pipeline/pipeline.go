// Package pipeline runs a sequence of steps that each know how to undo
// themselves, in the spirit of HashiCorp's packer-plugin-sdk multistep, with
// typed state instead of a bag of interface{} values and with cleanup errors
// returned rather than logged and forgotten.
//
// Teardown is the first of sear's four layers (docs/design.md, "Teardown in
// four layers"): whatever a step created, its Cleanup deletes, in reverse
// order, on a context that a signal cannot cancel but a deadline bounds.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultCleanupTimeout bounds the whole teardown when Options.CleanupTimeout
// is zero. Terminating instances and waiting for EC2 to release their network
// interfaces before deleting a security group takes minutes, not seconds.
const DefaultCleanupTimeout = 10 * time.Minute

// Step is one stage of a pipeline working on state S.
//
// Run does the work and records in S, as soon as it exists, every resource it
// creates, so that Cleanup can find it even when Run fails or panics halfway.
// Cleanup undoes what Run recorded; it must tolerate a Run that did nothing or
// only part of its work, and should treat "not found" as success. Either may be
// nil.
type Step[S any] struct {
	Name    string
	Run     func(ctx context.Context, s *S) error
	Cleanup func(ctx context.Context, s *S) error
}

// Options tunes Run. The zero value is ready to use.
type Options struct {
	// CleanupTimeout bounds the whole teardown (all cleanups together, not
	// each one), so that a cancelled run ends within a known time. Zero means
	// DefaultCleanupTimeout.
	CleanupTimeout time.Duration

	// Abandon, if not nil, is closed to give up on the teardown: the
	// cleanup context is cancelled, so cleanups waiting on something slow
	// return at once. sear closes it on a second signal; what a first
	// signal already started (the fast terminate call) is not on this
	// context and goes on.
	Abandon <-chan struct{}

	// Observe, if not nil, is called synchronously when each Run and Cleanup
	// starts and ends; see Event. It runs on the pipeline's goroutine, so it
	// should be quick and must not call back into the pipeline.
	Observe func(Event)
}

// Run runs steps in order on s and then cleans up.
//
// A step is registered before its Run is called, so its Cleanup runs even if
// Run fails or panics. A panic is recovered and returned as a *PanicError. Once
// a Run fails, or ctx is done between steps, no further Run starts. Then the
// Cleanup of every registered step runs in reverse order, whether the run
// succeeded or not, on context.WithoutCancel(ctx) with a CleanupTimeout
// deadline; a failing cleanup does not stop the others.
//
// The returned error joins (errors.Join) the run error, wrapped as
// `run "name": ...`, with every cleanup error, wrapped as `cleanup "name": ...`.
// If ctx was cancelled, the error satisfies errors.Is for ctx.Err() and for
// context.Cause(ctx).
func Run[S any](ctx context.Context, s *S, steps []Step[S], opts Options) error {
	r := runner[S]{state: s, opts: opts}
	runErr := r.runAll(ctx, steps)
	cleanupErr := r.cleanupAll(ctx)
	return errors.Join(runErr, cleanupErr)
}

// runner holds what Run needs between its run and cleanup halves.
type runner[S any] struct {
	state      *S
	opts       Options
	registered []Step[S]
}

// runAll runs steps until one fails or ctx is done, registering each first.
func (r *runner[S]) runAll(ctx context.Context, steps []Step[S]) error {
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("before step %q: %w", step.Name, cancelError(ctx))
		}
		r.registered = append(r.registered, step)
		if err := r.call(ctx, step.Name, PhaseRun, step.Run); err != nil {
			return fmt.Errorf("run %q: %w", step.Name, err)
		}
	}
	return nil
}

// cleanupAll runs the cleanups of registered steps, last registered first.
func (r *runner[S]) cleanupAll(parent context.Context) error {
	timeout := r.opts.CleanupTimeout
	if timeout <= 0 {
		timeout = DefaultCleanupTimeout
	}
	// WithoutCancel: the signal that cancelled the run must not cancel the
	// teardown it started; the deadline keeps a stuck delete from hanging
	// the runner until GitHub kills the job and with it layer 1 of teardown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
	defer cancel()
	if r.opts.Abandon != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-r.opts.Abandon:
				cancel()
			case <-done:
			}
		}()
	}

	var errs []error
	for i := len(r.registered) - 1; i >= 0; i-- {
		step := r.registered[i]
		if err := r.call(ctx, step.Name, PhaseCleanup, step.Cleanup); err != nil {
			errs = append(errs, fmt.Errorf("cleanup %q: %w", step.Name, err))
		}
	}
	return errors.Join(errs...)
}

// call runs fn, reporting it to the observer and turning a panic into an
// error. A nil fn is a step with nothing to do in this phase.
func (r *runner[S]) call(ctx context.Context, name string, phase Phase, fn func(context.Context, *S) error) error {
	if fn == nil {
		return nil
	}
	start := time.Now()
	r.observe(Event{Step: name, Phase: phase, Start: start})
	err := protect(name, phase, func() error { return fn(ctx, r.state) })
	r.observe(Event{Step: name, Phase: phase, Start: start, Duration: time.Since(start), Err: err, Done: true})
	return err
}

// observe reports e if an observer was given.
func (r *runner[S]) observe(e Event) {
	if r.opts.Observe != nil {
		r.opts.Observe(e)
	}
}

// cancelError is the error for a run stopped by ctx: it matches both ctx.Err()
// and the cause, so callers can test for context.Canceled without knowing
// which cause (a signal, a timeout) was attached.
func cancelError(ctx context.Context) error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause == nil || errors.Is(cause, err) {
		return err
	}
	return fmt.Errorf("%w: %w", err, cause)
}
