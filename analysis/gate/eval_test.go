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
			display: fmt.Sprintf("0.750 [%.3f, %.3f]", w(15, 20).Low, w(15, 20).High)}},
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
		{"latency{target:llama} max < 2s", wantOutcome{observed: 1, pass: true, n: 9, display: "1s"}},
		{"latency{target:ll*} count == 9", wantOutcome{observed: 9, pass: true, n: 9, display: "9"}},
		{"latency{target:llama,case_id:c6} < 1s", wantOutcome{pass: false, reason: "no data: none of 1 matching results succeeded"}},
		{"ttft{target:gpt} p(50) < 500ms", wantOutcome{observed: 0.05, pass: true, n: 10, display: "50ms"}},
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
		{"delta(pass_rate) >= -0.02", wantOutcome{pass: false, reason: "no data: no baseline results", display: "no baseline"}},
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
			outs := ev.Outcomes()
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
	outs := NewEvaluator(ths, Options{}).Outcomes()
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
	outs := ev.Outcomes()
	var got []string
	for _, o := range outs {
		got = append(got, fmt.Sprintf("%s %s %v %s", o.Threshold, o.Group, o.Pass, o.Display))
	}
	want := []string{
		"pass_rate >= 0.85 {suite:support,target:gpt} true 0.900 [0.596, 0.982]",
		"pass_rate >= 0.85 {suite:support,target:llama} false 0.600 [0.313, 0.832]",
		"latency{split:test} p(50) < 2s {suite:support,target:gpt} true 300ms",
		"latency{split:test} p(50) < 2s {suite:support,target:llama} true 1s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEvaluatorInvalidThreshold(t *testing.T) {
	ev := NewEvaluator([]Threshold{{Metric: Latency, Agg: AggCILow, Op: Less, Value: 1}}, Options{})
	ev.Add(stream()[0])
	o := ev.Outcomes()[0]
	if o.Pass || !strings.Contains(o.Reason, "ci_low does not apply to latency") {
		t.Errorf("invalid hand-built threshold: %+v", o)
	}
}

// baseline builds results of one target for cases c0…c(n−1) with the given
// pass pattern; score is 1 for a pass and 0.25 otherwise.
func baseline(target string, pass []bool, repeat int) []*bench.Result {
	var rs []*bench.Result
	for i, p := range pass {
		s := 0.25
		if p {
			s = 1
		}
		rs = append(rs, &bench.Result{Suite: "support", Target: target, CaseID: fmt.Sprintf("c%d", i),
			Repeat: repeat, Pass: p, Score: s, Tags: map[string]string{"split": []string{"test", "train"}[i%2]}})
	}
	return rs
}

func bools(s string) []bool {
	out := make([]bool, len(s))
	for i := range s {
		out[i] = s[i] == '1'
	}
	return out
}

func TestEvaluatorDelta(t *testing.T) {
	// 40 cases. Baseline passes 30; candidate loses 6 of them and gains 2:
	// Both 24, baseline-only 6, candidate-only 2, neither 8.
	base := bools("1111111111111111111111111111110000000000")
	cand := bools("1111111111111111111111110000001100000000")
	counts := stats.PairedCounts{Both: 24, AOnly: 6, BOnly: 2, Neither: 8}
	nc := stats.NewcombePaired(counts, 0.95)

	// Score: the same pattern; differences per case are 0 or ±0.75.
	var dA, dB []float64
	for i := range base {
		dA = append(dA, map[bool]float64{true: 1, false: 0.25}[base[i]])
		dB = append(dB, map[bool]float64{true: 1, false: 0.25}[cand[i]])
	}
	pb, _, _ := stats.PairedBootstrap(dA, dB, DefaultOptions().bootstrap())

	type tc struct {
		name     string
		expr     string
		baseline []*bench.Result
		run      []*bench.Result
		want     wantOutcome
	}
	cases := []tc{
		{"newcombe lower bound", "delta(pass_rate) >= -0.2", baseline("old-model", base, 0), baseline("gpt", cand, 0),
			wantOutcome{observed: nc.Low, pass: nc.Low >= -0.2, n: 40,
				display: fmt.Sprintf("%+.3f [%+.3f, %+.3f]", nc.Value, nc.Low, nc.High)}},
		{"non-inferiority margin breached", "delta(pass_rate) >= -0.02", baseline("old-model", base, 0), baseline("gpt", cand, 0),
			wantOutcome{observed: nc.Low, pass: false, n: 40, reason: "lower end of the 95% interval of candidate − baseline over 40 paired cases (Newcombe paired score interval; baseline-only passes 6, candidate-only 2, exact McNemar p = 0.289)"}},
		{"upper bound for <=", "delta(pass_rate) <= 0.5", baseline("old-model", base, 0), baseline("gpt", cand, 0),
			wantOutcome{observed: nc.High, pass: true, n: 40}},
		{"point estimate", "delta(pass_rate) value == -0.1", baseline("old-model", base, 0), baseline("gpt", cand, 0),
			wantOutcome{observed: -0.1, pass: true, n: 40}},
		{"pair count", "delta(pass_rate) count >= 40", baseline("old-model", base, 0), baseline("gpt", cand, 0),
			wantOutcome{observed: 40, pass: true, n: 40}},
		{"score paired bootstrap", "delta(score) ci_low >= -0.05", baseline("old-model", base, 0), baseline("gpt", cand, 0),
			wantOutcome{observed: pb.Low, pass: pb.Low >= -0.05, n: 40, reason: "paired bootstrap"}},
		{"identical runs pass a zero margin on the upper side", "delta(pass_rate) ci_high >= 0", baseline("old-model", base, 0), baseline("gpt", base, 0),
			wantOutcome{observed: stats.NewcombePaired(stats.PairedCounts{Both: 30, Neither: 10}, 0.95).High, pass: true, n: 40}},
		{"filter on candidate tags", "delta(pass_rate{split:test}) count == 20", baseline("old-model", base, 0), baseline("gpt", cand, 0),
			wantOutcome{observed: 20, pass: true, n: 20}},
		{"same target name pairs when the baseline has several", "delta(pass_rate) count == 40",
			append(baseline("gpt", base, 0), baseline("llama", cand, 0)...), baseline("gpt", cand, 0),
			wantOutcome{observed: 40, pass: true, n: 40}},
		{"unknown target with several baseline targets", "delta(pass_rate) >= -1",
			append(baseline("gpt", base, 0), baseline("llama", cand, 0)...), baseline("claude", cand, 0),
			wantOutcome{pass: false, reason: "no data: none of the 40 candidate cases has a baseline partner", display: "no pairs"}},
		{"disjoint cases", "delta(score) >= -1", baseline("old-model", base, 0),
			func() []*bench.Result {
				rs := baseline("gpt", cand, 0)
				for _, r := range rs {
					r.CaseID = "new-" + r.CaseID
				}
				return rs
			}(),
			wantOutcome{pass: false, reason: "no data: none of the 40 candidate cases"}},
		{"repeats use the cluster bootstrap", "delta(pass_rate) >= -0.5", baseline("old-model", base, 0),
			append(baseline("gpt", cand, 0), baseline("gpt", cand, 1)...),
			wantOutcome{pass: true, n: 40, observed: math.NaN()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th, err := Parse(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			ev := NewEvaluator([]Threshold{th}, DefaultOptions())
			for _, r := range c.run {
				ev.Add(r)
			}
			for _, r := range c.baseline {
				ev.AddBaseline(r)
			}
			o := ev.Outcomes()[0]
			if math.IsNaN(c.want.observed) {
				c.want.observed = o.Observed // checked separately below
			}
			checkOutcome(t, o, c.expr, c.want)
		})
	}

	// Repeats: the candidate's two identical repeats average to the same
	// per-case values, so the cluster bootstrap estimate equals the binary
	// estimate, and its interval is a bootstrap over 40 cases.
	th, _ := Parse("delta(pass_rate) value == -0.1")
	lo, _ := Parse("delta(pass_rate) ci_low < 0")
	ev := NewEvaluator([]Threshold{th, lo}, DefaultOptions())
	for _, r := range append(baseline("gpt", cand, 0), baseline("gpt", cand, 1)...) {
		ev.Add(r)
	}
	for _, r := range baseline("old-model", base, 0) {
		ev.AddBaseline(r)
	}
	outs := ev.Outcomes()
	if !outs[0].Pass || !outs[1].Pass {
		t.Errorf("cluster path: %+v", outs)
	}
	th2, _ := Parse("delta(pass_rate) >= 0")
	ev2 := NewEvaluator([]Threshold{th2}, DefaultOptions())
	for _, r := range append(baseline("gpt", cand, 0), baseline("gpt", cand, 1)...) {
		ev2.Add(r)
	}
	for _, r := range baseline("old-model", base, 0) {
		ev2.AddBaseline(r)
	}
	if o := ev2.Outcomes()[0]; o.Pass || !strings.Contains(o.Reason, "cluster bootstrap over 40 cases") {
		t.Errorf("cluster path reason: %+v", o)
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

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FormatSeconds(1.84), "1.84s"},
		{FormatSeconds(2), "2s"},
		{FormatSeconds(12.345), "12.3s"},
		{FormatSeconds(125.6), "126s"},
		{FormatSeconds(0.512), "512ms"},
		{FormatSeconds(0.0452), "45.2ms"},
		{FormatSeconds(0.00098), "980µs"},
		{FormatSeconds(3e-8), "30ns"},
		{FormatSeconds(0), "0s"},
		{FormatUSD(3.2), "$3.20"},
		{FormatUSD(0), "$0.00"},
		{FormatUSD(0.0042), "$0.0042"},
		{FormatUSD(0.00001234), "$0.000012"},
		{FormatUSD(-0.5), "-$0.50"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// BenchmarkEvaluator100k: 100,000 results through the example
// thresholds (two of them bootstrap over all results) plus a delta against a
// 100,000-result baseline.
func BenchmarkEvaluator100k(b *testing.B) {
	const n = 100_000
	var ths []Threshold
	for _, e := range []string{
		"pass_rate >= 0.85", "pass_rate{target:gpt} ci_low >= 0.8", "latency p(95) < 2s", "error_rate < 0.02",
		"score{suite:support,split:test} mean >= 0.7", "cost sum < 5", "ttft p(50) < 500ms",
		"tokens_per_second avg > 20", "delta(pass_rate) >= -0.02", "delta(score) ci_low >= -0.05",
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
			ev.AddBaseline(&rs[i])
		}
		if outs := ev.Outcomes(); len(outs) != len(ths) {
			b.Fatalf("%d outcomes", len(outs))
		}
	}
}
