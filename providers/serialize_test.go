package providers_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// truncatedOnce fails its first call with KindStreamTruncated and answers
// the others after a delay, recording the peak of calls in flight.
type truncatedOnce struct {
	inflight
	first atomic.Bool
}

func (p *truncatedOnce) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	if !p.first.Swap(true) {
		return nil, providers.TruncatedStream("fake", 200, 1)
	}
	return p.inflight.Generate(ctx, req)
}

func TestOneAtATimeAfterTruncation(t *testing.T) {
	inner := &truncatedOnce{inflight: inflight{delay: 2 * time.Millisecond}}
	warned := 0
	p := providers.OneAtATimeAfterTruncation(inner, func() { warned++ })
	if _, err := p.Generate(context.Background(), &providers.Request{}); providers.KindOf(err) != providers.KindStreamTruncated {
		t.Fatalf("first call: %v", err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Generate(context.Background(), &providers.Request{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if peak := inner.peak.Load(); peak != 1 {
		t.Errorf("peak in flight after a truncated stream = %d, want 1", peak)
	}
	if warned != 1 {
		t.Errorf("warned %d times, want 1", warned)
	}

	// Without a truncation, calls overlap freely.
	free := &inflight{delay: 20 * time.Millisecond}
	q := providers.OneAtATimeAfterTruncation(free, nil)
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); q.Generate(context.Background(), &providers.Request{}) }()
	}
	wg.Wait()
	if free.peak.Load() < 2 {
		t.Errorf("peak = %d: calls were serialized without cause", free.peak.Load())
	}
}
