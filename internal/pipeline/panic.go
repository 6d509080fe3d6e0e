package pipeline

import (
	"fmt"
	"runtime/debug"
)

// PanicError is returned in place of a panic in a step's Run or Cleanup. The
// panic is recovered rather than re-raised so the remaining cleanups still
// run: an unhandled panic would leave instances running until their
// dead-man's switch.
type PanicError struct {
	Step  string
	Phase Phase
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack, for a bug report
}

// Error gives the panic value; Run wraps it with the step's name, and the
// stack is left out so the message stays one line.
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v", e.Value)
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// protect calls fn and converts a panic into a *PanicError.
func protect(step string, phase Phase, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Step: step, Phase: phase, Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}
