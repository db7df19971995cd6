package estimate

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

var (
	priceMini  = providers.Price{InputPerM: 0.15, CachedInputPerM: 0.075, OutputPerM: 0.60}
	priceGPT4  = providers.Price{InputPerM: 30, OutputPerM: 60}
	priceFlash = providers.Price{InputPerM: 0.30, CachedInputPerM: 0.075, OutputPerM: 2.50}
)

func testTargets() []Target {
	return []Target{
		{Name: "openai:gpt-4o-mini", Model: "gpt-4o-mini", Provider: "openai", Price: &priceMini},
		{Name: "openai:gpt-4", Model: "gpt-4", Provider: "openai", Price: &priceGPT4},
		{Name: "ollama:mistral", Model: "mistral", Provider: "ollama"},
		{Name: "gemini:flash", Model: "gemini-2.5-flash", Provider: "gemini", Price: &priceFlash},
	}
}

func user(content string) []providers.Message {
	return []providers.Message{{Role: providers.RoleUser, Content: content}}
}

// testCases' token counts, from testdata/tiktoken_ref.json (identical in
// cl100k_base and o200k_base for these texts) and, for bytes/4, their
// lengths: "You are terse." 4 tokens / 14 bytes, "hello world" 2 / 11,
// "Hello, world!" 4 / 13, "The quick brown fox jumps over the lazy dog."
// 10 / 44, each role 1 token; "system" is 6 bytes, "user" 4.
func testCases() []*bench.Case {
	return []*bench.Case{
		{ // input: (3+1+4)+(3+1+2)+3 = 17; bytes/4: (3+2+4)+(3+1+3)+3 = 19. likely 4+1 = 5, max 16.
			ID:       "1",
			Request:  providers.Request{System: "You are terse.", Messages: user("hello world"), MaxTokens: 16},
			Expected: "Hello, world!",
		},
		{ // input: 3+1+10+3 = 17; bytes/4: 3+1+11+3 = 18. No expected answer, no max_tokens.
			ID:      "2",
			Request: providers.Request{Messages: user("The quick brown fox jumps over the lazy dog.")},
		},
		{ // input: 3+1+2+3 = 9; bytes/4: 3+1+3+3 = 10. likely 10+1 (bytes/4: 11+1) capped at max 2.
			ID:       "3",
			Request:  providers.Request{Messages: user("hello world"), MaxTokens: 2},
			Expected: "The quick brown fox jumps over the lazy dog.",
		},
	}
}

func cost(p providers.Price, in, out int) *float64 {
	c := (float64(in)*p.InputPerM + float64(out)*p.OutputPerM) / 1e6
	return &c
}

func TestEstimator(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []Row
	}{
		{
			name: "repeats multiply",
			cfg:  Config{Repeats: 3, DefaultMaxTokens: 100},
			want: []Row{
				{Target: "openai:gpt-4o-mini", Provider: "openai", Model: "gpt-4o-mini", Cases: 3, Requests: 9,
					InputTokens: 3 * 43, OutputLikely: 3 * (5 + 100 + 2), OutputMax: 3 * (16 + 100 + 2), LikelyAtMax: 1, DefaultMax: 1,
					CostLikely: cost(priceMini, 129, 321), CostMax: cost(priceMini, 129, 354), Method: MethodO200K},
				{Target: "openai:gpt-4", Provider: "openai", Model: "gpt-4", Cases: 3, Requests: 9,
					InputTokens: 129, OutputLikely: 321, OutputMax: 354, LikelyAtMax: 1, DefaultMax: 1,
					CostLikely: cost(priceGPT4, 129, 321), CostMax: cost(priceGPT4, 129, 354), Method: MethodCL100K},
				{Target: "ollama:mistral", Provider: "ollama", Model: "mistral", Cases: 3, Requests: 9,
					InputTokens: 3 * (19 + 18 + 10), OutputLikely: 321, OutputMax: 354, LikelyAtMax: 1, DefaultMax: 1,
					Approximate: true, Method: MethodApproxBytes},
				{Target: "gemini:flash", Provider: "gemini", Model: "gemini-2.5-flash", Cases: 3, Requests: 9,
					InputTokens: 129, OutputLikely: 321, OutputMax: 354, LikelyAtMax: 1, DefaultMax: 1,
					CostLikely: cost(priceFlash, 129, 321), CostMax: cost(priceFlash, 129, 354), Approximate: true, Method: MethodApproxO200K},
			},
		},
		{
			name: "zero config: one repeat, DefaultMaxTokens",
			cfg:  Config{},
			want: []Row{
				{Target: "openai:gpt-4o-mini", Provider: "openai", Model: "gpt-4o-mini", Cases: 3, Requests: 3,
					InputTokens: 43, OutputLikely: 5 + DefaultMaxTokens + 2, OutputMax: 16 + DefaultMaxTokens + 2, LikelyAtMax: 1, DefaultMax: 1,
					CostLikely: cost(priceMini, 43, 4103), CostMax: cost(priceMini, 43, 4114), Method: MethodO200K},
				{Target: "openai:gpt-4", Provider: "openai", Model: "gpt-4", Cases: 3, Requests: 3,
					InputTokens: 43, OutputLikely: 4103, OutputMax: 4114, LikelyAtMax: 1, DefaultMax: 1,
					CostLikely: cost(priceGPT4, 43, 4103), CostMax: cost(priceGPT4, 43, 4114), Method: MethodCL100K},
				{Target: "ollama:mistral", Provider: "ollama", Model: "mistral", Cases: 3, Requests: 3,
					InputTokens: 47, OutputLikely: 4103, OutputMax: 4114, LikelyAtMax: 1, DefaultMax: 1,
					Approximate: true, Method: MethodApproxBytes},
				{Target: "gemini:flash", Provider: "gemini", Model: "gemini-2.5-flash", Cases: 3, Requests: 3,
					InputTokens: 43, OutputLikely: 4103, OutputMax: 4114, LikelyAtMax: 1, DefaultMax: 1,
					CostLikely: cost(priceFlash, 43, 4103), CostMax: cost(priceFlash, 43, 4114), Approximate: true, Method: MethodApproxO200K},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(testTargets(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range testCases() {
				e.Add(c)
			}
			e.Add(nil) // ignored
			got := e.Close()
			if len(got) != len(tt.want) {
				t.Fatalf("%d rows, want %d", len(got), len(tt.want))
			}
			for i := range got {
				checkRow(t, got[i], tt.want[i])
			}
		})
	}
}

func checkRow(t *testing.T, got, want Row) {
	t.Helper()
	costEq := func(a, b *float64) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		return math.Abs(*a-*b) <= 1e-12*math.Max(1, math.Abs(*b))
	}
	if !costEq(got.CostLikely, want.CostLikely) || !costEq(got.CostMax, want.CostMax) {
		t.Errorf("%s: costs likely=%v max=%v, want %v %v", want.Target, fmtCost(got.CostLikely), fmtCost(got.CostMax),
			fmtCost(want.CostLikely), fmtCost(want.CostMax))
	}
	got.CostLikely, got.CostMax, want.CostLikely, want.CostMax = nil, nil, nil, nil
	if got != want {
		t.Errorf("row\n got %+v\nwant %+v", got, want)
	}
}

func fmtCost(c *float64) any {
	if c == nil {
		return "nil"
	}
	return *c
}

func TestEstimatorApproximateFlags(t *testing.T) {
	tests := []struct {
		name       string
		target     Target
		cases      []*bench.Case
		wantApprox bool
		wantMethod string
	}{
		{"openai exact", Target{Model: "gpt-4o", Provider: "openai"},
			[]*bench.Case{{Request: providers.Request{Messages: user("hi")}}}, false, MethodO200K},
		{"json schema makes an exact count approximate", Target{Model: "gpt-4o", Provider: "openai"},
			[]*bench.Case{
				{Request: providers.Request{Messages: user("hi")}},
				{Request: providers.Request{Messages: user("hi"), JSONSchema: json.RawMessage(`{"type":"object"}`)}},
			}, true, MethodO200K},
		{"llama 3 proxy", Target{Model: "llama3.2", Provider: "ollama"},
			[]*bench.Case{{Request: providers.Request{Messages: user("hi")}}}, true, MethodApproxCL100},
		{"unknown model", Target{Model: "phi3", Provider: "ollama"},
			[]*bench.Case{{Request: providers.Request{Messages: user("hi")}}}, true, MethodApproxBytes},
		{"no cases: still flagged by tokenizer", Target{Model: "gemini-2.0-flash", Provider: "gemini"}, nil, true, MethodApproxO200K},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New([]Target{tt.target}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.cases {
				e.Add(c)
			}
			row := e.Close()[0]
			if row.Approximate != tt.wantApprox || row.Method != tt.wantMethod {
				t.Errorf("Approximate=%v Method=%q, want %v %q", row.Approximate, row.Method, tt.wantApprox, tt.wantMethod)
			}
		})
	}
}

func TestEstimatorCost(t *testing.T) {
	tests := []struct {
		name                string
		price               *providers.Price
		wantLikely, wantMax *float64
	}{
		// One case: input 3+1+2+3 = 9 ("hello world"), likely 4+1 = 5 ("Hello, world!"), max 1000; × 2 repeats.
		{"nil price gives nil cost", nil, nil, nil},
		{"zero price gives zero cost", &providers.Price{}, ptr(0), ptr(0)},
		{"input and output rates; cached rate unused", &providers.Price{InputPerM: 2, CachedInputPerM: 0.5, OutputPerM: 8},
			ptr((18*2.0 + 10*8.0) / 1e6), ptr((18*2.0 + 2000*8.0) / 1e6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New([]Target{{Name: "t", Model: "gpt-4.1", Provider: "openai", Price: tt.price}}, Config{Repeats: 2})
			if err != nil {
				t.Fatal(err)
			}
			e.Add(&bench.Case{Request: providers.Request{Messages: user("hello world"), MaxTokens: 1000}, Expected: "Hello, world!"})
			row := e.Close()[0]
			if row.InputTokens != 18 || row.OutputLikely != 10 || row.OutputMax != 2000 {
				t.Fatalf("tokens in=%d likely=%d max=%d, want 18 10 2000", row.InputTokens, row.OutputLikely, row.OutputMax)
			}
			checkRow(t, row, Row{Target: "t", Provider: "openai", Model: "gpt-4.1", Cases: 1, Requests: 2,
				InputTokens: 18, OutputLikely: 10, OutputMax: 2000, CostLikely: tt.wantLikely, CostMax: tt.wantMax, Method: MethodO200K})
		})
	}
}

func ptr(v float64) *float64 { return &v }

// TestEstimatorPriceCopied: New copies each price, so later changes to the
// caller's Price do not leak into the estimate.
func TestEstimatorPriceCopied(t *testing.T) {
	p := providers.Price{InputPerM: 1e6, OutputPerM: 0}
	e, err := New([]Target{{Model: "gpt-4o", Provider: "openai", Price: &p}}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.InputPerM = 0
	e.Add(&bench.Case{Request: providers.Request{Messages: user("hello world"), MaxTokens: 1}})
	if row := e.Close()[0]; row.CostMax == nil || *row.CostMax != 9 {
		t.Errorf("CostMax = %v, want 9 (9 input tokens at $1 each)", fmtCost(row.CostMax))
	}
}

// TestEstimatorCacheConsistent: repeated long texts (served from the cache)
// count the same as counting each request afresh.
func TestEstimatorCacheConsistent(t *testing.T) {
	system := strings.Repeat("You are a careful assistant who answers in one word. ", 8)
	shots := []providers.Message{
		{Role: "user", Content: strings.Repeat("What is the capital of France? Think. ", 3)},
		{Role: "assistant", Content: "Paris"},
	}
	targets := []Target{
		{Model: "gpt-4o", Provider: "openai"},
		{Model: "gpt-4", Provider: "azure"},
		{Model: "llama3.2", Provider: "ollama"}, // shares gpt-4's cl100k_base counting, labelled approximate
		{Model: "mistral", Provider: "ollama"},
	}
	e, err := New(targets, Config{Repeats: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, len(targets))
	for i := range 50 {
		req := providers.Request{System: system, Messages: append(append([]providers.Message{}, shots...),
			providers.Message{Role: "user", Content: strings.Repeat("question ", 10+i)})}
		e.Add(&bench.Case{Request: req})
		for j, tg := range targets {
			want[j] += 2 * mustTokenizer(t, tg.Provider, tg.Model).CountRequest(&req)
		}
	}
	for j, row := range e.Close() {
		if row.InputTokens != want[j] {
			t.Errorf("%s: InputTokens = %d, counted afresh %d", targets[j].Model, row.InputTokens, want[j])
		}
	}
}

// TestCacheLimit: the text cache never holds more than its limit and still
// counts correctly after being dropped.
func TestCacheLimit(t *testing.T) {
	tk := mustTokenizer(t, "openai", "gpt-4o")
	ts := &tokState{t: tk, cache: map[string]int{}, limit: 4096}
	for i := range 200 {
		s := strings.Repeat("abc ", 16+i%40) + strings.Repeat("x", i)
		if got, want := ts.count(s), tk.Count(s); got != want {
			t.Fatalf("text %d: count %d, want %d", i, got, want)
		}
		if ts.cached > ts.limit {
			t.Fatalf("cache holds %d bytes, limit %d", ts.cached, ts.limit)
		}
		if got, want := ts.count(s), tk.Count(s); got != want { // now maybe cached
			t.Fatalf("text %d again: count %d, want %d", i, got, want)
		}
	}
	if len(ts.cache) == 0 {
		t.Error("cache never used")
	}
}

func TestDefaultConfig(t *testing.T) {
	if c := DefaultConfig(); c.Repeats != 1 || c.DefaultMaxTokens != DefaultMaxTokens {
		t.Errorf("DefaultConfig() = %+v", c)
	}
}
