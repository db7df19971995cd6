// Flaky cases: the cases whose outcome flips across repeats, with their pass
// counts and score spread, and the unbiased pass^k of each suite × target.
//
// This complements the Summarizer, which gives per suite × target the
// unbiased pass@k (Summary.PassAtK), the share of cases passing every repeat
// (Summary.PassAllK) and the IDs of flaky cases (Summary.FlakyCases). The
// definitions match: a case is flaky when, among its results without an
// error, some passed and some failed (an infrastructure error is not a flip of
// the model's outcome); pass^k counts every result, an errored one as a
// failure, as PassAtK does.

package analysis

import (
	"cmp"
	"math"
	"slices"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
)

// FlakyCase is one flaky case of one target.
type FlakyCase struct {
	Suite    string  `json:"suite"`
	Target   string  `json:"target"`
	CaseID   string  `json:"case_id"`
	Runs     int     `json:"runs"`   // results, errors included
	Passed   int     `json:"passed"` // results that passed
	Failed   int     `json:"failed"` // results without an error that failed
	Errors   int     `json:"errors"` // results with an error
	ScoreMin float64 `json:"score_min"`
	ScoreMax float64 `json:"score_max"` // over results without an error
}

// FlakyGroup is one suite × target's repeat statistics.
type FlakyGroup struct {
	Suite  string `json:"suite"`
	Target string `json:"target"`
	Cases  int    `json:"cases"`
	Flaky  int    `json:"flaky"` // flaky cases
	// MaxRuns is the largest number of results of one case.
	MaxRuns int `json:"max_runs"`
	// PassHatK[k], k = 1..MaxRuns, is the mean over cases with at least k
	// results of the unbiased pass^k estimator (stats.PassHatK) with n = the
	// case's results and c = its passes. PassHatK[1] is the mean per-case pass
	// rate; with every case run n times, PassHatK[n] equals Summary.PassAllK.
	PassHatK map[int]float64 `json:"pass_hat_k"`
}

// FlakyTracker accumulates per-case tallies. It keeps no Result: a few numbers
// per suite × target × case. It is not safe for concurrent use.
type FlakyTracker struct {
	cases map[flakyKey]*flakyTally
}

type flakyKey struct{ suite, target, id string }

type flakyTally struct {
	runs, passed, failed, errors int
	min, max                     float64
}

// NewFlakyTracker returns an empty FlakyTracker.
func NewFlakyTracker() *FlakyTracker { return &FlakyTracker{cases: make(map[flakyKey]*flakyTally)} }

// Add counts one result; r is not retained. Every result counts as a run
// (a duplicate key counts twice, as in the Summarizer).
func (t *FlakyTracker) Add(r *bench.Result) {
	k := flakyKey{r.Suite, r.Target, r.CaseID}
	c := t.cases[k]
	if c == nil {
		c = &flakyTally{min: math.Inf(1), max: math.Inf(-1)}
		t.cases[k] = c
	}
	c.runs++
	switch {
	case r.Error != nil:
		c.errors++
		return
	case r.Pass:
		c.passed++
	default:
		c.failed++
	}
	c.min, c.max = math.Min(c.min, r.Score), math.Max(c.max, r.Score)
}

// Flaky returns the flaky cases sorted by suite, target, then case ID.
func (t *FlakyTracker) Flaky() []FlakyCase {
	var out []FlakyCase
	for k, c := range t.cases {
		if c.passed > 0 && c.failed > 0 {
			out = append(out, FlakyCase{Suite: k.suite, Target: k.target, CaseID: k.id, Runs: c.runs,
				Passed: c.passed, Failed: c.failed, Errors: c.errors, ScoreMin: c.min, ScoreMax: c.max})
		}
	}
	slices.SortFunc(out, func(x, y FlakyCase) int {
		return cmp.Or(cmp.Compare(x.Suite, y.Suite), cmp.Compare(x.Target, y.Target), cmp.Compare(x.CaseID, y.CaseID))
	})
	return out
}

// Groups returns one Group per suite × target seen, sorted by suite then
// target.
func (t *FlakyTracker) Groups() []FlakyGroup {
	type gk struct{ suite, target string }
	byGroup := make(map[gk][]*flakyTally)
	flaky := make(map[gk]int)
	for k, c := range t.cases {
		g := gk{k.suite, k.target}
		byGroup[g] = append(byGroup[g], c)
		if c.passed > 0 && c.failed > 0 {
			flaky[g]++
		}
	}
	out := make([]FlakyGroup, 0, len(byGroup))
	for g, cs := range byGroup {
		grp := FlakyGroup{Suite: g.suite, Target: g.target, Cases: len(cs), Flaky: flaky[g]}
		for _, c := range cs {
			grp.MaxRuns = max(grp.MaxRuns, c.runs)
		}
		// Sum in a fixed order so the means do not depend on map order.
		slices.SortFunc(cs, func(x, y *flakyTally) int {
			return cmp.Or(cmp.Compare(x.runs, y.runs), cmp.Compare(x.passed, y.passed))
		})
		grp.PassHatK = make(map[int]float64, grp.MaxRuns)
		for k := 1; k <= grp.MaxRuns; k++ {
			var sum float64
			var n int
			for _, c := range cs {
				if c.runs >= k {
					sum += stats.PassHatK(c.runs, c.passed, k)
					n++
				}
			}
			grp.PassHatK[k] = sum / float64(n) // n ≥ 1: the case with MaxRuns counts
		}
		out = append(out, grp)
	}
	slices.SortFunc(out, func(x, y FlakyGroup) int {
		return cmp.Or(cmp.Compare(x.Suite, y.Suite), cmp.Compare(x.Target, y.Target))
	})
	return out
}
