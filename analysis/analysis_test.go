package analysis

import (
	"fmt"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
)

// TestIntervalAgreesWithTest: over every 2×2 table of up to 12 cases and
// pass/fail tables with repeats, a comparison row is Significant exactly when
// its displayed interval excludes 0 and exactly when its Holm p is below
// 0.05 (a p of 0.25 used to sit beside -100pp [-100, -20.6]).
func TestIntervalAgreesWithTest(t *testing.T) {
	check := func(t *testing.T, r compare.Row) {
		t.Helper()
		excl := r.Delta.Low > 0 || r.Delta.High < 0
		if excl != r.Significant || (r.PAdjusted < 0.05) != r.Significant {
			t.Errorf("%s %s: delta %+v p %.4g p_adj %.4g significant %v", r.Metric, r.Method, r.Delta, r.P, r.PAdjusted, r.Significant)
		}
	}
	for n := 1; n <= 12; n++ {
		for a := 0; a <= n; a++ {
			for b := 0; a+b <= n; b++ {
				c := compare.New(compare.Options{})
				for i := range n {
					id := fmt.Sprintf("c%02d", i)
					c.Add("A", &bench.Result{Suite: "s", CaseID: id, Target: "t", Pass: i >= a, Score: 1})
					c.Add("B", &bench.Result{Suite: "s", CaseID: id, Target: "t", Pass: i < a || i >= a+b, Score: 1})
				}
				cmp, err := c.CompareRuns("A", "B")
				if err != nil {
					t.Fatal(err)
				}
				check(t, cmp.Rows[0])
			}
		}
	}
	// Repeats: the paired t-test and its interval.
	for shift := range 6 {
		c := compare.New(compare.Options{})
		for i := range 20 {
			for rep := range 3 {
				id := fmt.Sprintf("c%02d", i)
				c.Add("A", &bench.Result{Suite: "s", CaseID: id, Target: "t", Repeat: rep, Pass: (i+rep)%3 != 0, Score: float64(i%5) / 4})
				c.Add("B", &bench.Result{Suite: "s", CaseID: id, Target: "t", Repeat: rep, Pass: (i+rep+shift)%4 != 0, Score: float64((i+shift)%5) / 4})
			}
		}
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range cmp.Rows {
			check(t, r)
		}
	}
}

// TestRepeatsCountCases: three identical repeats of 8 cases used to narrow
// the pass-rate interval to n = 24; it stays the interval of 8 cases, in the
// summary, the comparison's arm intervals and the gate.
func TestRepeatsCountCases(t *testing.T) {
	b := New(Options{})
	for i := range 8 {
		for rep := range 3 {
			r := &bench.Result{Suite: "s", CaseID: fmt.Sprintf("c%d", i), Target: "t", Repeat: rep, Pass: i < 6, Score: float64(i) / 8}
			b.Add(r)
			o := *r
			o.Target = "u"
			b.Add(&o)
		}
	}
	an, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := stats.Wilson(6, 8, 0.95)
	s := an.Summaries[0]
	if s.N != 24 || s.Cases != 8 || s.PassRate != want {
		t.Errorf("summary: n %d cases %d pass rate %+v, want %+v", s.N, s.Cases, s.PassRate, want)
	}
	for _, r := range an.Comparisons {
		if r.Metric == compare.MetricPassRate && (r.N != 8 || r.IntervalA != want) {
			t.Errorf("comparison row: n %d arm interval %+v", r.N, r.IntervalA)
		}
		// The same target's score interval is the same in both tables.
		if r.Metric == compare.MetricScore && (r.IntervalA != s.Score) {
			t.Errorf("score interval: comparison %+v, summary %+v", r.IntervalA, s.Score)
		}
	}
}

// TestBuilderFilteredDeltaAndDuplicates: a delta threshold filtered on a tag
// is judged on the comparison of the results it selects; a results file
// that holds a key twice gets the same n in the summary and the comparison.
func TestBuilderFilteredDeltaAndDuplicates(t *testing.T) {
	all, _ := gate.Parse("delta(pass_rate) value >= 0")
	test, _ := gate.Parse("delta(pass_rate{split:test}) value >= 0")
	b := New(Options{Thresholds: []gate.Threshold{all, test}})
	for i := range 20 {
		split := "train"
		if i < 10 {
			split = "test"
		}
		id := fmt.Sprintf("c%02d", i)
		b.AddBaseline(&bench.Result{Suite: "s", CaseID: id, Target: "t", Pass: true})
		// The candidate fails only train cases.
		r := &bench.Result{Suite: "s", CaseID: id, Target: "t", Pass: split == "test", Tags: map[string]string{"split": split}}
		b.Add(r)
		b.Add(r) // a duplicate line
	}
	an, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(an.Outcomes) != 2 || an.Outcomes[0].Pass || !an.Outcomes[1].Pass || an.Outcomes[1].N != 10 {
		t.Errorf("outcomes %+v", an.Outcomes)
	}
	if an.Summaries[0].N != 20 || an.Comparisons[0].N != 20 {
		t.Errorf("summary n %d, comparison n %d", an.Summaries[0].N, an.Comparisons[0].N)
	}
}

// TestRetriesAreNotLatency: retry backoff used to be counted as the model's
// latency and retries were shown nowhere. The final attempt's latency is the
// latency; the total is kept apart; retries are counted per target.
func TestRetriesAreNotLatency(t *testing.T) {
	b := New(Options{})
	for i := range 4 {
		r := &bench.Result{Suite: "s", CaseID: fmt.Sprintf("c%d", i), Target: "t", Pass: true, Latency: 100 * time.Millisecond, Attempts: 1}
		if i == 0 {
			r.Latency, r.FinalLatency, r.Attempts = 5*time.Second, 100*time.Millisecond, 3
		}
		b.Add(r)
	}
	an, _ := b.Close()
	s := an.Summaries[0]
	if s.Latency.Max != 100*time.Millisecond || s.LatencyTotal.Max != 5*time.Second || s.Retries != 2 {
		t.Errorf("latency %+v total %+v retries %d", s.Latency, s.LatencyTotal, s.Retries)
	}
}
