package gate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
)

// The simulations below check the gate's statistics end to end: two runs are
// drawn over the same 200 cases, each case with its own pass probability
// p ~ Beta(0.8, 0.4) (mean 2/3, U-shaped, as in real evals where most cases
// are reliably passed or failed), results go through an Evaluator exactly as
// the CLI feeds them, and we count how often the 95% delta thresholds breach.

const (
	simCases = 200
	betaA    = 0.8
	betaB    = 0.4
)

// gamma draws Gamma(shape, 1) by Marsaglia & Tsang (2000), boosting shapes
// below 1 with U^(1/shape).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

func beta(r *rand.Rand, a, b float64) float64 {
	x := gamma(r, a)
	return x / (x + gamma(r, b))
}

// draw makes one run's results for cases with pass probabilities p. A passing
// answer scores in [0.6, 1], a failing one in [0, 0.5].
func draw(r *rand.Rand, target string, p []float64) []*bench.Result {
	rs := make([]*bench.Result, len(p))
	for i, pi := range p {
		pass := r.Float64() < pi
		s := 0.5 * r.Float64()
		if pass {
			s = 0.6 + 0.4*r.Float64()
		}
		rs[i] = &bench.Result{Suite: "sim", Target: target, CaseID: caseIDs[i], Pass: pass, Score: s}
	}
	return rs
}

var caseIDs = func() []string {
	ids := make([]string, simCases)
	for i := range ids {
		ids[i] = fmt.Sprintf("case-%03d", i)
	}
	return ids
}()

// simResult counts breaches over simulations.
type simResult struct {
	sims                 int
	regress, improve     int // pass_rate: ci_high < 0, ci_low > 0
	mcnemar              int // exact McNemar p < 0.05
	scoreRegress, scoreI int // score: ci_high < 0, ci_low > 0
}

func (s simResult) rate(k int) float64 { return float64(k) / float64(s.sims) }

// simulate runs sims pairs of runs; drop is the candidate's true pass-rate
// drop (0 for the null), applied as p' = p·(1 − drop/mean p) so the mean
// falls by exactly drop. withScore adds the (bootstrap) score thresholds.
func simulate(t testing.TB, seed uint64, sims int, drop float64, withScore bool, resamples int) simResult {
	exprs := []string{"delta(pass_rate) ci_high >= 0", "delta(pass_rate) ci_low <= 0"}
	if withScore {
		exprs = append(exprs, "delta(score) ci_high >= 0", "delta(score) ci_low <= 0")
	}
	var ths []Threshold
	for _, e := range exprs {
		th, err := Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	r := rand.New(rand.NewPCG(seed, 2024))
	mean := betaA / (betaA + betaB)
	res := simResult{sims: sims}
	p := make([]float64, simCases)
	q := make([]float64, simCases)
	for s := range sims {
		for i := range p {
			p[i] = beta(r, betaA, betaB)
			q[i] = p[i] * (1 - drop/mean)
		}
		base, cand := draw(r, "baseline", p), draw(r, "candidate", q)
		ev := NewEvaluator(ths, Options{Seed: uint64(s), Resamples: resamples})
		var pc stats.PairedCounts
		for i := range base {
			ev.AddBaseline(base[i])
			ev.Add(cand[i])
			switch {
			case base[i].Pass && cand[i].Pass:
				pc.Both++
			case base[i].Pass:
				pc.AOnly++
			case cand[i].Pass:
				pc.BOnly++
			}
		}
		outs := ev.Outcomes()
		if !outs[0].Pass {
			res.regress++
		}
		if !outs[1].Pass {
			res.improve++
		}
		if withScore {
			if !outs[2].Pass {
				res.scoreRegress++
			}
			if !outs[3].Pass {
				res.scoreI++
			}
		}
		if stats.McNemarExact(pc.AOnly, pc.BOnly) < 0.05 {
			res.mcnemar++
		}
	}
	return res
}

// band is the 3-sigma binomial band around rate p0 for n simulations.
func band(p0 float64, n int) (float64, float64) {
	sd := math.Sqrt(p0 * (1 - p0) / float64(n))
	return p0 - 3*sd, p0 + 3*sd
}

// checkFalseAlarm asserts the same-model breach rates are inside 3-sigma
// binomial bands: about 5% two-sided, about 2.5% for a regression alone, and
// at most the 5% band's top for the conservative exact McNemar test.
func checkFalseAlarm(t *testing.T, res simResult) {
	t.Helper()
	twoSided := res.rate(res.regress + res.improve)
	oneSided := res.rate(res.regress)
	mc := res.rate(res.mcnemar)
	t.Logf("pass_rate, same model, %d sims × %d cases: two-sided alarm %.2f%%, regression alarm %.2f%%, exact McNemar p<0.05 %.2f%%",
		res.sims, simCases, 100*twoSided, 100*oneSided, 100*mc)
	if lo, hi := band(0.05, res.sims); twoSided < lo || twoSided > hi {
		t.Errorf("two-sided false alarm rate %.4f outside [%.4f, %.4f]", twoSided, lo, hi)
	}
	if lo, hi := band(0.025, res.sims); oneSided < lo || oneSided > hi {
		t.Errorf("regression false alarm rate %.4f outside [%.4f, %.4f]", oneSided, lo, hi)
	}
	if _, hi := band(0.05, res.sims); mc > hi {
		t.Errorf("exact McNemar false alarm rate %.4f above %.4f", mc, hi)
	}
}

func checkScoreFalseAlarm(t *testing.T, res simResult, resamples int) {
	t.Helper()
	two := res.rate(res.scoreRegress + res.scoreI)
	t.Logf("score, same model, %d sims × %d cases (%d resamples): two-sided alarm %.2f%%, regression alarm %.2f%%",
		res.sims, simCases, resamples, 100*two, 100*res.rate(res.scoreRegress))
	if lo, hi := band(0.05, res.sims); two < lo || two > hi {
		t.Errorf("score two-sided false alarm rate %.4f outside [%.4f, %.4f]", two, lo, hi)
	}
}

// TestSimulationFalseAlarm: two runs of the same model. A two-sided 95%
// interval should exclude 0 (an alarm in either direction) about 5% of the
// time. Sized to stay within a few seconds (smaller under -race or -short,
// where the score part is skipped); the full-size version is
// BenchmarkSimulation.
func TestSimulationFalseAlarm(t *testing.T) {
	sims := 1000
	if testing.Short() || raceEnabled {
		sims = 500
	}
	checkFalseAlarm(t, simulate(t, 1, sims, 0, false, 0))
	if testing.Short() || raceEnabled {
		t.Log("score simulation skipped under -short and -race; run it without them or see BenchmarkSimulation")
		return
	}
	// The score thresholds bootstrap twice per simulation: fewer runs and
	// resamples here, so the band is wide (it still catches an unpaired or
	// broken interval, which would alarm far too rarely or too often).
	checkScoreFalseAlarm(t, simulate(t, 2, 200, 0, true, 500), 500)
}

// TestSimulationPower: the candidate's true pass rate is 10 points lower.
// With 200 cases, about 61 discordant pairs are expected with a surplus of
// 20 against the candidate, z ≈ 20/√61 ≈ 2.6, so the 95% interval should
// exclude 0 (ci_high < 0) in roughly 70% of runs; assert the drop is detected
// most of the time and an improvement is never claimed.
func TestSimulationPower(t *testing.T) {
	sims := 400
	if testing.Short() || raceEnabled {
		sims = 200
	}
	res := simulate(t, 3, sims, 0.10, false, 0)
	power := res.rate(res.regress)
	t.Logf("pass_rate, 10-point drop, %d sims × %d cases: regression detected %.1f%%, exact McNemar %.1f%%, wrong-way alarm %.2f%%",
		sims, simCases, 100*power, 100*res.rate(res.mcnemar), 100*res.rate(res.improve))
	if power < 0.6 {
		t.Errorf("power %.3f for a 10-point drop, want ≥ 0.6", power)
	}
	if res.improve > 0 {
		t.Errorf("an improvement was claimed %d times for a 10-point drop", res.improve)
	}
}

// BenchmarkSimulation is the full-size simulation: 4000 same-model pairs of
// runs for pass_rate, 1000 for score with the default 2000 resamples, and
// 2000 runs with a 10-point drop. It fails like the tests do and reports the
// observed rates as metrics:
//
//	go test -run XXX -bench Simulation -benchtime 1x ./analysis/gate
func BenchmarkSimulation(b *testing.B) {
	for b.Loop() {
		pr := simulate(b, 11, 4000, 0, false, 0)
		sc := simulate(b, 12, 1000, 0, true, 0)
		pw := simulate(b, 13, 2000, 0.10, false, 0)
		b.ReportMetric(100*pr.rate(pr.regress+pr.improve), "%pass-rate-alarm")
		b.ReportMetric(100*pr.rate(pr.regress), "%pass-rate-regress-alarm")
		b.ReportMetric(100*pr.rate(pr.mcnemar), "%mcnemar-alarm")
		b.ReportMetric(100*sc.rate(sc.scoreRegress+sc.scoreI), "%score-alarm")
		b.ReportMetric(100*pw.rate(pw.regress), "%power-10pt")
		for _, c := range []struct {
			name string
			got  float64
			p0   float64
			n    int
		}{
			{"pass_rate two-sided", pr.rate(pr.regress + pr.improve), 0.05, pr.sims},
			{"pass_rate regression", pr.rate(pr.regress), 0.025, pr.sims},
			{"score two-sided", sc.rate(sc.scoreRegress + sc.scoreI), 0.05, sc.sims},
		} {
			if lo, hi := band(c.p0, c.n); c.got < lo || c.got > hi {
				b.Errorf("%s false alarm rate %.4f outside [%.4f, %.4f]", c.name, c.got, lo, hi)
			}
		}
		if _, hi := band(0.05, pr.sims); pr.rate(pr.mcnemar) > hi {
			b.Errorf("exact McNemar false alarm rate %.4f above %.4f", pr.rate(pr.mcnemar), hi)
		}
	}
}
