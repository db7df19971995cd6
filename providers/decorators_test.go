package providers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// scripted is a Provider whose successive calls return the scripted results;
// calls past the script answer "ok". It counts calls.
type scripted struct {
	mu     sync.Mutex
	script []result
	calls  int
	delay  time.Duration
	usage  providers.Usage
}

type result struct {
	text string
	err  error
}

func (s *scripted) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	s.mu.Lock()
	i := s.calls
	s.calls++
	s.mu.Unlock()
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return nil, providers.Wrap("fake", ctx.Err())
		}
	}
	if i < len(s.script) {
		r := s.script[i]
		if r.err != nil {
			return nil, r.err
		}
		return &providers.Response{Text: r.text, Model: "m-resolved", Usage: s.usage}, nil
	}
	return &providers.Response{Text: "ok", Model: "m-resolved", Usage: s.usage}, nil
}

func (s *scripted) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// streaming adds Stream to scripted: it delivers the answer in two chunks.
type streaming struct{ scripted }

func (s *streaming) Stream(ctx context.Context, req *providers.Request, fn func(providers.Chunk) error) (*providers.Response, error) {
	resp, err := s.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	half := len(resp.Text) / 2
	for _, part := range []string{resp.Text[:half], resp.Text[half:]} {
		if err := fn(providers.Chunk{Text: part}); err != nil {
			return nil, err
		}
	}
	resp.TTFT = time.Millisecond
	return resp, nil
}

func perr(kind providers.Kind) error {
	return &providers.Error{Kind: kind, Provider: "fake", Message: string(kind)}
}

var fastRetry = providers.RetryConfig{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxRetryAfter: 2 * time.Second}

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		script    []result
		cfg       providers.RetryConfig
		wantCalls int
		wantKind  providers.Kind // "" means success
	}{
		{"success first time", nil, fastRetry, 1, ""},
		{"unavailable then ok", []result{{err: perr(providers.KindUnavailable)}}, fastRetry, 2, ""},
		{"rate limit twice then ok", []result{{err: perr(providers.KindRateLimit)}, {err: perr(providers.KindRateLimit)}}, fastRetry, 3, ""},
		{"bad response then ok", []result{{err: perr(providers.KindBadResponse)}}, fastRetry, 2, ""},
		{"timeout then ok", []result{{err: perr(providers.KindTimeout)}}, fastRetry, 2, ""},
		{"bounded", []result{{err: perr(providers.KindUnavailable)}, {err: perr(providers.KindUnavailable)}, {err: perr(providers.KindUnavailable)}, {err: perr(providers.KindUnavailable)}, {err: perr(providers.KindUnavailable)}}, fastRetry, 4, providers.KindUnavailable},
		{"max attempts 1 disables", []result{{err: perr(providers.KindUnavailable)}}, providers.RetryConfig{MaxAttempts: 1}, 1, providers.KindUnavailable},
		{"auth not retried", []result{{err: perr(providers.KindAuth)}}, fastRetry, 1, providers.KindAuth},
		{"invalid request not retried", []result{{err: perr(providers.KindInvalidRequest)}}, fastRetry, 1, providers.KindInvalidRequest},
		{"context length not retried", []result{{err: perr(providers.KindContextLength)}}, fastRetry, 1, providers.KindContextLength},
		{"not found not retried", []result{{err: perr(providers.KindNotFound)}}, fastRetry, 1, providers.KindNotFound},
		{"retry after beyond cap gives up", []result{{err: &providers.Error{Kind: providers.KindRateLimit, Provider: "fake", RetryAfter: time.Hour}}}, fastRetry, 1, providers.KindRateLimit},
		{"plain error converted", []result{{err: errors.New("boom")}}, fastRetry, 1, providers.KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &scripted{script: tt.script}
			p := providers.Retry(inner, tt.cfg)
			resp, err := p.Generate(context.Background(), &providers.Request{Model: "m"})
			if got := inner.Calls(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if resp.Attempts != tt.wantCalls {
					t.Errorf("Attempts = %d, want %d", resp.Attempts, tt.wantCalls)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want *providers.Error", err, err)
			}
			if pe.Kind != tt.wantKind {
				t.Errorf("Kind = %s, want %s", pe.Kind, tt.wantKind)
			}
			if pe.Attempts != tt.wantCalls {
				t.Errorf("Attempts = %d, want %d", pe.Attempts, tt.wantCalls)
			}
		})
	}
}

func TestRetryDoesNotMutateInnerError(t *testing.T) {
	e := &providers.Error{Kind: providers.KindUnavailable, Provider: "fake"}
	inner := &scripted{script: []result{{err: e}, {err: e}}}
	_, err := providers.Retry(inner, providers.RetryConfig{MaxAttempts: 2, BaseDelay: time.Millisecond}).Generate(context.Background(), &providers.Request{})
	if providers.KindOf(err) != providers.KindUnavailable {
		t.Fatalf("err = %v", err)
	}
	if e.Attempts != 0 {
		t.Errorf("inner error mutated: Attempts = %d", e.Attempts)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	inner := &scripted{script: []result{{err: &providers.Error{Kind: providers.KindRateLimit, Provider: "fake", RetryAfter: 300 * time.Millisecond}}}}
	p := providers.Retry(inner, fastRetry)
	start := time.Now()
	resp, err := p.Generate(context.Background(), &providers.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Errorf("waited %v, want ≥ 300ms (the Retry-After hint)", el)
	}
	if resp.Attempts != 2 {
		t.Errorf("Attempts = %d, want 2", resp.Attempts)
	}
}

func TestRetryCancelDuringBackoff(t *testing.T) {
	inner := &scripted{script: []result{{err: perr(providers.KindUnavailable)}}}
	p := providers.Retry(inner, providers.RetryConfig{MaxAttempts: 3, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := p.Generate(ctx, &providers.Request{})
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %v to return", el)
	}
	if k := providers.KindOf(err); k != providers.KindCanceled {
		t.Errorf("Kind = %s, want canceled (err %v)", k, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v does not wrap context.Canceled", err)
	}
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Attempts != 1 {
		t.Errorf("Attempts = %d, want 1", pe.Attempts)
	}
}

func TestRetryGivesUpBeforeDeadline(t *testing.T) {
	inner := &scripted{script: []result{{err: perr(providers.KindUnavailable)}}}
	p := providers.Retry(inner, providers.RetryConfig{MaxAttempts: 3, BaseDelay: 20 * time.Second, MaxDelay: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := p.Generate(ctx, &providers.Request{})
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v; a wait past the deadline should give up at once", el)
	}
	if k := providers.KindOf(err); k != providers.KindUnavailable {
		t.Errorf("Kind = %s, want the last error's kind", k)
	}
}

func TestRetryStream(t *testing.T) {
	t.Run("retried before first chunk", func(t *testing.T) {
		inner := &streaming{scripted{script: []result{{err: perr(providers.KindUnavailable)}, {text: "hello"}}}}
		p := providers.Retry(inner, fastRetry)
		s, ok := p.(providers.Streamer)
		if !ok {
			t.Fatal("Retry dropped the Streamer capability")
		}
		var got strings.Builder
		resp, err := s.Stream(context.Background(), &providers.Request{}, func(c providers.Chunk) error { got.WriteString(c.Text); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != "hello" || resp.Attempts != 2 {
			t.Errorf("chunks %q attempts %d", got.String(), resp.Attempts)
		}
	})
	t.Run("not retried after a chunk", func(t *testing.T) {
		inner := &streaming{}
		p := providers.Retry(inner, fastRetry).(providers.Streamer)
		_, err := p.Stream(context.Background(), &providers.Request{}, func(c providers.Chunk) error {
			return perr(providers.KindUnavailable) // fails after the first chunk was delivered
		})
		if providers.KindOf(err) != providers.KindUnavailable {
			t.Fatalf("err = %v", err)
		}
		if inner.Calls() != 1 {
			t.Errorf("calls = %d, want 1", inner.Calls())
		}
	})
	t.Run("no Streamer when inner has none", func(t *testing.T) {
		if _, ok := providers.Retry(&scripted{}, fastRetry).(providers.Streamer); ok {
			t.Error("Retry claims Streamer for a non-streaming provider")
		}
	})
}

// inflight is a Provider that records the most calls seen in flight at once.
type inflight struct {
	cur, peak atomic.Int64
	delay     time.Duration
	calls     atomic.Int64
}

func (p *inflight) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	p.calls.Add(1)
	n := p.cur.Add(1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	time.Sleep(p.delay)
	p.cur.Add(-1)
	return &providers.Response{Text: "ok", Usage: providers.Usage{InputTokens: 10, OutputTokens: 10}}, nil
}

func TestLimitConcurrency(t *testing.T) {
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			inner := &inflight{delay: 5 * time.Millisecond}
			p := providers.Limit(inner, providers.LimitConfig{Concurrency: conc})
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					if _, err := p.Generate(context.Background(), &providers.Request{}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if peak := inner.peak.Load(); peak > int64(conc) || peak < 1 {
				t.Errorf("peak in flight = %d, limit %d", peak, conc)
			}
			if inner.calls.Load() != 20 {
				t.Errorf("calls = %d", inner.calls.Load())
			}
		})
	}
}

func TestLimitRequestsPerMinute(t *testing.T) {
	// 600 rpm = 10/s with a burst of 10: the 15th call can start no sooner
	// than 0.5s after the first.
	inner := &inflight{}
	p := providers.Limit(inner, providers.LimitConfig{RequestsPerMinute: 600})
	start := time.Now()
	var wg sync.WaitGroup
	for range 15 {
		wg.Go(func() { p.Generate(context.Background(), &providers.Request{}) })
	}
	wg.Wait()
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("15 calls at 600 rpm took %v, want ≥ ~0.5s", el)
	}
}

func TestLimitTokensPerMinute(t *testing.T) {
	// 6000 tpm: 100 tokens/s refill into a bucket of 6000.
	quick := func(t *testing.T, p providers.Provider, req *providers.Request) {
		t.Helper()
		start := time.Now()
		if _, err := p.Generate(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("call waited %v, want no wait", el)
		}
	}
	blocked := func(t *testing.T, p providers.Provider, req *providers.Request) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := p.Generate(ctx, req)
		if k := providers.KindOf(err); k != providers.KindTimeout {
			t.Fatalf("Kind = %s, want timeout: the call should wait for budget (err %v)", k, err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("canceled wait returned after %v", el)
		}
	}
	t.Run("actual usage above the estimate is charged", func(t *testing.T) {
		inner := &scripted{usage: providers.Usage{InputTokens: 2500, OutputTokens: 2500}}
		p := providers.Limit(inner, providers.LimitConfig{TokensPerMinute: 6000})
		small := &providers.Request{MaxTokens: 1} // estimated at 1 token
		quick(t, p, small)                        // bucket 6000 → 1000 after reconciliation
		quick(t, p, small)                        // 1000 → -4000
		blocked(t, p, small)                      // in debt: ~40s to wait
		if n := inner.Calls(); n != 2 {
			t.Errorf("calls = %d, want 2 (the blocked one must not reach the provider)", n)
		}
	})
	t.Run("estimate above actual usage is given back", func(t *testing.T) {
		inner := &scripted{usage: providers.Usage{InputTokens: 10, OutputTokens: 10}}
		p := providers.Limit(inner, providers.LimitConfig{TokensPerMinute: 6000})
		big := &providers.Request{MaxTokens: 5000}
		quick(t, p, big) // 6000 → 1000 → 5980 after reconciliation
		quick(t, p, big) // without reconciliation this would wait ~40s
		quick(t, p, big)
	})
	t.Run("canceled wait gives its reservation back", func(t *testing.T) {
		inner := &scripted{usage: providers.Usage{InputTokens: 10, OutputTokens: 10}}
		p := providers.Limit(inner, providers.LimitConfig{TokensPerMinute: 6000})
		blocked(t, p, &providers.Request{MaxTokens: 12000}) // more than the bucket: 60s of debt
		quick(t, p, &providers.Request{MaxTokens: 5000})
	})
}

func TestLimitCancelWhileWaitingForSlot(t *testing.T) {
	inner := &scripted{delay: 2 * time.Second}
	p := providers.Limit(inner, providers.LimitConfig{Concurrency: 1, Name: "fake"})
	go p.Generate(context.Background(), &providers.Request{})
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := p.Generate(ctx, &providers.Request{})
	if k := providers.KindOf(err); k != providers.KindCanceled {
		t.Errorf("Kind = %s, want canceled", k)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("returned after %v", el)
	}
}

func TestLimitKeepsStreamer(t *testing.T) {
	if _, ok := providers.Limit(&streaming{}, providers.LimitConfig{Concurrency: 1}).(providers.Streamer); !ok {
		t.Error("Limit dropped Streamer")
	}
	if _, ok := providers.Limit(&scripted{}, providers.LimitConfig{}).(providers.Streamer); ok {
		t.Error("Limit added Streamer")
	}
}

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		req  providers.Request
		want int
	}{
		{providers.Request{}, 256},
		{providers.Request{MaxTokens: 10}, 10},
		{providers.Request{System: "abcd", Messages: []providers.Message{{Content: "efgh1"}}, MaxTokens: 1}, 3 + 1},
		{providers.Request{Messages: []providers.Message{{Content: "ééé"}}, MaxTokens: 1}, 1 + 1},
	}
	for _, tt := range tests {
		if got := providers.EstimateTokens(&tt.req); got != tt.want {
			t.Errorf("EstimateTokens(%+v) = %d, want %d", tt.req, got, tt.want)
		}
	}
}

// truncating streams "par" then fails with KindStreamTruncated for its first
// cuts calls, then streams "full answer".
type truncating struct {
	scripted
	cuts int
}

func (s *truncating) Stream(ctx context.Context, req *providers.Request, fn func(providers.Chunk) error) (*providers.Response, error) {
	s.mu.Lock()
	i := s.calls
	s.calls++
	s.mu.Unlock()
	if i < s.cuts {
		if err := fn(providers.Chunk{Text: "par"}); err != nil {
			return nil, err
		}
		return nil, providers.TruncatedStream("fake", 200, 1)
	}
	for _, p := range []string{"full ", "answer"} {
		if err := fn(providers.Chunk{Text: p}); err != nil {
			return nil, err
		}
	}
	return &providers.Response{Text: "full answer", FinishReason: "stop"}, nil
}

func TestRetryRestartsATruncatedStream(t *testing.T) {
	inner := &truncating{cuts: 2}
	p := providers.Retry(inner, fastRetry).(providers.Streamer)
	var got strings.Builder
	restarts := 0
	resp, err := p.Stream(context.Background(), &providers.Request{}, func(c providers.Chunk) error {
		if c.Restart {
			restarts++
			got.Reset()
		}
		got.WriteString(c.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "full answer" || restarts != 2 || resp.Attempts != 3 {
		t.Errorf("assembled %q with %d restarts in %d attempts; want the full answer after 2 restarts in 3", got.String(), restarts, resp.Attempts)
	}

	// Truncated every time: the attempts run out and the kind is kept.
	inner = &truncating{cuts: 100}
	_, err = providers.Retry(inner, fastRetry).(providers.Streamer).Stream(context.Background(), &providers.Request{}, func(providers.Chunk) error { return nil })
	if providers.KindOf(err) != providers.KindStreamTruncated || inner.Calls() != fastRetry.MaxAttempts {
		t.Errorf("err = %v after %d calls", err, inner.Calls())
	}
}

// TestRetryCall: a call other than Generate gets Retry's policy.
func TestRetryCall(t *testing.T) {
	cfg := providers.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond}
	for _, tc := range []struct {
		name      string
		fails     []providers.Kind // the errors of the first calls, then success
		wantCalls int
		wantKind  providers.Kind // "" for success
	}{
		{"success", nil, 1, ""},
		{"temporary, then success", []providers.Kind{providers.KindUnavailable}, 2, ""},
		{"permanent", []providers.Kind{providers.KindAuth}, 1, providers.KindAuth},
		{"attempts spent", []providers.Kind{providers.KindRateLimit, providers.KindRateLimit, providers.KindRateLimit, providers.KindRateLimit}, 3, providers.KindRateLimit},
	} {
		calls := 0
		err := providers.RetryCall(context.Background(), cfg, func() error {
			calls++
			if calls <= len(tc.fails) {
				return &providers.Error{Kind: tc.fails[calls-1]}
			}
			return nil
		})
		if calls != tc.wantCalls || providers.KindOf(err) != tc.wantKind && tc.wantKind != "" || (tc.wantKind == "") != (err == nil) {
			t.Errorf("%s: %d calls, %v; want %d calls, kind %q", tc.name, calls, err, tc.wantCalls, tc.wantKind)
		}
		var pe *providers.Error
		if errors.As(err, &pe) && pe.Attempts != calls {
			t.Errorf("%s: Attempts %d, want %d", tc.name, pe.Attempts, calls)
		}
	}
}
