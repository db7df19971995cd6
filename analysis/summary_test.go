package analysis

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

func summaryUSD(v float64) *float64 { return &v }

// summaryFixture: suite "support" × target "gpt", 3 cases × 2 repeats, plus
// two single-result groups that must sort around it.
func summaryFixture() []*bench.Result {
	ms := time.Millisecond
	res := func(c string, rep int, pass bool, score float64, lat, ttft time.Duration, out int, cost *float64) *bench.Result {
		return &bench.Result{
			Suite: "support", Target: "gpt", Model: "gpt-4o-mini", CaseID: c, Repeat: rep,
			Pass: pass, Score: score, Latency: lat, TTFT: ttft,
			Usage:   providers.Usage{InputTokens: 10, CachedInputTokens: 2, OutputTokens: out},
			CostUSD: cost,
		}
	}
	c1r0 := res("c1", 0, true, 1, 100*ms, 20*ms, 20, summaryUSD(0.001))
	c1r0.Cached = true
	c3r0 := res("c3", 0, false, 0, 5*time.Second, 0, 0, summaryUSD(0))
	c3r0.Error = &bench.ErrorInfo{Kind: providers.KindRateLimit, Message: "429", Stage: "generate"}
	return []*bench.Result{
		c1r0,
		{Suite: "support", Target: "alpha", Model: "m-alpha", CaseID: "c1", Pass: true, Score: 1, Latency: time.Second},
		res("c2", 0, false, 0.4, 300*ms, 0, 30, summaryUSD(0.002)),
		c3r0,
		res("c1", 1, true, 1, 200*ms, 30*ms, 20, summaryUSD(0.001)),
		res("c2", 1, true, 0.9, 400*ms, 0, 40, summaryUSD(0.002)),
		res("c3", 1, false, 0.2, 1000*ms, 0, 0, summaryUSD(0.003)),
		{Suite: "math", Target: "gpt", Model: "gpt-4o-mini", CaseID: "m1", Pass: false, Score: 0,
			Error: &bench.ErrorInfo{Kind: providers.KindTimeout}, CostUSD: summaryUSD(0)},
	}
}

func TestSummarizer(t *testing.T) {
	s := NewSummarizer(DefaultSummaryOptions())
	for _, r := range summaryFixture() {
		s.Add(r)
	}
	got := s.Close()
	var order []string
	for _, g := range got {
		order = append(order, g.Suite+"/"+g.Target)
	}
	if want := []string{"math/gpt", "support/alpha", "support/gpt"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	ms := time.Millisecond
	sg := got[2]
	checks := []struct {
		name      string
		got, want any
	}{
		{"model", sg.Model, "gpt-4o-mini"},
		{"n", sg.N, 6},
		{"passed", sg.Passed, 3},
		{"errors", sg.Errors, 1},
		{"errors by kind", fmt.Sprint(sg.ErrorsByKind), fmt.Sprint(map[providers.Kind]int{providers.KindRateLimit: 1})},
		{"latency", sg.Latency, Distribution{N: 5, Mean: 400 * ms, P50: 300 * ms, P95: 880 * ms, P99: 976 * ms, Max: 1000 * ms}},
		{"ttft", sg.TTFT, Distribution{N: 2, Mean: 25 * ms, P50: 25 * ms, P95: 29500 * time.Microsecond, P99: 29900 * time.Microsecond, Max: 30 * ms}},
		{"usage", sg.Usage, providers.Usage{InputTokens: 60, CachedInputTokens: 12, OutputTokens: 110}},
		{"cost known", sg.CostKnown, true},
		{"cached", sg.Cached, 1},
		{"repeats", sg.Repeats, 2},
		{"flaky", fmt.Sprint(sg.FlakyCases), "[c2]"},
		{"alpha cost known", got[1].CostKnown, false},
		{"alpha repeats", got[1].Repeats, 1},
		{"alpha flaky", len(got[1].FlakyCases), 0},
		{"math errors", got[0].Errors, 1},
		{"math latency", got[0].Latency, Distribution{}},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	floats := []struct {
		name      string
		got, want float64
	}{
		// statsmodels proportion_confint(3, 6, method="wilson")
		{"pass rate", sg.PassRate.Value, 0.5},
		{"pass rate low", sg.PassRate.Low, 0.18761630648265054},
		{"pass rate high", sg.PassRate.High, 0.8123836935173494},
		{"score", sg.Score.Value, 3.5 / 6},
		{"cost", sg.CostUSD, 0.009},
		// 20/0.08s, 20/0.17s, 30/0.3s, 40/0.4s
		{"tokens/s", sg.TokensPerSec, (250 + 20/0.17 + 100 + 100) / 4},
		// c1 2/2, c2 1/2, c3 0/2: pass@1 = (1 + ½ + 0)/3, pass@2 = (1 + 1 + 0)/3
		{"pass@1", sg.PassAtK[1], 0.5},
		{"pass@2", sg.PassAtK[2], 2.0 / 3},
		{"pass all k", sg.PassAllK, 1.0 / 3},
		{"math pass rate low", got[0].PassRate.Low, 0},
	}
	for _, c := range floats {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %.12g, want %.12g", c.name, c.got, c.want)
		}
	}
	if len(sg.PassAtK) != 2 {
		t.Errorf("PassAtK has %d entries, want k = 1, 2", len(sg.PassAtK))
	}
	if !(sg.Score.Low < sg.Score.Value && sg.Score.Value < sg.Score.High && sg.Score.Low >= 0 && sg.Score.High <= 1) {
		t.Errorf("score interval %+v", sg.Score)
	}
	// A Summary must always encode (no NaN or Inf anywhere).
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("summaries do not encode: %v", err)
	}
}

func TestSummarizerDeterministic(t *testing.T) {
	run := func(opts SummaryOptions, reverse bool) []Summary {
		s := NewSummarizer(opts)
		rs := summaryFixture()
		if reverse {
			slices.Reverse(rs)
		}
		for _, r := range rs {
			s.Add(r)
		}
		return s.Close()
	}
	a := run(DefaultSummaryOptions(), false)
	b := run(DefaultSummaryOptions(), true)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("arrival order changed the summary:\n%s\n%s", ja, jb)
	}
	// Close twice gives the same answer.
	s := NewSummarizer(SummaryOptions{})
	for _, r := range summaryFixture() {
		s.Add(r)
	}
	j1, _ := json.Marshal(s.Close())
	j2, _ := json.Marshal(s.Close())
	if string(j1) != string(j2) {
		t.Error("second Close differs")
	}
}

func TestSummarizerPassAtKPartialRepeats(t *testing.T) {
	// Case a has 3 repeats (pass, fail, fail), case b only 1 (pass): b is left
	// out of pass@2 and pass@3.
	s := NewSummarizer(SummaryOptions{})
	for i, p := range []bool{true, false, false} {
		s.Add(&bench.Result{Suite: "s", Target: "t", CaseID: "a", Repeat: i, Pass: p})
	}
	s.Add(&bench.Result{Suite: "s", Target: "t", CaseID: "b", Repeat: 0, Pass: true})
	sm := s.Close()[0]
	want := map[int]float64{1: (1.0/3 + 1) / 2, 2: 1 - 1.0/3, 3: 1}
	for k, w := range want {
		if math.Abs(sm.PassAtK[k]-w) > 1e-12 {
			t.Errorf("pass@%d = %g, want %g", k, sm.PassAtK[k], w)
		}
	}
	if sm.Repeats != 3 || sm.PassAllK != 0.5 || !slices.Equal(sm.FlakyCases, []string{"a"}) {
		t.Errorf("repeats %d, pass-all-k %g, flaky %v", sm.Repeats, sm.PassAllK, sm.FlakyCases)
	}
}

func TestSummarizerEmpty(t *testing.T) {
	if got := NewSummarizer(SummaryOptions{}).Close(); len(got) != 0 {
		t.Errorf("empty summarizer gave %d summaries", len(got))
	}
}

// BenchmarkSummarizer100k adds 100,000 results (one suite × target, 2000
// bootstrap resamples) and reports the heap still held before Close.
func BenchmarkSummarizer100k(b *testing.B) {
	const n = 100_000
	rs := make([]bench.Result, 1000)
	for i := range rs {
		rs[i] = bench.Result{Suite: "s", Target: "t", Model: "m", Score: float64(i%7) / 6, Pass: i%3 != 0,
			Latency: time.Duration(100+i) * time.Millisecond, TTFT: 20 * time.Millisecond,
			Usage: providers.Usage{InputTokens: 100, OutputTokens: 50}, CostUSD: summaryUSD(0.0001)}
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("case-%06d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := NewSummarizer(DefaultSummaryOptions())
		for i := range n {
			r := rs[i%len(rs)]
			r.CaseID = ids[i]
			s.Add(&r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-held")
		if got := s.Close(); got[0].N != n {
			b.Fatalf("N = %d", got[0].N)
		}
	}
}
