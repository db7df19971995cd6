package providers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

func refused() error {
	return &providers.Error{Kind: providers.KindUnavailable, Provider: "fake", Message: "dial tcp 127.0.0.1:1: connect: connection refused"}
}

func status(kind providers.Kind, code int) error {
	return &providers.Error{Kind: kind, Provider: "fake", StatusCode: code, Message: string(kind)}
}

func TestBreaker(t *testing.T) {
	cfg := providers.BreakerConfig{Name: "fake", Threshold: 3, Cooldown: time.Hour}
	tests := []struct {
		name      string
		script    []error // nil: success
		wantCalls int     // calls reaching the inner provider out of len(script)+2
		wantOpen  bool    // the last two calls fail with circuit_open
	}{
		{"opens after K connection failures", []error{refused(), refused(), refused()}, 3, true},
		{"auth failures count", []error{status(providers.KindAuth, 401), status(providers.KindAuth, 401), status(providers.KindAuth, 403)}, 3, true},
		{"timeouts without a response count", []error{perr(providers.KindTimeout), perr(providers.KindTimeout), perr(providers.KindTimeout)}, 3, true},
		{"a success resets", []error{refused(), refused(), nil, refused(), refused()}, 7, false},
		{"a server answer resets", []error{refused(), refused(), status(providers.KindUnavailable, 503), refused(), refused()}, 7, false},
		{"answered errors never open", []error{status(providers.KindUnavailable, 500), status(providers.KindUnavailable, 502), status(providers.KindInvalidRequest, 400), status(providers.KindRateLimit, 429)}, 6, false},
		{"cancellations do not count", []error{refused(), refused(), perr(providers.KindCanceled), refused()}, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &scripted{}
			for _, e := range tt.script {
				inner.script = append(inner.script, result{text: "ok", err: e})
			}
			p := providers.Breaker(inner, cfg)
			var last []error
			for range len(tt.script) + 2 {
				_, err := p.Generate(context.Background(), &providers.Request{})
				last = append(last, err)
			}
			if inner.Calls() != tt.wantCalls {
				t.Errorf("inner calls = %d, want %d", inner.Calls(), tt.wantCalls)
			}
			for _, err := range last[len(last)-2:] {
				open := providers.KindOf(err) == providers.KindCircuitOpen
				if open != tt.wantOpen {
					t.Fatalf("last calls: err = %v, want circuit open %v", err, tt.wantOpen)
				}
				if !open {
					continue
				}
				var pe *providers.Error
				errors.As(err, &pe)
				if pe.Provider != "fake" || pe.Kind.Temporary() || pe.Err == nil {
					t.Errorf("circuit error %+v: want provider fake, not temporary, the cause in Err", pe)
				}
				if !strings.Contains(pe.Message, "consecutive") || !strings.Contains(pe.Message, pe.Err.Error()) {
					t.Errorf("message %q does not name the cause %q", pe.Message, pe.Err)
				}
			}
		})
	}
}

func TestBreakerTrialAfterCooldown(t *testing.T) {
	inner := &streaming{scripted{script: []result{{err: refused()}, {err: refused()}, {err: refused()}, {text: "back"}}}}
	p := providers.Breaker(inner, providers.BreakerConfig{Name: "fake", Threshold: 2, Cooldown: 20 * time.Millisecond})
	s, ok := p.(providers.Streamer)
	if !ok {
		t.Fatal("Breaker dropped the Streamer capability")
	}
	call := func() error {
		_, err := s.Stream(context.Background(), &providers.Request{}, func(providers.Chunk) error { return nil })
		return err
	}
	call()
	call() // opens
	if err := call(); providers.KindOf(err) != providers.KindCircuitOpen {
		t.Fatalf("err = %v, want circuit_open", err)
	}
	time.Sleep(30 * time.Millisecond)
	if err := call(); providers.KindOf(err) != providers.KindUnavailable { // the trial fails: open again
		t.Fatalf("trial: err = %v, want the target's own error", err)
	}
	if err := call(); providers.KindOf(err) != providers.KindCircuitOpen {
		t.Fatalf("after a failed trial: err = %v, want circuit_open", err)
	}
	time.Sleep(30 * time.Millisecond)
	if err := call(); err != nil { // the trial succeeds: closed
		t.Fatalf("second trial: %v", err)
	}
	if err := call(); err != nil {
		t.Fatalf("closed again: %v", err)
	}
	if inner.Calls() != 5 {
		t.Errorf("inner calls = %d, want 5", inner.Calls())
	}
}

// Inside Retry, against a target that refuses every connection, the number
// of calls reaching it stays near the threshold however many requests come.
func TestBreakerBoundsAttemptsUnderRetry(t *testing.T) {
	inner := &scripted{}
	for range 5000 {
		inner.script = append(inner.script, result{err: refused()})
	}
	p := providers.Retry(providers.Breaker(inner, providers.BreakerConfig{Name: "fake"}), fastRetry)
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds := map[providers.Kind]int{}
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				_, err := p.Generate(context.Background(), &providers.Request{})
				mu.Lock()
				kinds[providers.KindOf(err)]++
				mu.Unlock()
			}
		}()
	}
	for i := range 2000 {
		work <- i
	}
	close(work)
	wg.Wait()
	if n := inner.Calls(); n > providers.DefaultBreakerThreshold+8 {
		t.Errorf("%d calls reached the dead target, want at most threshold + workers", n)
	}
	if kinds[providers.KindCircuitOpen] < 1990 {
		t.Errorf("kinds = %v: want nearly all circuit_open", kinds)
	}
}

func TestBreakerDisabled(t *testing.T) {
	inner := &scripted{}
	if p := providers.Breaker(inner, providers.BreakerConfig{Threshold: -1}); p != providers.Provider(inner) {
		t.Error("a negative threshold should return the provider unwrapped")
	}
}
