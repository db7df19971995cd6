package reports

import (
	"flag"
	"fmt"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run %s -update to create it)", err, t.Name())
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (rerun with -update after checking):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func f64(x float64) *float64 { return &x }

// sampleInput is a small, fixed run: two suites, two targets, thresholds
// that pass and fail, comparisons against a baseline, regressions, flaky
// cases and repeats.
func sampleInput() *Input {
	sum := func(suite, target string, n, passed, errs int, pr, lo, hi, sc, slo, shi float64, p50, p95, p99 time.Duration, ttft time.Duration, cost float64, known bool) analysis.Summary {
		s := analysis.Summary{
			Suite: suite, Target: target, Model: target, N: n, Passed: passed, Errors: errs,
			PassRate: stats.Interval{Value: pr, Low: lo, High: hi},
			Score:    stats.Interval{Value: sc, Low: slo, High: shi},
			Latency:  analysis.Distribution{N: n - errs, Mean: p50 + p50/10, P50: p50, P95: p95, P99: p99, Max: p99 + time.Second},
			Usage:    providers.Usage{InputTokens: n * 180, OutputTokens: n * 42},
			CostUSD:  cost, CostKnown: known, Repeats: 1, TokensPerSec: 61.25,
		}
		if ttft > 0 {
			s.TTFT = analysis.Distribution{N: n - errs, P50: ttft, P95: 2 * ttft, P99: 3 * ttft, Max: 4 * ttft}
		}
		if errs > 0 {
			s.ErrorsByKind = map[providers.Kind]int{providers.KindRateLimit: errs - 1, providers.KindTimeout: 1}
		}
		return s
	}
	s1 := sum("support", "openai:gpt-4o-mini", 400, 356, 3, 0.89, 0.8553, 0.9176, 0.912, 0.889, 0.933, 812*time.Millisecond, 1840*time.Millisecond, 2310*time.Millisecond, 240*time.Millisecond, 0.0412, true)
	s2 := sum("support", "ollama:llama3.1:8b", 400, 322, 0, 0.805, 0.7635, 0.8406, 0.851, 0.826, 0.874, 2100*time.Millisecond, 4400*time.Millisecond, 6900*time.Millisecond, 0, 0, false)
	s3 := sum("math", "openai:gpt-4o-mini", 120, 97, 0, 0.8083, 0.7284, 0.8692, 0.8083, 0.74, 0.87, 950*time.Millisecond, 2200*time.Millisecond, 2900*time.Millisecond, 300*time.Millisecond, 0.0131, true)
	s4 := sum("math", "ollama:llama3.1:8b", 120, 64, 0, 0.5333, 0.4446, 0.62, 0.5333, 0.45, 0.62, 2600*time.Millisecond, 5100*time.Millisecond, 7200*time.Millisecond, 0, 0, false)
	s1.Repeats, s1.PassAtK, s1.PassAllK, s1.FlakyCases = 3, map[int]float64{1: 0.89, 3: 0.945}, 0.83, []string{"refund-17", "order-204"}
	s1.PassHatK = map[int]float64{1: 0.89, 3: 0.83}
	s2.Repeats, s2.PassAtK, s2.PassAllK = 3, map[int]float64{1: 0.805, 3: 0.88}, 0.74
	s2.PassHatK = map[int]float64{1: 0.805, 3: 0.74}

	b1, b2 := s1, s2
	b1.PassRate.Value, b1.CostUSD, b1.Latency.P50, b1.Latency.P95 = 0.915, 0.0398, 790*time.Millisecond, 1700*time.Millisecond
	b2.PassRate.Value, b2.Latency.P50, b2.Latency.P95 = 0.80, 2150*time.Millisecond, 4300*time.Millisecond

	return &Input{
		Meta: Meta{
			Title: "Nightly eval", RunID: "2025-03-14T09-26-53", Started: t0, Finished: t0.Add(3*time.Minute + 4*time.Second),
			GitSHA: "1a2b3c4d5e6f7a8b9c0d", GitRef: "main", Baseline: "baselines/support.yaml", Version: "v0.3.0",
		},
		Summaries: []analysis.Summary{s1, s2, s3, s4},
		Baseline:  []analysis.Summary{b1, b2},
		Outcomes: []gate.Outcome{
			{Threshold: "pass_rate >= 0.85", Source: "support.yaml:41", Group: "{suite:support}", Observed: 0.89, Display: "0.890 [0.855, 0.918]", N: 400, Pass: true},
			{Threshold: "latency p(95) < 2s", Source: "support.yaml:42", Observed: 4.4, Display: "4.40s", N: 800, Pass: false},
			{Threshold: "delta(pass_rate) >= -0.02", Source: "--threshold", Observed: -0.025, Display: "-0.025 [-0.046, -0.004]", N: 400, Pass: false, Reason: "interval entirely below the margin"},
		},
		Comparisons: []compare.Row{
			{Suite: "support", Metric: "pass_rate", A: "openai:gpt-4o-mini", B: "ollama:llama3.1:8b", N: 400, ValueA: 0.89, ValueB: 0.805,
				IntervalA: stats.Interval{Value: 0.89, Low: 0.8553, High: 0.9176}, IntervalB: stats.Interval{Value: 0.805, Low: 0.7635, High: 0.8406},
				Delta: stats.Interval{Value: -0.085, Low: -0.128, High: -0.043}, P: 0.0001, PAdjusted: 0.0004, Significant: true, Method: "mcnemar-exact", AOnly: 52, BOnly: 18},
			{Suite: "support", Metric: "score", A: "openai:gpt-4o-mini", B: "ollama:llama3.1:8b", N: 400, ValueA: 0.912, ValueB: 0.851,
				IntervalA: stats.Interval{Value: 0.912, Low: 0.889, High: 0.933}, IntervalB: stats.Interval{Value: 0.851, Low: 0.826, High: 0.874},
				Delta: stats.Interval{Value: -0.061, Low: -0.09, High: -0.031}, P: 0.0002, PAdjusted: 0.0006, Significant: true, Method: "paired-bootstrap"},
			{Suite: "math", Metric: "pass_rate", A: "openai:gpt-4o-mini", B: "ollama:llama3.1:8b", N: 120, ValueA: 0.8083, ValueB: 0.5333,
				IntervalA: stats.Interval{Value: 0.8083, Low: 0.7284, High: 0.8692}, IntervalB: stats.Interval{Value: 0.5333, Low: 0.4446, High: 0.62},
				Delta: stats.Interval{Value: -0.275, Low: -0.38, High: -0.17}, P: 0.00001, PAdjusted: 0.00004, Significant: true, Method: "mcnemar-exact", AOnly: 38, BOnly: 5},
			{Suite: "math", Metric: "score", A: "openai:gpt-4o-mini", B: "ollama:llama3.1:8b", N: 120, ValueA: 0.61, ValueB: 0.6,
				IntervalA: stats.Interval{Value: 0.61, Low: 0.562, High: 0.657}, IntervalB: stats.Interval{Value: 0.6, Low: 0.551, High: 0.648},
				Delta: stats.Interval{Value: -0.01, Low: -0.04, High: 0.021}, P: 0.52, PAdjusted: 0.52, Significant: false, Method: "paired-bootstrap"},
		},
		Reference: "openai:gpt-4o-mini",
		Flaky: []FlakyCase{
			{Suite: "support", Target: "openai:gpt-4o-mini", CaseID: "refund-17", Passed: 2, Runs: 3},
			{Suite: "support", Target: "openai:gpt-4o-mini", CaseID: "order-204", Passed: 1, Runs: 3},
		},
		Regressions: []compare.CaseChange{
			{Suite: "support", CaseID: "refund-17", A: "baseline", B: "openai:gpt-4o-mini", Target: "openai:gpt-4o-mini",
				APassed: 1, ARuns: 1, BPassed: 0, BRuns: 1, AScore: 1, BScore: 0,
				Reason: `missing "refund_request"`, Output: "The customer wants to\ncancel their order."},
			{Suite: "support", CaseID: "billing-3", A: "baseline", B: "ollama:llama3.1:8b", Target: "ollama:llama3.1:8b",
				APassed: 3, ARuns: 3, BPassed: 1, BRuns: 3, AScore: 1, BScore: 0.5,
				Reason: "label mismatch", Output: "billing | account"},
		},
		Costs: []compare.CostLatency{
			{Suite: "support", A: "openai:gpt-4o-mini", B: "ollama:llama3.1:8b", N: 400,
				LatencyA: 812 * time.Millisecond, LatencyB: 2100 * time.Millisecond, LatencyNA: 397, LatencyNB: 400,
				CostA: 0.0412, CostB: 0, CostKnownA: true, CostKnownB: false, ResultsA: 400, ResultsB: 400},
			{Suite: "math", A: "openai:gpt-4o-mini", B: "ollama:llama3.1:8b", N: 120,
				LatencyA: 950 * time.Millisecond, LatencyB: 2600 * time.Millisecond, LatencyNA: 120, LatencyNB: 120,
				CostA: 0.0131, CostB: 0.0262, CostKnownA: true, CostKnownB: true, ResultsA: 120, ResultsB: 120},
		},
		Warnings: []string{"ollama:llama3.1:8b: 3 results errored (rate_limit); their cases count as failures"},
	}
}

// sampleResults is a small fixed stream: passes, a scorer failure with parts,
// a provider error, repeats, and an output full of markup.
func sampleResults() []*bench.Result {
	mk := func(suite, id, target string, rep int, pass bool, score float64, out string, lat time.Duration) *bench.Result {
		return &bench.Result{
			Suite: suite, SuiteVersion: "1.2", CaseID: id, Target: target, Model: target, Repeat: rep,
			Prompt:   []providers.Message{{Role: "system", Content: "Classify the intent."}, {Role: "user", Content: "Ticket " + id}},
			Expected: "refund_request", Output: out, Score: score, Pass: pass,
			Start: t0.Add(time.Duration(rep) * time.Second), Latency: lat, Usage: providers.Usage{InputTokens: 120, OutputTokens: 8},
			CostUSD: f64(0.000123),
		}
	}
	r1 := mk("support", "refund-17", "openai:gpt-4o-mini", 0, true, 1, "refund_request", 812*time.Millisecond)
	r2 := mk("support", "refund-17", "openai:gpt-4o-mini", 1, false, 0, "cancel_order", 790*time.Millisecond)
	r2.Reason = `expected "refund_request"`
	r2.Scores = []bench.ScorePart{{Name: "exact", Value: 0, Weight: 1, Pass: false, Reason: `expected "refund_request", got "cancel_order"`}}
	r3 := mk("support", "refund-17", "ollama:llama3.1:8b", 0, false, 0, `<script>alert(1)</script> & "quotes" ]]> `+"\x00\x1b[31m\uFFFE\xff", 2100*time.Millisecond)
	r3.Reason = "not a label"
	r3.Scores = []bench.ScorePart{{Name: "choice", Value: 0, Weight: 1, Pass: false, Reason: "no label found"}}
	r3.CostUSD = nil
	r4 := mk("support", "order-204", "ollama:llama3.1:8b", 0, false, 0, "", 30*time.Second)
	r4.Error = &bench.ErrorInfo{Kind: providers.KindTimeout, Message: "context deadline exceeded", Stage: "generate"}
	r4.CostUSD = nil
	r5 := mk("math", "gsm-1", "openai:gpt-4o-mini", 0, true, 1, "42", 950*time.Millisecond)
	r6 := mk("math", "gsm-1", "ollama:llama3.1:8b", 0, true, 1, "The answer is 42.", 2600*time.Millisecond)
	return []*bench.Result{r1, r2, r3, r4, r5, r6}
}

func seqOf(rs []*bench.Result) iter.Seq2[*bench.Result, error] {
	return func(yield func(*bench.Result, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// synth generates a large run lazily, so benchmarks measure the reporter and
// not the fixture: nCases cases × targets × repeats, deterministic.
type synth struct {
	suites  []string
	targets []string
	nCases  int
	repeats int
	seed    uint64
	// malicious, when set, puts markup in every 7th output.
	malicious bool
}

// quality per target: chance of a pass, and latency scale.
var synthQuality = []struct {
	p   float64
	lat float64
}{{0.88, 0.8}, {0.74, 2.1}, {0.81, 1.3}, {0.66, 0.5}}

func (s synth) caseID(i int) string { return fmt.Sprintf("%s-%06d", s.suites[i%len(s.suites)], i) }

func (s synth) results(baseline bool) iter.Seq2[*bench.Result, error] {
	return func(yield func(*bench.Result, error) bool) {
		seed := s.seed
		if baseline {
			seed++
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		answers := []string{"refund_request", "cancel_order", "track_package", "billing_question", "complaint"}
		for i := 0; i < s.nCases; i++ {
			suite := s.suites[i%len(s.suites)]
			expected := answers[i%len(answers)]
			prompt := []providers.Message{
				{Role: "system", Content: "You are a support triage assistant. Answer with one intent label."},
				{Role: "user", Content: fmt.Sprintf("Ticket #%d: I ordered a blender on the %dth and it arrived broken. What can you do?", i, i%28+1)},
			}
			difficulty := rng.Float64()*0.5 - 0.25
			for ti, tg := range s.targets {
				q := synthQuality[ti%len(synthQuality)]
				for rep := 0; rep < s.repeats; rep++ {
					pass := rng.Float64() < q.p+difficulty
					out := expected
					if !pass {
						out = answers[(i+ti+rep+1)%len(answers)]
					}
					if rng.IntN(3) == 0 {
						out = "The intent is " + out + ". The customer reports a damaged item and asks for a remedy."
					}
					if s.malicious && i%7 == 3 {
						out = `<img src=x onerror="document.documentElement.setAttribute('data-xss','1')"><script>document.title='PWNED'</script></script>` + "\u2028" + out
					}
					lat := time.Duration(q.lat * math.Exp(rng.NormFloat64()*0.45) * float64(time.Second))
					r := &bench.Result{
						Suite: suite, CaseID: s.caseID(i), Target: tg, Model: tg, Repeat: rep,
						Prompt: prompt, Expected: expected, Output: out, Pass: pass,
						Start: t0.Add(time.Duration(i) * 10 * time.Millisecond), Latency: lat,
						Usage: providers.Usage{InputTokens: 38 + i%17, OutputTokens: 3 + rng.IntN(20)},
					}
					if pass {
						r.Score = 1
					} else {
						r.Reason = fmt.Sprintf("expected %q", expected)
						r.Scores = []bench.ScorePart{{Name: "exact", Value: 0, Weight: 1, Reason: fmt.Sprintf("expected %q, got %q", expected, out)}}
					}
					if ti%2 == 0 {
						price := float64(ti + 1) // per-target price multiplier
						r.CostUSD = f64(price * (float64(r.Usage.InputTokens)*0.15e-6 + float64(r.Usage.OutputTokens)*0.6e-6))
						r.TTFT = lat / 4
					}
					if rng.IntN(400) == 0 {
						r.Error = &bench.ErrorInfo{Kind: providers.KindRateLimit, Message: "429 Too Many Requests", StatusCode: 429, Stage: "generate"}
						r.Output, r.Pass, r.Score, r.Reason, r.Scores = "", false, 0, "", nil
					}
					if !yield(r, nil) {
						return
					}
				}
			}
		}
	}
}

// summaries builds plausible summaries for a synthetic run by counting its
// results. Test scaffolding only: the intervals are a normal approximation,
// not the stats package's; the reporters just display them.
func (s synth) summaries() []analysis.Summary {
	type acc struct {
		n, pass, errs int
		score         float64
		lats          []time.Duration
		usage         providers.Usage
		cost          float64
	}
	accs := map[[2]string]*acc{}
	for r := range s.results(false) {
		k := [2]string{r.Suite, r.Target}
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
		}
		a.n++
		if r.Pass {
			a.pass++
		}
		a.score += r.Score
		if r.Error != nil {
			a.errs++
		} else {
			a.lats = append(a.lats, r.Latency)
		}
		a.usage = a.usage.Add(r.Usage)
		if r.CostUSD != nil {
			a.cost += *r.CostUSD
		}
	}
	var out []analysis.Summary
	for _, su := range s.suites {
		for ti, tg := range s.targets {
			a := accs[[2]string{su, tg}]
			if a == nil {
				continue
			}
			p := float64(a.pass) / float64(a.n)
			half := 1.96 * math.Sqrt(p*(1-p)/float64(a.n))
			slices.Sort(a.lats)
			q := func(f float64) time.Duration { return a.lats[int(f*float64(len(a.lats)-1))] }
			out = append(out, analysis.Summary{
				Suite: su, Target: tg, Model: tg, N: a.n, Passed: a.pass, Errors: a.errs,
				ErrorsByKind: map[providers.Kind]int{providers.KindRateLimit: a.errs},
				PassRate:     stats.Interval{Value: p, Low: math.Max(0, p-half), High: math.Min(1, p+half)},
				Score:        stats.Interval{Value: a.score / float64(a.n), Low: math.Max(0, a.score/float64(a.n)-half), High: math.Min(1, a.score/float64(a.n)+half)},
				Latency:      analysis.Distribution{N: len(a.lats), P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: a.lats[len(a.lats)-1]},
				Usage:        a.usage, CostUSD: a.cost, CostKnown: ti%2 == 0, Repeats: s.repeats,
			})
		}
	}
	return out
}
