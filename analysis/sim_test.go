package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
)

// scenario is how a candidate relates to its baseline in the simulation.
type scenario struct {
	name      string
	identical bool    // the very same outputs (temperature 0, same model)
	drop      float64 // true drop of the mean pass probability; 0 with !identical: two samplings of one model
}

var scenarios = []scenario{
	{"identical outputs", true, 0},
	{"same model resampled (temperature > 0)", false, 0},
	{"true drop of 5 points", false, 0.05},
	{"true drop of 10 points", false, 0.10},
}

// gateFailRate runs sims simulated baseline/candidate pairs of n cases
// through the real Builder and returns the share in which
// `delta(pass_rate) >= -0.02` failed. Each case has its own pass probability
// p_i ~ Beta(2, 1) (mean 2/3, some cases hard, most easy); the candidate's is
// p_i·(1 − drop/mean p), a drop of exactly drop on average.
func gateFailRate(tb testing.TB, sc scenario, n, sims int, seed uint64) float64 {
	th, err := gate.Parse("delta(pass_rate) >= -0.02")
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	fails := 0
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%05d", i)
	}
	for range sims {
		b := New(Options{Options: stats.Options{Resamples: 20}, Thresholds: []gate.Threshold{th}, FailedCases: -1})
		for _, id := range ids {
			p := 1 - rng.Float64()*rng.Float64() // max of two uniforms' complement: Beta(2, 1)
			base := rng.Float64() < p
			cand := base
			if !sc.identical {
				q := p * (1 - sc.drop/(2.0/3))
				cand = rng.Float64() < q
			}
			b.AddBaseline(&bench.Result{Suite: "s", CaseID: id, Target: "m", Pass: base, Score: b2f(base)})
			b.Add(&bench.Result{Suite: "s", CaseID: id, Target: "m", Pass: cand, Score: b2f(cand)})
		}
		an, err := b.Close()
		if err != nil {
			tb.Fatal(err)
		}
		if gate.Failed(an.Outcomes) {
			fails++
		}
	}
	return float64(fails) / float64(sims)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestGateFalseAlarmRate is the lean version of BenchmarkGateSimulation run
// by `go test`: the default gate must not fail when nothing changed, must
// stay at or below 5% false alarms for a resampled model, and must catch a
// 10-point drop at n = 500.
func TestGateFalseAlarmRate(t *testing.T) {
	sims := 200
	if testing.Short() {
		sims = 60
	}
	if fa := gateFailRate(t, scenarios[0], 120, 20, 1); fa != 0 {
		t.Errorf("identical outputs: the gate failed in %.0f%% of runs", 100*fa)
	}
	// 5% + 2.3 binomial SEs at 200 sims.
	if fa := gateFailRate(t, scenarios[1], 120, sims, 2); fa > 0.05+2.3*0.0154 {
		t.Errorf("resampled model at n=120: false-alarm rate %.3f", fa)
	}
	if pw := gateFailRate(t, scenarios[3], 500, sims/2, 3); pw < 0.8 {
		t.Errorf("10-point drop at n=500: power %.2f", pw)
	}
}

// BenchmarkGateSimulation measures the default delta gate's false-alarm rate
// and power at n = 120, 500 and 2000 paired cases:
//
//	go test -run '^$' -bench GateSimulation -benchtime 1x ./analysis/
func BenchmarkGateSimulation(b *testing.B) {
	const sims = 1000
	for b.Loop() {
		for _, n := range []int{120, 500, 2000} {
			for k, sc := range scenarios {
				s := sims
				if sc.identical {
					s = 100
				}
				rate := gateFailRate(b, sc, n, s, uint64(10*n+k))
				what := "false-alarm rate"
				if sc.drop > 0 {
					what = "power"
				}
				fmt.Printf("n=%-5d %-40s %s %.3f (%d runs)\n", n, sc.name, what, rate, s)
			}
		}
	}
}
