package providers

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryConfig bounds the Retry decorator. A zero field takes the value from
// DefaultRetryConfig, so RetryConfig{MaxAttempts: 1} disables retries and
// keeps the other defaults.
type RetryConfig struct {
	// MaxAttempts is the most calls made for one request, the first included.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; it doubles with each
	// further retry, up to MaxDelay. The actual wait is drawn uniformly from
	// [d/2, d] ("equal jitter") so concurrent callers spread out.
	BaseDelay time.Duration
	// MaxDelay caps one backoff wait.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest server Retry-After hint honoured. When a
	// server asks for a longer wait, Retry gives up at once and returns the
	// error (with its RetryAfter) instead of stalling the run.
	MaxRetryAfter time.Duration
}

// DefaultRetryConfig returns 4 attempts, a 500ms base delay doubling to at
// most 20s, and Retry-After hints honoured up to 60s.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{
		MaxAttempts:   4,
		BaseDelay:     500 * time.Millisecond,
		MaxDelay:      20 * time.Second,
		MaxRetryAfter: 60 * time.Second,
	}
}

func (c RetryConfig) withDefaults() RetryConfig {
	d := DefaultRetryConfig()
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = d.BaseDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = d.MaxDelay
	}
	if c.MaxDelay < c.BaseDelay {
		c.MaxDelay = c.BaseDelay
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = d.MaxRetryAfter
	}
	return c
}

// Retry returns p wrapped so that failures of a temporary Kind (see
// Kind.Temporary) are retried, up to cfg.MaxAttempts calls in all.
//
// Between attempts it waits for the server's Retry-After hint when the error
// carries one (plus up to 10% jitter; a hint above cfg.MaxRetryAfter ends the
// retries), otherwise for a jittered exponential backoff. It never waits past
// ctx's deadline: when the next wait would end after it, the last error is
// returned at once. Cancelling ctx during a wait returns promptly with a
// *Error of KindCanceled (KindTimeout for an expired deadline).
//
// Every returned *Response and *Error carries Attempts, the number of calls
// made. Errors that are not a *Error are converted to one. The result
// implements Streamer exactly when p does; a stream is retried only while no
// chunk has reached fn, since chunks already delivered cannot be taken back
// — except a stream the server ended early (KindStreamTruncated), which is
// retried whatever was delivered: the first chunk of the new attempt has
// Chunk.Restart set, so fn can discard what it had.
//
// The result is safe for concurrent use when p is.
func Retry(p Provider, cfg RetryConfig) Provider {
	r := &retrier{p: p, cfg: cfg.withDefaults()}
	if s, ok := p.(Streamer); ok {
		return &streamRetrier{retrier: r, s: s}
	}
	return r
}

// RetryCall runs call, a provider call other than Generate (a Batch API's
// upload, create or status), with Retry's policy: failures of a temporary
// Kind are retried up to cfg.MaxAttempts calls, waiting as Retry waits. call
// must be safe to repeat. The error is nil, or a *Error carrying Attempts.
func RetryCall(ctx context.Context, cfg RetryConfig, call func() error) error {
	r := &retrier{cfg: cfg.withDefaults()}
	_, err := r.do(ctx, func() (*Response, error) { return nil, call() }, nil)
	return err
}

type retrier struct {
	p   Provider
	cfg RetryConfig
}

type streamRetrier struct {
	*retrier
	s Streamer
}

func (r *retrier) Generate(ctx context.Context, req *Request) (*Response, error) {
	return r.do(ctx, func() (*Response, error) { return r.p.Generate(ctx, req) }, nil)
}

func (r *streamRetrier) Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error) {
	// delivered: fn has seen a chunk; restart: the chunks fn has seen are
	// void (the server cut the stream short) and the next one says so.
	delivered, restart := false, false
	call := func() (*Response, error) {
		first := true
		resp, err := r.s.Stream(ctx, req, func(c Chunk) error {
			if first && restart {
				c.Restart = true
			}
			first = false
			delivered, restart = true, false
			return fn(c)
		})
		if err != nil && delivered && KindOf(err) == KindStreamTruncated {
			restart = true
		}
		return resp, err
	}
	return r.do(ctx, call, func() bool { return !delivered || restart })
}

// do runs call until it succeeds, fails permanently, or the attempts run
// out. retryable, when not nil, reports whether the last failure may be
// retried at all.
func (r *retrier) do(ctx context.Context, call func() (*Response, error), retryable func() bool) (*Response, error) {
	for attempt := 1; ; attempt++ {
		start := time.Now()
		resp, err := call()
		if err == nil {
			if resp != nil {
				resp.Attempts = attempt
				resp.LastAttempt = time.Since(start)
			}
			return resp, nil
		}
		pe := asError(err)
		if ce := ctxError(ctx, pe.Provider); ce != nil {
			if pe.Kind != KindCanceled && pe.Kind != KindTimeout {
				pe = ce
			}
			return nil, withAttempts(pe, attempt)
		}
		if (retryable != nil && !retryable()) || attempt >= r.cfg.MaxAttempts || !pe.Kind.Temporary() {
			return nil, withAttempts(pe, attempt)
		}
		wait, ok := r.backoff(attempt, pe)
		if !ok {
			return nil, withAttempts(pe, attempt)
		}
		if dl, has := ctx.Deadline(); has && time.Now().Add(wait).After(dl) {
			return nil, withAttempts(pe, attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, withAttempts(ctxError(ctx, pe.Provider), attempt)
		case <-t.C:
		}
	}
}

// backoff returns how long to wait before attempt+1, or false when the
// server's Retry-After hint exceeds the configured cap.
func (r *retrier) backoff(attempt int, pe *Error) (time.Duration, bool) {
	if pe.RetryAfter > 0 {
		if pe.RetryAfter > r.cfg.MaxRetryAfter {
			return 0, false
		}
		return pe.RetryAfter + jitter(pe.RetryAfter/10), true
	}
	d := r.cfg.BaseDelay
	for i := 1; i < attempt && d < r.cfg.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.cfg.MaxDelay)
	return d/2 + jitter(d-d/2), true
}

// jitter returns a uniform random duration in [0, max].
func jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max + 1)
}

// asError returns err's *Error, converting other errors into one.
func asError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Kind: classifyTransport(err), Err: err}
}

// withAttempts returns a copy of pe with Attempts set, so the inner
// provider's error value is never mutated.
func withAttempts(pe *Error, n int) *Error {
	cp := *pe
	cp.Attempts = n
	return &cp
}
