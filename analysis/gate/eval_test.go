package gate

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

func usd(v float64) *float64 { return &v }

// stream is a crafted run: suite "support", 10 cases × targets gpt and llama.
//
//	gpt:   cases 0–8 pass (score 1), case 9 fails (score 0.2); latency
//	       (i+1)·100ms, TTFT 50ms, 100 in / 50 out tokens, $0.01 each.
//	llama: cases 0–5 pass, case 6 errors (unavailable), 7–9 fail (score 0.3);
//	       latency 1s, no TTFT, no price.
//
// Cases 0–4 are tagged split:test, 5–9 split:train.
func stream() []*bench.Result {
	var rs []*bench.Result
	for i := range 10 {
		split := "test"
		if i >= 5 {
			split = "train"
		}
		g := &bench.Result{
			Suite: "support", Target: "gpt", Model: "gpt-4o-mini", ResolvedModel: "gpt-4o-mini-2024-07-18",
			CaseID: fmt.Sprintf("c%d", i), Pass: i < 9, Score: 1,
			Latency: time.Duration(i+1) * 100 * time.Millisecond, TTFT: 50 * time.Millisecond,
			Usage: providers.Usage{InputTokens: 100, OutputTokens: 50}, CostUSD: usd(0.01),
			Tags: map[string]string{"split": split},
		}
		if i == 9 {
			g.Score = 0.2
		}
		l := &bench.Result{
			Suite: "support", Target: "llama", Model: "llama3.1:8b",
			CaseID: fmt.Sprintf("c%d", i), Pass: i < 6, Score: 1, Latency: time.Second,
			Usage: providers.Usage{InputTokens: 100, OutputTokens: 40},
			Tags:  map[string]string{"split": split},
		}
		switch {
		case i == 6:
			l.Pass, l.Score, l.Latency = false, 0, 0
			l.Error = &bench.ErrorInfo{Kind: providers.KindUnavailable, Message: "503"}
			l.Usage = providers.Usage{}
		case i > 6:
			l.Score = 0.3
		}
		rs = append(rs, g, l)
	}
	return rs
}

type wantOutcome struct {
	observed float64
	pass     bool
	display  string // exact when set
	n        int
	reason   string // substring when set
}

func TestEvaluator(t *testing.T) {
	w := func(x, n int) stats.Interval { return stats.Wilson(x, n, 0.95) }
	gptTPS := 0.0
	for i := range 10 {
		gptTPS += 50 / (float64(i+1)*0.1 - 0.05)
	}
	gptTPS /= 10
	for _, c := range []struct {
		expr string
		want wantOutcome
	}{
		{"pass_rate >= 0.85", wantOutcome{observed: 0.75, pass: false, n: 20,
			// Two targets answer each of 10 cases: the case is the cluster.
			display: "0.750 [0.497, 0.901] (n counts 10 cases)"}},
		{"pass_rate{target:gpt} >= 0.85", wantOutcome{observed: 0.9, pass: true, n: 10}},
		{"pass_rate{target:gpt} ci_low >= 0.8", wantOutcome{observed: w(9, 10).Low, pass: false, n: 10,
			display: "0.900 [0.596, 0.982]"}},
		{"pass_rate{target:gpt} ci_high > 0.98", wantOutcome{observed: w(9, 10).High, pass: true, n: 10}},
		{"pass_rate{target:gpt} count == 10", wantOutcome{observed: 10, pass: true, n: 10}},
		{"pass_rate{split:test} >= 0.9", wantOutcome{observed: 1, pass: true, n: 10}},
		{"pass_rate{split:train,target:llama} < 0.5", wantOutcome{observed: 0.2, pass: true, n: 5}},
		{"pass_rate{target:claude} >= 0.5", wantOutcome{pass: false, reason: "no data", display: "no data"}},
		{"pass_rate{region:eu} >= 0.5", wantOutcome{pass: false, reason: "no data"}},
		// numpy.percentile([0.1 … 1.0], 95) = 0.955
		{"latency{target:gpt} p(95) < 1s", wantOutcome{observed: 0.955, pass: true, n: 10, display: "955ms"}},
		{"latency{target:gpt} p(95) < 900", wantOutcome{observed: 0.955, pass: false, n: 10}},
		{"latency{target:gpt} p(95) < 0.96s", wantOutcome{observed: 0.955, pass: true, n: 10}},
		{"latency{target:gpt} med <= 550ms", wantOutcome{observed: 0.55, pass: true, n: 10, display: "550ms"}},
		{"latency{target:gpt} avg < 1s", wantOutcome{observed: 0.55, pass: true, n: 10}},
		{"latency{target:gpt} min >= 100ms", wantOutcome{observed: 0.1, pass: true, n: 10, display: "100ms"}},
		{"latency{target:llama} max < 2s", wantOutcome{observed: 1, pass: true, n: 9, display: "1.00s"}},
		{"latency{target:ll*} count == 9", wantOutcome{observed: 9, pass: true, n: 9, display: "9"}},
		{"latency{target:llama,case_id:c6} < 1s", wantOutcome{pass: false, reason: "no data: none of 1 matching results succeeded"}},
		{"ttft{target:gpt} p(50) < 500ms", wantOutcome{observed: 0.05, pass: true, n: 10, display: "50.0ms"}},
		{"ttft{target:llama} p(50) < 500ms", wantOutcome{pass: false, reason: "no streamed successful result among 10"}},
		{"error_rate < 0.02", wantOutcome{observed: 0.05, pass: false, n: 20}},
		{"error_rate{target:gpt} < 2%", wantOutcome{observed: 0, pass: true, n: 10, display: "0.000 [0.000, 0.278]"}},
		{"errors{target:llama} == 1", wantOutcome{observed: 1, pass: true, n: 10, display: "1"}},
		{"errors{error:unavail*} count < 1", wantOutcome{observed: 1, pass: false, n: 1}},
		{"errors rate < 10%", wantOutcome{observed: 0.05, pass: true, n: 20, display: "0.050 (1 of 20)"}},
		{"score{target:gpt,split:test} mean >= 0.7", wantOutcome{observed: 1, pass: true, n: 5, display: "1.000 [1.000, 1.000]"}},
		{"score{target:llama} max <= 1", wantOutcome{observed: 1, pass: true, n: 10}},
		{"score{target:llama} min > 0", wantOutcome{observed: 0, pass: false, n: 10, display: "0.000"}},
		{"score{target:llama} p(50) >= 0.5", wantOutcome{observed: 1, pass: true, n: 10}},
		{"cost{target:gpt} sum < 5", wantOutcome{observed: 0.1, pass: true, n: 10, display: "$0.10"}},
		{"cost{target:gpt} < $0.05", wantOutcome{observed: 0.1, pass: false, n: 10}},
		{"cost{target:gpt} mean <= $0.01", wantOutcome{observed: 0.01, pass: true, n: 10, display: "$0.01"}},
		{"cost sum < 5", wantOutcome{pass: false, n: 20, reason: "no data: cost unknown for 10 of 20 results"}},
		{"cost count == 10", wantOutcome{observed: 10, pass: true, n: 10}},
		{"tokens{target:gpt} sum <= 1500", wantOutcome{observed: 1500, pass: true, n: 10, display: "1500"}},
		{"output_tokens{target:llama} mean > 30", wantOutcome{observed: 36, pass: true, n: 10, display: "36"}},
		{"input_tokens max < 100", wantOutcome{observed: 100, pass: false, n: 20}},
		{"tokens_per_second{target:gpt} avg > 20", wantOutcome{observed: gptTPS, pass: true, n: 10}},
		{"tokens_per_second{target:llama} min >= 40", wantOutcome{observed: 40, pass: true, n: 9, display: "40 tok/s"}},
		{"cases >= 10", wantOutcome{observed: 10, pass: true, n: 20}},
		{"cases{split:test} > 5", wantOutcome{observed: 5, pass: false, n: 10}},
		{"delta(pass_rate) >= -0.02", wantOutcome{pass: false, reason: "no data: no baseline results", display: "no data"}},
	} {
		t.Run(c.expr, func(t *testing.T) {
			th, err := Parse(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			th.Source = "test.yaml:1"
			ev := NewEvaluator([]Threshold{th}, DefaultOptions())
			for _, r := range stream() {
				ev.Add(r)
			}
			outs := ev.Outcomes(nil)
			if len(outs) != 1 {
				t.Fatalf("%d outcomes, want 1", len(outs))
			}
			checkOutcome(t, outs[0], c.expr, c.want)
			if outs[0].Source != "test.yaml:1" {
				t.Errorf("Source = %q", outs[0].Source)
			}
		})
	}
}

func checkOutcome(t *testing.T, o Outcome, expr string, w wantOutcome) {
	t.Helper()
	if o.Threshold != expr {
		t.Errorf("Threshold = %q, want %q", o.Threshold, expr)
	}
	if o.Pass != w.pass {
		t.Errorf("Pass = %v, want %v (observed %g, display %q, reason %q)", o.Pass, w.pass, o.Observed, o.Display, o.Reason)
	}
	if math.Abs(o.Observed-w.observed) > 1e-9 {
		t.Errorf("Observed = %.12g, want %.12g", o.Observed, w.observed)
	}
	if w.n != 0 && o.N != w.n {
		t.Errorf("N = %d, want %d", o.N, w.n)
	}
	if w.display != "" && o.Display != w.display {
		t.Errorf("Display = %q, want %q", o.Display, w.display)
	}
	if w.reason != "" && !strings.Contains(o.Reason, w.reason) {
		t.Errorf("Reason = %q, want it to contain %q", o.Reason, w.reason)
	}
	if o.Pass && o.Reason != "" {
		t.Errorf("passing outcome has Reason %q", o.Reason)
	}
	if _, err := json.Marshal(o); err != nil {
		t.Errorf("outcome does not encode: %v", err)
	}
}

func TestEvaluatorNothingAdded(t *testing.T) {
	var ths []Threshold
	for _, e := range []string{"pass_rate >= 0", "errors < 1", "cases >= 0", "latency < 1s", "cost < 1", "delta(score) >= -1"} {
		th, err := Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	outs := NewEvaluator(ths, Options{}).Outcomes(nil)
	if len(outs) != len(ths) {
		t.Fatalf("%d outcomes for %d thresholds", len(outs), len(ths))
	}
	for _, o := range outs {
		if o.Pass || !strings.HasPrefix(o.Reason, "no data") {
			t.Errorf("%s: pass=%v reason=%q; missing data must breach", o.Threshold, o.Pass, o.Reason)
		}
	}
	if !Failed(outs) || Failed(nil) || Failed([]Outcome{{Pass: true}}) {
		t.Error("Failed is wrong")
	}
}

func TestEvaluatorGroupBy(t *testing.T) {
	th, _ := Parse("pass_rate >= 0.85")
	lat, _ := Parse("latency{split:test} p(50) < 2s")
	ev := NewEvaluator([]Threshold{th, lat}, Options{GroupBy: []string{"suite", "target"}})
	for _, r := range stream() {
		ev.Add(r)
	}
	outs := ev.Outcomes(nil)
	var got []string
	for _, o := range outs {
		got = append(got, fmt.Sprintf("%s %s %v %s", o.Threshold, o.Group, o.Pass, o.Display))
	}
	want := []string{
		"pass_rate >= 0.85 {suite:support,target:gpt} true 0.900 [0.596, 0.982]",
		"pass_rate >= 0.85 {suite:support,target:llama} false 0.600 [0.313, 0.832]",
		"latency{split:test} p(50) < 2s {suite:support,target:gpt} true 300ms",
		"latency{split:test} p(50) < 2s {suite:support,target:llama} true 1.00s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEvaluatorInvalidThreshold(t *testing.T) {
	ev := NewEvaluator([]Threshold{{Metric: Latency, Agg: AggCILow, Op: Less, Value: 1}}, Options{})
	ev.Add(stream()[0])
	o := ev.Outcomes(nil)[0]
	if o.Pass || !strings.Contains(o.Reason, "ci_low does not apply to latency") {
		t.Errorf("invalid hand-built threshold: %+v", o)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"gpt", "gpt", true},
		{"gpt", "gpt-4o", false},
		{"gpt*", "gpt-4o", true},
		{"*", "", true},
		{"openai:*", "openai:gpt-4o-mini", true},
		{"*:gpt-*", "azure:gpt-4o", true},
		{"*mini", "openai:gpt-4o-mini", true},
		{"a*b*c", "abxbc", true},
		{"a*b*c", "acb", false},
		{"ab*ab", "ab", false},
		{"ab*ab", "abab", true},
	} {
		if got := glob(c.pattern, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

// BenchmarkEvaluator100k: 100,000 results through the example
// thresholds (two of them bootstrap over all results) (delta thresholds are judged
// on comparison rows, see delta_test.go).
func BenchmarkEvaluator100k(b *testing.B) {
	const n = 100_000
	var ths []Threshold
	for _, e := range []string{
		"pass_rate >= 0.85", "pass_rate{target:gpt} ci_low >= 0.8", "latency p(95) < 2s", "error_rate < 0.02",
		"score{suite:support,split:test} mean >= 0.7", "cost sum < 5", "ttft p(50) < 500ms",
		"tokens_per_second avg > 20",
	} {
		th, err := Parse(e)
		if err != nil {
			b.Fatal(err)
		}
		ths = append(ths, th)
	}
	rs := make([]bench.Result, n)
	for i := range rs {
		rs[i] = bench.Result{Suite: "support", Target: "gpt", CaseID: fmt.Sprintf("c%06d", i), Pass: i%5 != 0,
			Score: float64(i%10) / 9, Latency: time.Duration(200+i%1000) * time.Millisecond, TTFT: 40 * time.Millisecond,
			Usage: providers.Usage{InputTokens: 200, OutputTokens: 80}, CostUSD: usd(0.00002),
			Tags: map[string]string{"split": "test"}}
	}
	b.ReportAllocs()
	for b.Loop() {
		ev := NewEvaluator(ths, DefaultOptions())
		for i := range rs {
			ev.Add(&rs[i])
		}
		if outs := ev.Outcomes(nil); len(outs) != len(ths) {
			b.Fatalf("%d outcomes", len(outs))
		}
	}
}
