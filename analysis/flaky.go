// Flaky cases: the cases whose outcome flips across repeats, with their pass
// counts and score spread. They come from the Summarizer's per-case tallies,
// the same ones behind Summary.FlakyCases, PassAtK, PassHatK and PassAllK: a
// case is flaky when, among its results without an error, some passed and
// some failed (an infrastructure error is not a flip of the model's outcome).

package analysis

import (
	"cmp"
	"slices"
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

func (ct *caseTally) flaky() bool { return ct.scoredPass > 0 && ct.scoredFail > 0 }

// Flaky returns the flaky cases of every suite × target, sorted by suite,
// target, then case ID.
func (s *Summarizer) Flaky() []FlakyCase {
	var out []FlakyCase
	for k, a := range s.groups {
		for id, ct := range a.cases {
			if ct.flaky() {
				out = append(out, FlakyCase{Suite: k.suite, Target: k.target, CaseID: id, Runs: ct.results,
					Passed: ct.passed, Failed: ct.scoredFail, Errors: ct.errors, ScoreMin: ct.scoreMin, ScoreMax: ct.scoreMax})
			}
		}
	}
	slices.SortFunc(out, func(x, y FlakyCase) int {
		return cmp.Or(cmp.Compare(x.Suite, y.Suite), cmp.Compare(x.Target, y.Target), cmp.Compare(x.CaseID, y.CaseID))
	})
	return out
}
