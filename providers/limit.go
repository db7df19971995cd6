package providers

import (
	"context"
	"sync"
	"time"
	"unicode/utf8"
)

// LimitConfig sets one provider's client-side limits. A zero field means no
// limit of that kind.
type LimitConfig struct {
	// Name is the provider name put on errors Limit itself returns (a
	// canceled wait); it is usually the adapter's name.
	Name string
	// Concurrency is the most calls in flight at once.
	Concurrency int
	// RequestsPerMinute paces calls. Up to RequestsPerMinute/60 calls (at
	// least one) may start back to back; after that they are spaced evenly,
	// so no window of a minute sees much more than RequestsPerMinute calls.
	RequestsPerMinute int
	// TokensPerMinute paces input plus output tokens with a token bucket that
	// holds one minute's worth, like the providers' own. Before a call its
	// tokens are estimated with EstimateTokens; afterwards the bucket is
	// corrected with the Usage the provider reported. A failed call gives
	// its estimate back.
	TokensPerMinute int
}

// defaultOutputEstimate is the output-token estimate for a request that
// leaves MaxTokens unset.
const defaultOutputEstimate = 256

// EstimateTokens returns a rough upper-leaning estimate of the tokens req
// will use: its prompt characters (runes) divided by 4, rounded up, plus
// MaxTokens (256 when MaxTokens is unset). It is used for client-side rate
// limiting, never for billing.
func EstimateTokens(req *Request) int {
	n := utf8.RuneCountInString(req.System)
	for _, m := range req.Messages {
		n += utf8.RuneCountInString(m.Content)
	}
	out := req.MaxTokens
	if out <= 0 {
		out = defaultOutputEstimate
	}
	return (n+3)/4 + out
}

// Limit returns p wrapped so that calls respect cfg. Waits for a
// concurrency slot or for rate budget honour ctx: cancelling it returns
// promptly with a *Error of KindCanceled (KindTimeout for an expired
// deadline) and gives back any budget reserved. Rate budget is reserved in
// arrival order, so waiting callers are served first come, first served.
//
// The result implements Streamer exactly when p does; a stream holds its
// concurrency slot until it ends. It is safe for concurrent use when p is.
func Limit(p Provider, cfg LimitConfig) Provider {
	l := &limiter{p: p, name: cfg.Name}
	if cfg.Concurrency > 0 {
		l.sem = make(chan struct{}, cfg.Concurrency)
	}
	if cfg.RequestsPerMinute > 0 {
		rpm := float64(cfg.RequestsPerMinute)
		l.requests = newBucket(rpm/60, max(1, rpm/60))
	}
	if cfg.TokensPerMinute > 0 {
		tpm := float64(cfg.TokensPerMinute)
		l.tokens = newBucket(tpm/60, tpm)
	}
	if s, ok := p.(Streamer); ok {
		return &streamLimiter{limiter: l, s: s}
	}
	return l
}

type limiter struct {
	p        Provider
	name     string
	sem      chan struct{}
	requests *bucket // nil: unlimited
	tokens   *bucket // nil: unlimited
}

type streamLimiter struct {
	*limiter
	s Streamer
}

func (l *limiter) Generate(ctx context.Context, req *Request) (*Response, error) {
	return l.do(ctx, req, func() (*Response, error) { return l.p.Generate(ctx, req) })
}

func (l *streamLimiter) Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error) {
	return l.do(ctx, req, func() (*Response, error) { return l.s.Stream(ctx, req, fn) })
}

func (l *limiter) do(ctx context.Context, req *Request, call func() (*Response, error)) (*Response, error) {
	if l.sem != nil {
		select {
		case l.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctxError(ctx, l.name)
		}
		defer func() { <-l.sem }()
	}
	var wait time.Duration
	estimate := 0
	if l.requests != nil {
		wait = max(wait, l.requests.reserve(1))
	}
	if l.tokens != nil {
		estimate = EstimateTokens(req)
		wait = max(wait, l.tokens.reserve(float64(estimate)))
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if l.requests != nil {
				l.requests.adjust(-1)
			}
			if l.tokens != nil {
				l.tokens.adjust(-float64(estimate))
			}
			return nil, ctxError(ctx, l.name)
		case <-t.C:
		}
	}
	resp, err := call()
	if l.tokens != nil {
		switch {
		case err != nil:
			l.tokens.adjust(-float64(estimate))
		case resp != nil && resp.Usage.Total() > 0:
			l.tokens.adjust(float64(resp.Usage.Total() - estimate))
		}
	}
	return resp, err
}

// bucket is a token bucket that allows debt: reserve always succeeds and
// says how long the caller must wait for the level to be paid back.
type bucket struct {
	mu       sync.Mutex
	rate     float64 // units per second
	capacity float64
	level    float64
	last     time.Time
}

func newBucket(perSecond, capacity float64) *bucket {
	return &bucket{rate: perSecond, capacity: capacity, level: capacity, last: time.Now()}
}

// refill must be called with mu held.
func (b *bucket) refill() {
	now := time.Now()
	b.level = min(b.capacity, b.level+b.rate*now.Sub(b.last).Seconds())
	b.last = now
}

// reserve takes n units and returns how long until the bucket is out of debt.
func (b *bucket) reserve(n float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	b.level -= n
	if b.level >= 0 {
		return 0
	}
	return time.Duration(-b.level / b.rate * float64(time.Second))
}

// adjust takes delta more units (gives them back when delta < 0).
func (b *bucket) adjust(delta float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	b.level = min(b.capacity, b.level-delta)
}
