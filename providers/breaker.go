package providers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// BreakerConfig configures the Breaker decorator. A zero field takes its
// default.
type BreakerConfig struct {
	// Name is the provider name put on the errors Breaker itself returns.
	Name string
	// Threshold is how many consecutive calls failing to reach the target
	// open the circuit. Default 5; negative: Breaker returns p unwrapped.
	Threshold int
	// Cooldown is how long an open circuit refuses calls before it lets
	// one trial call through. Default 30s.
	Cooldown time.Duration
}

// DefaultBreakerThreshold and DefaultBreakerCooldown are BreakerConfig's
// defaults.
const (
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 30 * time.Second
)

// Breaker returns p wrapped in a circuit breaker: after cfg.Threshold
// consecutive calls that failed without reaching a working server —
// connection refused, reset or unreachable (KindUnavailable with no HTTP
// status), no answer in time (KindTimeout with no HTTP status), or
// credentials refused (KindAuth) — it stops calling p and fails every call
// at once with a *Error of KindCircuitOpen whose message names the
// underlying cause (and whose Err is the last such failure). KindCircuitOpen
// is not temporary, so a Retry decorator outside Breaker stops at once.
//
// After cfg.Cooldown one trial call is let through: a success closes the
// circuit, another such failure opens it for a further cooldown. Any answer
// from the server (success or an error with an HTTP status other than
// 401/403) resets the count; cancellations neither count nor reset.
//
// Compose it inside Retry, so every attempt counts: against a closed port,
// a run of thousands of cases makes about Threshold connection attempts
// (plus the calls already in flight) and then fails fast.
//
// The result implements Streamer exactly when p does. It is safe for
// concurrent use when p is.
func Breaker(p Provider, cfg BreakerConfig) Provider {
	if cfg.Threshold < 0 {
		return p
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultBreakerThreshold
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = DefaultBreakerCooldown
	}
	b := &breaker{p: p, cfg: cfg, now: time.Now}
	if s, ok := p.(Streamer); ok {
		return &streamBreaker{breaker: b, s: s}
	}
	return b
}

type breaker struct {
	p   Provider
	cfg BreakerConfig
	now func() time.Time

	mu        sync.Mutex
	failures  int    // consecutive failures to reach the target
	last      *Error // the latest of them
	open      bool
	openUntil time.Time
	trial     bool // a trial call is in flight while open
}

type streamBreaker struct {
	*breaker
	s Streamer
}

func (b *breaker) Generate(ctx context.Context, req *Request) (*Response, error) {
	trial, err := b.admit()
	if err != nil {
		return nil, err
	}
	resp, err := b.p.Generate(ctx, req)
	b.done(ctx, trial, err)
	return resp, err
}

func (b *streamBreaker) Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error) {
	trial, err := b.admit()
	if err != nil {
		return nil, err
	}
	resp, err := b.s.Stream(ctx, req, fn)
	b.done(ctx, trial, err)
	return resp, err
}

// admit lets a call through, reporting whether it is the trial call of an
// open circuit, or refuses it with KindCircuitOpen.
func (b *breaker) admit() (trial bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return false, nil
	}
	if b.trial || b.now().Before(b.openUntil) {
		return false, b.openError()
	}
	b.trial = true
	return true, nil
}

func (b *breaker) openError() *Error {
	return &Error{Kind: KindCircuitOpen, Provider: b.cfg.Name, Err: b.last, Message: fmt.Sprintf(
		"circuit open: not sending to this target after %d consecutive failures to reach it, the last: %s (next trial in at most %v)",
		b.failures, b.last.Error(), b.cfg.Cooldown)}
}

// done records the outcome of an admitted call.
func (b *breaker) done(ctx context.Context, trial bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if trial {
		b.trial = false
	}
	if err == nil {
		b.failures, b.open = 0, false
		return
	}
	var pe *Error
	if !errors.As(err, &pe) {
		pe = asError(err)
	}
	switch {
	case ctx.Err() != nil || pe.Kind == KindCanceled || pe.Kind == KindCircuitOpen:
		return // the caller gave up: says nothing about the target
	case !unreachable(pe):
		b.failures, b.open = 0, false // the server answered
		return
	}
	b.failures++
	b.last = pe
	if b.failures >= b.cfg.Threshold || trial {
		b.open = true
		b.openUntil = b.now().Add(b.cfg.Cooldown)
	}
}

// unreachable reports whether pe says the target could not be reached or
// will refuse every call: what Breaker counts.
func unreachable(pe *Error) bool {
	switch pe.Kind {
	case KindAuth:
		return true
	case KindUnavailable, KindTimeout:
		return pe.StatusCode == 0
	}
	return false
}
