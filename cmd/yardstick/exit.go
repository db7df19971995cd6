package main

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes. They are part of the CLI's contract and documented in the README.
const (
	exitOK          = 0   // everything ran and every threshold held
	exitFailure     = 1   // a runtime failure: provider setup, I/O, budget reached
	exitUsage       = 2   // bad flags, bad app config, bad suite file or threshold
	exitThresholds  = 99  // the run completed and at least one threshold was crossed
	exitInterrupted = 130 // SIGINT/SIGTERM: partial results were flushed
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as a usage or configuration error (exit 2).
func usageErr(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// usageErrf formats a usage or configuration error (exit 2).
func usageErrf(format string, args ...any) error {
	return usageErr(fmt.Errorf(format, args...))
}

// errThresholds is returned when a completed run crossed a threshold; the
// details were already printed.
var errThresholds = &exitError{code: exitThresholds, err: errors.New("thresholds crossed")}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return exitInterrupted
	}
	return exitFailure
}
