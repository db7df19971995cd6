package bench

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// Test helpers of the runner tests are prefixed "rn" so they cannot collide
// with other files of package bench.

// rnFake is a fake provider. Each request is identified by its prompt, model
// and repeat index; it counts requests received and answered per identity.
type rnFake struct {
	latency time.Duration
	usage   providers.Usage
	cached  bool
	// behave, when set, decides a request's fate: return a non-nil error to
	// fail it, or block (it receives ctx) before returning nil.
	behave func(ctx context.Context, id string, req *providers.Request) error

	mu       sync.Mutex
	received map[string]int
	answered map[string]int
	order    []string
}

func rnID(prompt, model string, repeat int) string {
	return fmt.Sprintf("%s@%s#%d", prompt, model, repeat)
}

func (f *rnFake) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	id := rnID(req.Messages[0].Content, req.Model, providers.RepeatFrom(ctx))
	f.mu.Lock()
	if f.received == nil {
		f.received, f.answered = map[string]int{}, map[string]int{}
	}
	f.received[id]++
	f.order = append(f.order, id)
	f.mu.Unlock()
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, &providers.Error{Kind: providers.KindCanceled, Provider: "fake", Err: ctx.Err()}
		}
	}
	if f.behave != nil {
		if err := f.behave(ctx, id, req); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, &providers.Error{Kind: providers.KindCanceled, Provider: "fake", Err: err}
	}
	f.mu.Lock()
	f.answered[id]++
	f.mu.Unlock()
	return &providers.Response{
		Text:         "answer to " + req.Messages[0].Content,
		FinishReason: "stop",
		Model:        req.Model + "-2025",
		Usage:        f.usage,
		Cached:       f.cached,
		Attempts:     1,
	}, nil
}

func (f *rnFake) counts() (received, answered map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, a := map[string]int{}, map[string]int{}
	for k, v := range f.received {
		r[k] = v
	}
	for k, v := range f.answered {
		a[k] = v
	}
	return r, a
}

// rnExact passes answers equal to the case's Expected.
type rnExact struct{}

func (rnExact) Score(_ context.Context, c *Case, r *providers.Response) (Score, error) {
	if r.Text == c.Expected {
		return Score{Value: 1, Pass: true, Parts: []ScorePart{{Name: "exact", Value: 1, Weight: 1, Pass: true}}}, nil
	}
	return Score{Value: 0, Reason: "mismatch", Parts: []ScorePart{{Name: "exact", Weight: 1, Reason: "mismatch"}}}, nil
}

// rnErrScorer fails on the cases named in bad.
type rnErrScorer struct{ bad map[string]bool }

func (s rnErrScorer) Score(_ context.Context, c *Case, _ *providers.Response) (Score, error) {
	if s.bad[c.ID] {
		return Score{}, &providers.Error{Kind: providers.KindUnavailable, Provider: "judge", StatusCode: 503, Message: "judge down"}
	}
	return Score{Value: 1, Pass: true}, nil
}

func rnPrompt(i int) string { return fmt.Sprintf("q%05d", i) }

// rnCases yields n cases lazily; yielded counts how many were pulled.
func rnCases(n int, scorer Scorer, yielded *atomic.Int64) iter.Seq2[*Case, error] {
	return func(yield func(*Case, error) bool) {
		for i := range n {
			if yielded != nil {
				yielded.Add(1)
			}
			c := &Case{
				Suite:        "s",
				SuiteVersion: "1",
				ID:           fmt.Sprintf("c%05d", i),
				Request: providers.Request{
					System:      "be brief",
					Messages:    []providers.Message{{Role: providers.RoleUser, Content: rnPrompt(i)}},
					MaxTokens:   16,
					Temperature: providers.Float64(0),
				},
				Expected:   "answer to " + rnPrompt(i),
				Scorer:     scorer,
				PromptHash: fmt.Sprintf("h%d", i),
				Tags:       map[string]string{"i": fmt.Sprint(i % 3)},
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// rnCollect is a Sink keeping every result.
type rnCollect struct {
	mu  sync.Mutex
	res []*Result
}

func (c *rnCollect) Add(r *Result) error {
	c.mu.Lock()
	c.res = append(c.res, r)
	c.mu.Unlock()
	return nil
}

func (c *rnCollect) results() []*Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Result(nil), c.res...)
}

// rnNoLeak fails the test if goroutines started during it are still running
// shortly after it ends.
func rnNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func rnTargets(names ...string) ([]Target, *rnFake) {
	f := &rnFake{usage: providers.Usage{InputTokens: 100, OutputTokens: 10}}
	var ts []Target
	for _, n := range names {
		ts = append(ts, Target{Name: "fake:" + n, Model: n, Provider: f})
	}
	return ts, f
}

// rnKeysOnce checks that results hold every key of n cases × targets × repeats exactly once.
func rnKeysOnce(t *testing.T, res []*Result, n int, targets []Target, repeats int) {
	t.Helper()
	seen := map[Key]int{}
	for _, r := range res {
		seen[r.Key()]++
	}
	for i := range n {
		for _, tg := range targets {
			for rep := range repeats {
				k := Key{Suite: "s", CaseID: fmt.Sprintf("c%05d", i), Target: tg.Name, Repeat: rep}
				if seen[k] != 1 {
					t.Errorf("key %v: %d results, want 1", k, seen[k])
				}
				delete(seen, k)
			}
		}
	}
	for k, c := range seen {
		t.Errorf("unexpected key %v (%d results)", k, c)
	}
}

func TestRunEveryKeyOnce(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		cases, repeats, conc int
		targets              []string
	}{
		{"one target", 300, 1, 8, []string{"a"}},
		{"targets and repeats", 100, 3, 8, []string{"a", "b"}},
		{"concurrency 1", 20, 2, 1, []string{"a", "b", "c"}},
		{"concurrency above work", 3, 1, 64, []string{"a"}},
		{"no cases", 0, 2, 4, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rnNoLeak(t)
			targets, fake := rnTargets(tc.targets...)
			var got rnCollect
			var final Progress
			r := New(Config{Concurrency: tc.conc, Repeats: tc.repeats, TotalCases: tc.cases,
				Progress: func(p Progress) {
					if p.Final {
						final = p
					}
				}})
			if err := r.Run(context.Background(), rnCases(tc.cases, rnExact{}, nil), targets, &got); err != nil {
				t.Fatalf("Run: %v", err)
			}
			res := got.results()
			rnKeysOnce(t, res, tc.cases, targets, tc.repeats)
			want := tc.cases * len(targets) * tc.repeats
			if !final.Final || final.Done != want || final.Total != want || final.Errors != 0 || final.InFlight != 0 {
				t.Errorf("final progress %+v, want done = total = %d", final, want)
			}
			if len(final.Targets) != len(targets) {
				t.Fatalf("final progress has %d targets, want %d", len(final.Targets), len(targets))
			}
			passed := map[string]int{}
			for _, x := range res {
				if x.Pass {
					passed[x.Target]++
				}
			}
			for i, tp := range final.Targets {
				if tp.Name != targets[i].Name || tp.Done != tc.cases*tc.repeats || tp.Total != tc.cases*tc.repeats || tp.Passed != passed[tp.Name] {
					t.Errorf("target progress %+v, want %s done = total = %d, %d passed", tp, targets[i].Name, tc.cases*tc.repeats, passed[tp.Name])
				}
			}
			if s := r.Stats(); !reflect.DeepEqual(s, final) {
				t.Errorf("Stats() = %+v, want the final progress %+v", s, final)
			}
			received, _ := fake.counts()
			for id, n := range received {
				if n != 1 {
					t.Errorf("request %s sent %d times", id, n)
				}
			}
			if len(received) != want {
				t.Errorf("%d distinct requests, want %d", len(received), want)
			}
			for _, res := range res {
				if !res.Pass || res.Score != 1 || res.Error != nil {
					t.Fatalf("result %+v: want a pass", res)
				}
				if res.Output != "answer to "+res.Prompt[1].Content || res.Prompt[0].Role != providers.RoleSystem {
					t.Fatalf("result %+v: wrong output or prompt", res)
				}
				if res.ResolvedModel != res.Model+"-2025" || "fake:"+res.Model != res.Target || res.Attempts != 1 {
					t.Fatalf("result %+v: wrong model, target or attempts", res)
				}
				if res.Usage.InputTokens != 100 || res.Latency <= 0 || res.Start.IsZero() || res.CostUSD != nil {
					t.Fatalf("result %+v: wrong usage, timing or cost", res)
				}
			}
		})
	}
}

// Results reach the sink in completion order, as each completes: a slow
// first case must not hold back a fast second one.
func TestRunStreamsInCompletionOrder(t *testing.T) {
	rnNoLeak(t)
	release := make(chan struct{})
	targets, fake := rnTargets("a")
	fake.behave = func(ctx context.Context, id string, _ *providers.Request) error {
		if strings.HasPrefix(id, rnPrompt(0)) {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
				return errors.New("case 0 never released: results were not streamed")
			}
		}
		return nil
	}
	var order []string
	sink := SinkFunc(func(r *Result) error {
		order = append(order, r.CaseID)
		if r.CaseID == "c00001" {
			close(release)
		}
		return nil
	})
	if err := New(Config{Concurrency: 2}).Run(context.Background(), rnCases(2, nil, nil), targets, sink); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "c00001,c00000" {
		t.Errorf("sink order %v, want c00001 then c00000", order)
	}
}

// Dispatch is case-major: every target and repeat of a case before the next case.
func TestRunDispatchOrderCaseMajor(t *testing.T) {
	targets, fake := rnTargets("a", "b")
	if err := New(Config{Concurrency: 1, Repeats: 2}).Run(context.Background(), rnCases(3, nil, nil), targets, &rnCollect{}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 3 {
		for _, m := range []string{"a", "b"} {
			for rep := range 2 {
				want = append(want, rnID(rnPrompt(i), m, rep))
			}
		}
	}
	if got := strings.Join(fake.order, " "); got != strings.Join(want, " ") {
		t.Errorf("dispatch order\n got %s\nwant %s", got, strings.Join(want, " "))
	}
}

// Repeats reach the provider as distinct repeat indexes, and the case's
// request is not modified (the runner sets Model on a copy).
func TestRunRepeatsAndRequestCopy(t *testing.T) {
	targets, fake := rnTargets("a")
	var cases []*Case
	for c := range rnCases(5, nil, nil) {
		cases = append(cases, c)
	}
	seq := func(yield func(*Case, error) bool) {
		for _, c := range cases {
			if !yield(c, nil) {
				return
			}
		}
	}
	var got rnCollect
	if err := New(Config{Repeats: 4}).Run(context.Background(), seq, targets, &got); err != nil {
		t.Fatal(err)
	}
	received, _ := fake.counts()
	for i := range 5 {
		for rep := range 4 {
			if received[rnID(rnPrompt(i), "a", rep)] != 1 {
				t.Errorf("case %d repeat %d: %d requests, want 1", i, rep, received[rnID(rnPrompt(i), "a", rep)])
			}
		}
	}
	reps := map[int]int{}
	for _, r := range got.results() {
		reps[r.Repeat]++
	}
	if len(reps) != 4 || reps[0] != 5 || reps[3] != 5 {
		t.Errorf("repeat indexes %v, want 0..3 five times each", reps)
	}
	for _, c := range cases {
		if c.Request.Model != "" {
			t.Errorf("case %s: Request.Model = %q, the case was modified", c.ID, c.Request.Model)
		}
	}
}

func TestRunProviderErrorsRecorded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		nilResp  bool
		kind     providers.Kind
		status   int
		attempts int
		message  string
	}{
		{"rate limit after retries", &providers.Error{Kind: providers.KindRateLimit, Provider: "fake", StatusCode: 429, Message: "slow down", Attempts: 4}, false, providers.KindRateLimit, 429, 4, "slow down"},
		{"server error", &providers.Error{Kind: providers.KindUnavailable, Provider: "fake", StatusCode: 503, Err: errors.New("upstream")}, false, providers.KindUnavailable, 503, 0, "upstream"},
		{"plain deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), false, providers.KindTimeout, 0, 0, "call: context deadline exceeded"},
		{"no response, no error", nil, true, providers.KindBadResponse, 0, 0, "provider returned no response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rnNoLeak(t)
			fail := func(id string) bool { return strings.HasSuffix(strings.Split(id, "@")[0], "3") } // cases 3, 13, 23, …
			var p providers.Provider
			targets, fake := rnTargets("a")
			if tc.nilResp {
				p = rnNilProvider{fake, fail}
			} else {
				fake.behave = func(_ context.Context, id string, _ *providers.Request) error {
					if fail(id) {
						return tc.err
					}
					return nil
				}
				p = fake
			}
			targets[0].Provider = p
			targets[0].Price = &providers.Price{InputPerM: 1, OutputPerM: 2}
			var got rnCollect
			if err := New(Config{Concurrency: 4}).Run(context.Background(), rnCases(50, rnExact{}, nil), targets, &got); err != nil {
				t.Fatalf("Run: %v (a case's error must not stop the run)", err)
			}
			res := got.results()
			rnKeysOnce(t, res, 50, targets, 1)
			failed := 0
			for _, r := range res {
				if !strings.HasSuffix(r.CaseID, "3") {
					if r.Error != nil || !r.Pass {
						t.Errorf("%s: %+v, want a pass", r.CaseID, r.Error)
					}
					continue
				}
				failed++
				e := r.Error
				if e == nil {
					t.Fatalf("%s: no error recorded", r.CaseID)
				}
				if e.Kind != tc.kind || e.StatusCode != tc.status || e.Stage != "generate" || !strings.Contains(e.Message, tc.message) {
					t.Errorf("%s: error %+v, want kind %s status %d stage generate message %q", r.CaseID, e, tc.kind, tc.status, tc.message)
				}
				if r.Pass || r.Score != 0 || r.Output != "" || r.Attempts != tc.attempts {
					t.Errorf("%s: pass %v score %v output %q attempts %d", r.CaseID, r.Pass, r.Score, r.Output, r.Attempts)
				}
				if r.CostUSD == nil || *r.CostUSD != 0 {
					t.Errorf("%s: cost %v, want 0 for a failed call with a price", r.CaseID, r.CostUSD)
				}
			}
			if failed != 5 {
				t.Errorf("%d failed results, want 5", failed)
			}
		})
	}
}

// rnNilProvider returns (nil, nil) for failing ids: a broken adapter.
type rnNilProvider struct {
	*rnFake
	fail func(id string) bool
}

func (p rnNilProvider) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	if p.fail(rnID(req.Messages[0].Content, req.Model, providers.RepeatFrom(ctx))) {
		return nil, nil
	}
	return p.rnFake.Generate(ctx, req)
}

func TestRunScorerErrorsRecorded(t *testing.T) {
	rnNoLeak(t)
	targets, _ := rnTargets("a")
	bad := map[string]bool{"c00002": true, "c00007": true}
	var got rnCollect
	if err := New(Config{}).Run(context.Background(), rnCases(10, rnErrScorer{bad}, nil), targets, &got); err != nil {
		t.Fatal(err)
	}
	for _, r := range got.results() {
		if !bad[r.CaseID] {
			if r.Error != nil || !r.Pass {
				t.Errorf("%s: %+v, want a pass", r.CaseID, r.Error)
			}
			continue
		}
		if r.Error == nil || r.Error.Stage != "score" || r.Error.Kind != providers.KindUnavailable || r.Error.StatusCode != 503 || r.Error.Message != "judge down" {
			t.Errorf("%s: error %+v, want the judge's error at stage score", r.CaseID, r.Error)
		}
		if r.Pass || r.Output == "" {
			t.Errorf("%s: pass %v output %q: a scorer error fails the case and keeps the output", r.CaseID, r.Pass, r.Output)
		}
	}
}

// rnStreamer is a fake with the Streamer capability.
type rnStreamer struct {
	*rnFake
	streamed atomic.Int64
}

func (s *rnStreamer) Stream(ctx context.Context, req *providers.Request, fn func(providers.Chunk) error) (*providers.Response, error) {
	s.streamed.Add(1)
	resp, err := s.rnFake.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, w := range strings.Fields(resp.Text) {
		if err := fn(providers.Chunk{Text: w + " "}); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// rnClock is a fake clock advancing 1 ms per reading.
type rnClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *rnClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func TestRunStreamingTTFT(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stream   bool
		wantTTFT time.Duration
	}{
		{"stream", true, time.Millisecond},
		{"no stream", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			targets, fake := rnTargets("a")
			s := &rnStreamer{rnFake: fake}
			targets[0].Provider, targets[0].Stream = s, tc.stream
			clock := &rnClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			var got rnCollect
			if err := New(Config{Concurrency: 1, Now: clock.Now}).Run(context.Background(), rnCases(3, nil, nil), targets, &got); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int64{true: 3, false: 0}[tc.stream]; s.streamed.Load() != want {
				t.Errorf("Stream called %d times, want %d", s.streamed.Load(), want)
			}
			// The fake clock ticks 1ms per reading. The worker reads it at the
			// start, at the first chunk and at the end; the collector also reads
			// it for progress snapshots, concurrently, so only the order of the
			// worker's readings is certain: 0 < TTFT < latency when streamed.
			for _, r := range got.results() {
				if !tc.stream && r.TTFT != 0 {
					t.Errorf("%s: TTFT %v without streaming, want 0", r.CaseID, r.TTFT)
				}
				if tc.stream && (r.TTFT < tc.wantTTFT || r.Latency <= r.TTFT) {
					t.Errorf("%s: TTFT %v, latency %v: want 1ms ≤ TTFT < latency", r.CaseID, r.TTFT, r.Latency)
				}
			}
		})
	}
}

func TestRunCostAndCache(t *testing.T) {
	targets, fake := rnTargets("priced", "free")
	fake.usage = providers.Usage{InputTokens: 1000, OutputTokens: 500}
	price := providers.Price{InputPerM: 2, OutputPerM: 8}
	targets[0].Price = &price
	cachedFake := &rnFake{usage: fake.usage, cached: true}
	targets = append(targets, Target{Name: "cached", Model: "priced", Provider: cachedFake, Price: &price})
	var got rnCollect
	r := New(Config{})
	if err := r.Run(context.Background(), rnCases(10, nil, nil), targets, &got); err != nil {
		t.Fatal(err)
	}
	want := price.Cost(fake.usage) // 0.002 + 0.004
	for _, res := range got.results() {
		switch res.Target {
		case "fake:free":
			if res.CostUSD != nil {
				t.Errorf("%s: cost %v, want none without a price", res.Target, *res.CostUSD)
			}
		default:
			if res.CostUSD == nil || *res.CostUSD != want {
				t.Errorf("%s: cost %v, want %v", res.Target, res.CostUSD, want)
			}
			if res.Cached != (res.Target == "cached") {
				t.Errorf("%s: cached %v", res.Target, res.Cached)
			}
		}
	}
	s := r.Stats()
	if d := s.SpentUSD - 10*want; d > 1e-12 || d < -1e-12 {
		t.Errorf("spent $%v, want $%v: cached responses cost nothing", s.SpentUSD, 10*want)
	}
	if s.Cached != 10 {
		t.Errorf("progress cached %d, want 10", s.Cached)
	}
}

func TestRunSentParams(t *testing.T) {
	targets, _ := rnTargets("a", "b")
	cases := func(yield func(*Case, error) bool) {
		for c := range rnCases(4, nil, nil) {
			if c.ID == "c00003" {
				c.Request.Temperature = providers.Float64(0.7)
				c.Request.Seed = providers.Int64(42)
				c.Request.Stop = []string{"\n\n", "END"}
			}
			if !yield(c, nil) {
				return
			}
		}
	}
	r := New(Config{Concurrency: 1})
	if err := r.Run(context.Background(), cases, targets, &rnCollect{}); err != nil {
		t.Fatal(err)
	}
	sent := r.Sent()
	if len(sent) != 4 {
		t.Fatalf("Sent() = %+v, want 4 entries (2 targets × 2 parameter sets)", sent)
	}
	for i, want := range []struct {
		target   string
		temp     float64
		seed     bool
		requests int
	}{{"fake:a", 0, false, 3}, {"fake:b", 0, false, 3}, {"fake:a", 0.7, true, 1}, {"fake:b", 0.7, true, 1}} {
		s := sent[i]
		if s.Target != want.target || s.Suite != "s" || s.Requests != want.requests || s.Params.MaxTokens != 16 {
			t.Errorf("sent[%d] = %+v, want target %s, %d requests", i, s, want.target, want.requests)
		}
		if s.Params.Temperature == nil || *s.Params.Temperature != want.temp {
			t.Errorf("sent[%d]: temperature %v, want %v (0 must be recorded as set)", i, s.Params.Temperature, want.temp)
		}
		if (s.Params.Seed != nil) != want.seed || (want.seed && (*s.Params.Seed != 42 || strings.Join(s.Params.Stop, "|") != "\n\n|END")) {
			t.Errorf("sent[%d]: seed %v stop %q", i, s.Params.Seed, s.Params.Stop)
		}
		if s.Params.Model != strings.TrimPrefix(want.target, "fake:") {
			t.Errorf("sent[%d]: model %q", i, s.Params.Model)
		}
	}
}

// The iterator is pulled lazily: the runner never holds more than a bounded
// number of cases ahead of the sink.
func TestRunPullsCasesLazily(t *testing.T) {
	const conc = 4
	targets, fake := rnTargets("a")
	fake.latency = time.Millisecond
	var yielded atomic.Int64
	maxAhead := int64(0)
	added := int64(0)
	sink := SinkFunc(func(*Result) error {
		added++
		if d := yielded.Load() - added; d > maxAhead {
			maxAhead = d
		}
		return nil
	})
	if err := New(Config{Concurrency: conc}).Run(context.Background(), rnCases(500, nil, &yielded), targets, sink); err != nil {
		t.Fatal(err)
	}
	// work buffer + workers + results buffer + the producer's case + the collector's.
	if bound := int64(3*conc + 2); maxAhead > bound {
		t.Errorf("up to %d cases pulled ahead of the sink, want ≤ %d", maxAhead, bound)
	}
	if yielded.Load() != 500 {
		t.Errorf("yielded %d", yielded.Load())
	}
}

func TestRunCancelFlushesCompleted(t *testing.T) {
	rnNoLeak(t)
	targets, fake := rnTargets("a")
	const quick = 10
	fake.behave = func(ctx context.Context, id string, _ *providers.Request) error {
		var i int
		fmt.Sscanf(id, "q%05d", &i)
		if i < quick {
			return nil
		}
		<-ctx.Done() // never answers: only cancellation ends it
		return &providers.Error{Kind: providers.KindCanceled, Provider: "fake", Err: ctx.Err()}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got rnCollect
	sink := SinkFunc(func(r *Result) error {
		got.Add(r)
		if len(got.res) == quick {
			cancel()
		}
		return nil
	})
	start := time.Now()
	err := New(Config{Concurrency: 4}).Run(ctx, rnCases(1000, nil, nil), targets, sink)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v after cancel", d)
	}
	res := got.results()
	if len(res) != quick {
		t.Fatalf("%d results flushed, want the %d completed ones (canceled in-flight work is dropped)", len(res), quick)
	}
	for _, r := range res {
		if r.Error != nil {
			t.Errorf("%s: error %+v written", r.CaseID, r.Error)
		}
	}
}

// A run interrupted by cancellation, with a torn last line as after a kill,
// is resumed: no request is answered twice and every key is in the file once.
func TestRunResumeNoRequestTwice(t *testing.T) {
	rnNoLeak(t)
	const n = 200
	dir := t.TempDir()
	path := filepath.Join(dir, "results.jsonl")
	targets, fake := rnTargets("a", "b")
	fake.latency = time.Millisecond

	// First run: interrupted after 150 results.
	res1, err := OpenResume(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := NewJSONLWriter(res1.File)
	sink := SinkFunc(func(r *Result) error {
		if err := w.Add(r); err != nil {
			return err
		}
		if w.Count() == 150 {
			cancel()
		}
		return nil
	})
	if err := New(Config{Concurrency: 8, Repeats: 2, Skip: res1.Skip}).Run(ctx, rnCases(n, nil, nil), targets, sink); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	cancel()
	if _, err := res1.File.WriteString(`{"suite":"s","case_id":"c0019`); err != nil { // killed mid-write
		t.Fatal(err)
	}
	res1.File.Close()

	// Second run resumes.
	res2, err := OpenResume(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Done) != w.Count() || res2.Torn == 0 {
		t.Fatalf("resume found %d keys (torn %d bytes), want %d and a torn line", len(res2.Done), res2.Torn, w.Count())
	}
	var progress Progress
	cfg := Config{Concurrency: 8, Repeats: 2, Skip: res2.Skip, TotalCases: n, Progress: func(p Progress) { progress = p }}
	if err := New(cfg).Run(context.Background(), rnCases(n, nil, nil), targets, NewJSONLWriter(res2.File)); err != nil {
		t.Fatalf("second run: %v", err)
	}
	res2.File.Close()
	if progress.Skipped != w.Count() || progress.Done+progress.Skipped != progress.Total {
		t.Errorf("final progress %+v: want %d skipped and done+skipped = total", progress, w.Count())
	}

	_, answered := fake.counts()
	for id, c := range answered {
		if c != 1 {
			t.Errorf("request %s answered %d times", id, c)
		}
	}
	if len(answered) != n*2*2 {
		t.Errorf("%d requests answered, want %d", len(answered), n*2*2)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all []*Result
	for r, err := range ReadResults(f, "results.jsonl") {
		if err != nil {
			t.Fatalf("results file: %v", err)
		}
		all = append(all, r)
	}
	rnKeysOnce(t, all, n, targets, 2)
}

func TestRunBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		budget   float64
		conc     int
		wantMsg  string
		min, max int // results expected
	}{
		// Each result costs $0.01: 50 fit in $0.50, give or take float rounding.
		{"concurrency 8", 0.50, 8, "budget $0.50 reached after $0.", 49, 50},
		{"concurrency 1", 0.05, 1, "budget $0.05 reached after $0.0", 4, 5},
		{"below one request", 0.001, 8, "budget $0.0010 reached after $0.01 spent", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rnNoLeak(t)
			const n = 200
			targets, fake := rnTargets("a")
			fake.latency = 2 * time.Millisecond
			fake.usage = providers.Usage{OutputTokens: 1000}
			targets[0].Price = &providers.Price{OutputPerM: 10} // $0.01 per result
			path := filepath.Join(t.TempDir(), "results.jsonl")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r := New(Config{Concurrency: tc.conc, BudgetUSD: tc.budget})
			err = r.Run(context.Background(), rnCases(n, nil, nil), targets, NewJSONLWriter(f))
			if !errors.Is(err, ErrBudgetExceeded) {
				t.Fatalf("Run = %v, want ErrBudgetExceeded", err)
			}
			var be *BudgetError
			if !errors.As(err, &be) {
				t.Fatalf("Run = %T, want *BudgetError", err)
			}
			f.Seek(0, 0)
			written, spent := 0, 0.0
			for res, err := range ReadResults(f, "results.jsonl") {
				if err != nil {
					t.Fatalf("results file after budget stop: %v", err)
				}
				written++
				spent += *res.CostUSD
			}
			if written < tc.min || written > tc.max {
				t.Errorf("%d results, want %d..%d", written, tc.min, tc.max)
			}
			_, answered := fake.counts()
			if len(answered) != written {
				t.Errorf("%d requests answered, %d results written: in-flight results must be kept", len(answered), written)
			}
			if be.NotRun != n-written || be.Total != n || be.AtLeast {
				t.Errorf("BudgetError %+v: want NotRun %d of %d", be, n-written, n)
			}
			if d := be.SpentUSD - spent; d > 1e-9 || d < -1e-9 {
				t.Errorf("BudgetError spent $%v, results add to $%v", be.SpentUSD, spent)
			}
			wantEnd := fmt.Sprintf(" spent; %d of %d runs (case × target × repeat) not started", n-written, n)
			if msg := err.Error(); !strings.HasPrefix(msg, tc.wantMsg) || !strings.HasSuffix(msg, wantEnd) {
				t.Errorf("message %q\n want %q…%q", msg, tc.wantMsg, wantEnd)
			}
			if tc.budget >= 0.01 && spent > tc.budget+1e-9 {
				t.Errorf("spent $%v > budget $%v with a constant cost per request", spent, tc.budget)
			}
		})
	}
}

// Without a budget, or with targets that have no price, nothing stops.
func TestRunBudgetIgnoresUnpriced(t *testing.T) {
	targets, fake := rnTargets("a")
	fake.usage = providers.Usage{OutputTokens: 1000}
	var got rnCollect
	if err := New(Config{BudgetUSD: 0.01}).Run(context.Background(), rnCases(30, nil, nil), targets, &got); err != nil {
		t.Fatalf("Run = %v, want no budget stop for an unpriced target", err)
	}
	if len(got.results()) != 30 {
		t.Errorf("%d results", len(got.results()))
	}
}

func TestRunDatasetErrorFlushes(t *testing.T) {
	rnNoLeak(t)
	errBad := errors.New("cases.jsonl:21: field input: missing")
	for _, tc := range []struct {
		name string
		err  error // nil: a nil case
	}{{"iterator error", errBad}, {"nil case", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			targets, fake := rnTargets("a", "b")
			fake.latency = 5 * time.Millisecond
			seq := func(yield func(*Case, error) bool) {
				for c := range rnCases(20, nil, nil) {
					if !yield(c, nil) {
						return
					}
				}
				if !yield(nil, tc.err) {
					return
				}
				for c := range rnCases(40, nil, nil) {
					if !yield(c, nil) {
						return
					}
				}
			}
			var got rnCollect
			err := New(Config{Concurrency: 8}).Run(context.Background(), seq, targets, &got)
			if err == nil || (tc.err != nil && !errors.Is(err, errBad)) {
				t.Fatalf("Run = %v, want the dataset error", err)
			}
			rnKeysOnce(t, got.results(), 20, targets, 1)
		})
	}
}

func TestRunSinkErrorStops(t *testing.T) {
	rnNoLeak(t)
	targets, fake := rnTargets("a")
	fake.latency = time.Millisecond
	errDisk := errors.New("disk full")
	adds := 0
	sink := SinkFunc(func(*Result) error {
		adds++
		if adds >= 5 {
			return errDisk
		}
		return nil
	})
	err := New(Config{Concurrency: 4}).Run(context.Background(), rnCases(10000, nil, nil), targets, sink)
	if !errors.Is(err, errDisk) {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
	if adds != 5 {
		t.Errorf("sink called %d times, want no call after its failure", adds)
	}
	if received, _ := fake.counts(); len(received) > 100 {
		t.Errorf("%d requests sent: the run did not stop", len(received))
	}
}

func TestRunBadTargets(t *testing.T) {
	p := &rnFake{}
	for _, tc := range []struct {
		name    string
		targets []Target
		want    string
	}{
		{"none", nil, "no targets"},
		{"empty name", []Target{{Model: "m", Provider: p}}, "targets[0]: empty name"},
		{"nil provider", []Target{{Name: "x", Model: "m"}}, `target "x": nil provider`},
		{"duplicate", []Target{{Name: "x", Provider: p}, {Name: "x", Provider: p}}, `target "x": duplicate name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := New(Config{}).Run(context.Background(), rnCases(1, nil, nil), tc.targets, &rnCollect{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Config{Concurrency: -1, BudgetUSD: -3}).Config()
	if c.Concurrency != 8 || c.Repeats != 1 || c.Now == nil || c.BudgetUSD != 0 {
		t.Errorf("New filled %+v", c)
	}
	d := DefaultConfig()
	if d.Concurrency != 8 || d.Repeats != 1 {
		t.Errorf("DefaultConfig() = %+v", d)
	}
}
