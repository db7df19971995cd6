// Command yardstick benchmarks and compares language models on a team's own
// suites, fine-tunes a local model, and gates CI on model quality.
//
// The command is a thin layer over the library packages: it parses flags and
// app config, composes providers with their decorators, runs the bench.Runner
// and renders reports. All logic lives in run, which takes its arguments,
// environment and writers, so the whole CLI is tested in-process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C cancels ctx: the run stops, flushes and writes its
	// reports. Restoring the default handling then lets a second Ctrl-C end
	// the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
