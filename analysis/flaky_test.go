package analysis

import (
	"math"
	"slices"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

type run struct {
	id      string
	pass    bool
	score   float64
	errored bool
}

func results(target string, runs []run) []*bench.Result {
	rep := map[string]int{}
	var out []*bench.Result
	for _, r := range runs {
		res := &bench.Result{Suite: "s", Target: target, CaseID: r.id, Repeat: rep[r.id], Pass: r.pass, Score: r.score}
		rep[r.id]++
		if r.errored {
			res.Pass, res.Score = false, 0
			res.Error = &bench.ErrorInfo{Kind: providers.KindTimeout}
		}
		out = append(out, res)
	}
	return out
}

// The hand-computed example:
//
//	a: 3 runs, 2 pass        pass^1 2/3, pass^2 1/3, pass^3 0   flaky
//	b: 3 runs, 3 pass        1, 1, 1
//	c: 2 runs, 1 pass 1 err  1/2, 0                             not flaky: an error is no flip
//	d: 3 runs, 0 pass        0, 0, 0
//	e: 2 runs, 1 pass 1 fail 1/2, 0                             flaky, scores 0.2..0.9
//
// pass^1 = (2/3+1+1/2+0+1/2)/5 = 8/15; pass^2 = (1/3+1)/5 = 4/15;
// pass^3 over a, b, d = 1/3.
var example = []run{
	{"a", true, 1, false}, {"a", false, 0.4, false}, {"a", true, 0.8, false},
	{"b", true, 1, false}, {"b", true, 1, false}, {"b", true, 1, false},
	{"c", true, 0.7, false}, {"c", false, 0, true},
	{"d", false, 0, false}, {"d", false, 0.1, false}, {"d", false, 0, false},
	{"e", false, 0.2, false}, {"e", true, 0.9, false},
}

// TestFlakyAndPassHatK: the flaky cases and pass^k come from the
// Summarizer's per-case tallies.
func TestFlakyAndPassHatK(t *testing.T) {
	tests := []struct {
		name  string
		in    []*bench.Result
		flaky []FlakyCase
		hat   map[string]map[int]float64 // by target
	}{
		{
			name: "hand-computed",
			in:   results("t", example),
			flaky: []FlakyCase{
				{Suite: "s", Target: "t", CaseID: "a", Runs: 3, Passed: 2, Failed: 1, ScoreMin: 0.4, ScoreMax: 1},
				{Suite: "s", Target: "t", CaseID: "e", Runs: 2, Passed: 1, Failed: 1, ScoreMin: 0.2, ScoreMax: 0.9},
			},
			hat: map[string]map[int]float64{"t": {1: 8.0 / 15, 2: 4.0 / 15, 3: 1.0 / 3}},
		},
		{
			name: "one run each: nothing flaky, pass^1 is the pass rate",
			in:   results("u", []run{{"x", true, 1, false}, {"y", false, 0, false}, {"z", false, 0, true}}),
			hat:  map[string]map[int]float64{"u": {1: 1.0 / 3}},
		},
		{
			name:  "two targets sorted",
			in:    append(results("z", []run{{"a", true, 1, false}}), results("a", []run{{"a", false, 0, false}, {"a", true, 1, false}})...),
			flaky: []FlakyCase{{Suite: "s", Target: "a", CaseID: "a", Runs: 2, Passed: 1, Failed: 1, ScoreMin: 0, ScoreMax: 1}},
			hat:   map[string]map[int]float64{"a": {1: 0.5, 2: 0}, "z": {1: 1}},
		},
		{
			name: "an error and a duplicate key count once, as everywhere",
			in: append(results("d", []run{{"a", true, 1, false}, {"a", false, 0.5, false}, {"a", false, 0, true}}),
				results("d", []run{{"a", true, 1, false}})...),
			flaky: []FlakyCase{{Suite: "s", Target: "d", CaseID: "a", Runs: 3, Passed: 1, Failed: 1, Errors: 1, ScoreMin: 0.5, ScoreMax: 1}},
			hat:   map[string]map[int]float64{"d": {1: 1.0 / 3, 2: 0, 3: 0}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sum := NewSummarizer(Options{})
			for _, r := range tc.in {
				sum.Add(r)
			}
			if got := sum.Flaky(); !slices.Equal(got, tc.flaky) {
				t.Errorf("Flaky\n got %+v\nwant %+v", got, tc.flaky)
			}
			sums := sum.Close()
			if len(sums) != len(tc.hat) {
				t.Fatalf("%d summaries", len(sums))
			}
			for _, s := range sums {
				want := tc.hat[s.Target]
				if len(s.PassHatK) != len(want) {
					t.Errorf("%s: pass^k %v, want %v", s.Target, s.PassHatK, want)
				}
				for k, v := range want {
					if math.Abs(s.PassHatK[k]-v) > 1e-12 {
						t.Errorf("%s: pass^%d = %v, want %v", s.Target, k, s.PassHatK[k], v)
					}
				}
			}
		})
	}
}

// TestFlakyAgreesWithSummary: the flaky list and Summary.FlakyCases name
// the same cases, pass^1 = pass@1, and pass^n = PassAllK when every case
// ran n times.
func TestFlakyAgreesWithSummary(t *testing.T) {
	var in []run
	for i, id := range []string{"a", "b", "c", "d", "e", "f"} {
		for rep := range 4 {
			pass := (i+rep)%(i+1) == 0
			in = append(in, run{id, pass, float64(rep) / 4, i == 5 && rep == 3})
		}
	}
	sum := NewSummarizer(Options{})
	for _, r := range results("t", in) {
		sum.Add(r)
	}
	s := sum.Close()[0]
	var ids []string
	for _, c := range sum.Flaky() {
		ids = append(ids, c.CaseID)
	}
	if !slices.Equal(ids, s.FlakyCases) {
		t.Errorf("flaky %v, Summary %v", ids, s.FlakyCases)
	}
	if math.Abs(s.PassHatK[1]-s.PassAtK[1]) > 1e-12 || math.Abs(s.PassHatK[4]-s.PassAllK) > 1e-12 {
		t.Errorf("pass^1 %v vs pass@1 %v; pass^4 %v vs PassAllK %v", s.PassHatK[1], s.PassAtK[1], s.PassHatK[4], s.PassAllK)
	}
	if len(ids) == 0 || s.PassHatK[4] == 0 {
		t.Fatal("example too degenerate to check anything")
	}
}
