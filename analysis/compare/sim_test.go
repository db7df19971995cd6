package compare

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
)

// simConfig describes one simulated experiment: two runs of nCases cases with
// repeats each. Case i has a latent pass probability q_i ~ U(0.05, 0.95);
// each result passes with probability q_i (+ shift for run B) and scores
// 0.6 + 0.4u when it passes and 0.4u when it fails (u ~ U(0, 1)).
type simConfig struct {
	cases, repeats, iters int
	shift                 float64 // added to B's pass probability
}

type simRates struct {
	sims              int
	rawPass, rawScore float64 // share of rows with p < 0.05, by metric
	sigRows, anySig   float64 // share of rows Significant; share of sims with any
	meanDeltaPass     float64
}

func simulate(cfg simConfig, sims int, seed uint64) simRates {
	rng := rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb))
	var out simRates
	out.sims = sims
	r := &bench.Result{Suite: "s", Target: "t", SuiteVersion: "1", PromptHash: "h"}
	ids := make([]string, cfg.cases)
	for i := range ids {
		ids[i] = "c" + pad4(i)
	}
	var rows int
	for s := range sims {
		c := New(Options{BootstrapIters: cfg.iters, Seed: uint64(s), ExcerptLen: -1})
		for _, id := range ids {
			q := 0.05 + 0.9*rng.Float64()
			for _, run := range []string{"A", "B"} {
				p := q
				if run == "B" {
					p = min(1, q+cfg.shift)
				}
				for rep := range cfg.repeats {
					r.CaseID, r.Repeat = id, rep
					r.Pass = rng.Float64() < p
					u := rng.Float64()
					if r.Pass {
						r.Score = 0.6 + 0.4*u
					} else {
						r.Score = 0.4 * u
					}
					c.Add(run, r)
				}
			}
		}
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			panic(err)
		}
		any := false
		for _, row := range cmp.Rows {
			rows++
			if row.P < 0.05 {
				if row.Metric == MetricPassRate {
					out.rawPass++
				} else {
					out.rawScore++
				}
			}
			if row.Significant {
				out.sigRows++
				any = true
			}
			if row.Metric == MetricPassRate {
				out.meanDeltaPass += row.Delta.Value
			}
		}
		if any {
			out.anySig++
		}
	}
	n := float64(sims)
	out.rawPass /= n
	out.rawScore /= n
	out.sigRows /= float64(rows)
	out.anySig /= n
	out.meanDeltaPass /= n
	return out
}

// TestFalseAlarmRate runs two arms drawn from the same model 1,000 times per
// configuration: the share of significant rows at 95% must stay near 5%
// (Holm makes it ≤ 5% per comparison), and each metric's raw p < 0.05 rate
// must not exceed 5% by more than Monte Carlo error. A shifted candidate must
// be detected, so the test can fail both ways.
func TestFalseAlarmRate(t *testing.T) {
	sims := 1000
	if testing.Short() || raceEnabled {
		sims = 300
	}
	for _, tc := range []struct {
		name string
		cfg  simConfig
	}{
		{"one result per case (McNemar)", simConfig{cases: 60, repeats: 1, iters: 400}},
		{"three repeats per case (bootstrap)", simConfig{cases: 40, repeats: 3, iters: 400}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := simulate(tc.cfg, sims, 1)
			t.Logf("%d sims: raw p<0.05 pass_rate %.3f, score %.3f; significant rows %.3f, comparisons with any %.3f",
				sims, got.rawPass, got.rawScore, got.sigRows, got.anySig)
			// 0.05 + 2.2 binomial SEs at n = 1000 (SE 0.0069).
			if got.rawPass > 0.065 || got.rawScore > 0.065 {
				t.Errorf("raw false-alarm rate above 5%%: pass_rate %.3f, score %.3f", got.rawPass, got.rawScore)
			}
			if got.sigRows > 0.06 || got.anySig > 0.065 {
				t.Errorf("significant under the null: rows %.3f, comparisons %.3f", got.sigRows, got.anySig)
			}
			// Not vacuous: the tests do reject sometimes under the null.
			if got.rawScore < 0.01 {
				t.Errorf("score test never rejects (%.3f): too conservative", got.rawScore)
			}

			power := tc.cfg
			power.shift = 0.3
			pw := simulate(power, 100, 2)
			t.Logf("shift +0.3: significant in %.2f of comparisons", pw.anySig)
			if pw.anySig < 0.8 {
				t.Errorf("a +0.3 pass-probability shift was detected in only %.2f of comparisons", pw.anySig)
			}
		})
	}
}

// BenchmarkFalseAlarmRate is the heavier version: 10,000 simulated null
// comparisons of 100 cases with 2,000 bootstrap resamples per benchmark
// iteration; it reports the rates as metrics.
//
//	go test -run '^$' -bench FalseAlarmRate -benchtime 1x ./analysis/compare
func BenchmarkFalseAlarmRate(b *testing.B) {
	for range b.N {
		got := simulate(simConfig{cases: 100, repeats: 1, iters: 2000}, 10000, 3)
		b.ReportMetric(got.rawPass, "raw-pass-rate-alarms")
		b.ReportMetric(got.rawScore, "raw-score-alarms")
		b.ReportMetric(got.sigRows, "significant-rows")
		b.ReportMetric(got.anySig, "significant-comparisons")
	}
}

// BenchmarkAdd streams 100,000 cases × 2 arms through a Comparer and
// compares them, reporting the heap held by the Comparer.
//
//	go test -run '^$' -bench Add -benchmem ./analysis/compare
func BenchmarkAdd(b *testing.B) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "case-" + pad4(i/10) + itoa(i%10)
	}
	out := "The answer, after some thinking about the question, is forty-two; here is a long explanation that will be cut to the excerpt length."
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := New(DefaultOptions())
		for i, id := range ids {
			for _, run := range []string{"A", "B"} {
				r := &bench.Result{Suite: "s", SuiteVersion: "1", CaseID: id, Target: "t", Output: out,
					PromptHash: "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",
					Pass:       (i+len(run))%3 != 0, Score: float64(i%10) / 10, Latency: 1e9}
				c.Add(run, r)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
		if _, err := c.CompareRuns("A", "B"); err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(c)
	}
}
