package providers

import (
	"context"
	"sync"
	"sync/atomic"
)

// OneAtATimeAfterTruncation returns p wrapped so that, once p has failed
// with KindStreamTruncated, every later call waits for the one before it
// to finish: the target gets one request at a time for the rest of the
// wrapper's life. onSwitch, when not nil, is called once, at the switch,
// for a warning.
//
// It exists for servers that cut a running stream short whenever another
// request arrives (llama-cpp-python with its default interrupt_requests):
// at any concurrency above one nearly every stream is cut, and retrying
// cannot help while requests overlap. Compose it inside Retry, so the
// retries of the cut streams are the first calls sent one at a time.
// Calls already in flight at the switch run to their end unserialized.
//
// The result implements Streamer exactly when p does. It is safe for
// concurrent use when p is.
func OneAtATimeAfterTruncation(p Provider, onSwitch func()) Provider {
	o := &oneAtATime{p: p, warn: onSwitch}
	if s, ok := p.(Streamer); ok {
		return &streamOneAtATime{oneAtATime: o, s: s}
	}
	return o
}

type oneAtATime struct {
	p       Provider
	warn    func()
	serial  atomic.Bool
	mu      sync.Mutex
	warning sync.Once
}

type streamOneAtATime struct {
	*oneAtATime
	s Streamer
}

func (o *oneAtATime) Generate(ctx context.Context, req *Request) (*Response, error) {
	return o.do(func() (*Response, error) { return o.p.Generate(ctx, req) })
}

func (o *streamOneAtATime) Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error) {
	return o.do(func() (*Response, error) { return o.s.Stream(ctx, req, fn) })
}

func (o *oneAtATime) do(call func() (*Response, error)) (*Response, error) {
	if o.serial.Load() {
		o.mu.Lock()
		defer o.mu.Unlock()
	}
	resp, err := call()
	if err != nil && KindOf(err) == KindStreamTruncated && !o.serial.Swap(true) && o.warn != nil {
		o.warning.Do(o.warn)
	}
	return resp, err
}
