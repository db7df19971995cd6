//go:build torch

package torch

import (
	"context"
	"runtime"
	"sync"
)

// All of this package's libtorch work runs on one dedicated OS thread, the torch thread.
//
// Why: libtorch keeps per-thread state (grad mode, the last error, the intra-op thread count, and
// OpenMP's worker team, which belongs to the thread that starts a parallel region). Goroutines move
// between OS threads, and every new OS thread that enters libtorch gets a team of its own; measured on two
// cores, generation on a model used from a second thread ran at 120–390 tokens/s instead of 520–660.
// One thread keeps one team, and serialises the work, which two cores cannot run faster in parallel anyway.
//
// Consequences: public calls queue behind each other (a Provider's Generate waits while Train runs in the
// same process), and code running on the torch thread (for example a Train Progress callback) must not
// call back into this package's exported functions, which would wait for themselves.
var (
	torchOnce sync.Once
	torchWork chan func()
)

func startTorchThread() {
	torchWork = make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the process
		for f := range torchWork {
			f()
		}
	}()
}

// onTorchThread runs f on the torch thread and waits for it. It returns ctx.Err() without running f when
// ctx ends first; once f started, f itself must watch ctx. A libtorch failure inside f (a *torchError
// panic) is returned as the error; other panics are re-raised in the caller.
func onTorchThread(ctx context.Context, f func() error) error {
	torchOnce.Do(startTorchThread)
	var (
		err      error
		panicked any
	)
	done := make(chan struct{})
	job := func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				if te, ok := r.(*torchError); ok {
					err = te
					return
				}
				panicked = r
			}
		}()
		err = f()
	}
	select {
	case torchWork <- job:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-done
	if panicked != nil {
		panic(panicked)
	}
	return err
}

// setThreads sets libtorch's intra-op thread count on the calling thread (n ≤ 0: runtime.NumCPU()).
func setThreads(n int) {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	if numThreads() != n {
		setNumThreads(n)
	}
}
