package compare

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// res builds a minimal result.
func res(suite, id, target string, repeat int, pass bool, score float64) *bench.Result {
	return &bench.Result{Suite: suite, SuiteVersion: "1", CaseID: id, Target: target, Repeat: repeat,
		PromptHash: "ab" + strings.Repeat("0", 60) + "00", Pass: pass, Score: score}
}

// table adds a 2×2 table of single-repeat outcomes to run A and run B,
// target "t", suite s, with case IDs s-0000, s-0001, ….
func table(c *Comparer, s string, both, aOnly, bOnly, neither int, score func(pass bool) float64) {
	i := 0
	add := func(n int, pa, pb bool) {
		for range n {
			id := s + "-" + pad4(i)
			i++
			c.Add("A", res(s, id, "t", 0, pa, score(pa)))
			c.Add("B", res(s, id, "t", 0, pb, score(pb)))
		}
	}
	add(both, true, true)
	add(aOnly, true, false)
	add(bOnly, false, true)
	add(neither, false, false)
}

func pad4(i int) string {
	s := "000" + itoa(i)
	return s[len(s)-4:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func passScore(pass bool) float64 {
	if pass {
		return 1
	}
	return 0
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func rowOf(t *testing.T, cmp *Comparison, suite, metric string) Row {
	t.Helper()
	for _, r := range cmp.Rows {
		if r.Suite == suite && r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s/%s in %+v", suite, metric, cmp.Rows)
	return Row{}
}

type fixture struct {
	McNemar []struct {
		Name      string  `json:"name"`
		Both      int     `json:"both"`
		AOnly     int     `json:"a_only"`
		BOnly     int     `json:"b_only"`
		Neither   int     `json:"neither"`
		McNemarP  float64 `json:"mcnemar_p"`
		UnpairedP float64 `json:"unpaired_p"`
	} `json:"mcnemar"`
	Records []struct {
		CaseID string  `json:"case_id"`
		Arm    string  `json:"arm"`
		Repeat int     `json:"repeat"`
		Score  float64 `json:"score"`
		Pass   bool    `json:"pass"`
	} `json:"records"`
	Paired struct {
		Level    float64     `json:"level"`
		PassRate pairedFixed `json:"pass_rate"`
		Score    pairedFixed `json:"score"`
	} `json:"paired"`
}

type pairedFixed struct {
	N          int     `json:"n"`
	ValueA     float64 `json:"value_a"`
	ValueB     float64 `json:"value_b"`
	Delta      float64 `json:"delta"`
	Low        float64 `json:"low"`
	High       float64 `json:"high"`
	PBootstrap float64 `json:"p_bootstrap"`
	PWilcoxon  float64 `json:"p_wilcoxon"`
	SE         float64 `json:"se"`
	AHigher    int     `json:"a_higher"`
	BHigher    int     `json:"b_higher"`
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	data, err := os.ReadFile("testdata/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	f := new(fixture)
	if err := json.Unmarshal(data, f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestMcNemarKnownValues checks the pass-rate row against scipy's exact
// binomial test on published tables: the lm-eval PR#3868 contrast (unpaired
// p 0.080, McNemar 0.008 on n = 220) and Agresti's Table 10.1.
func TestMcNemarKnownValues(t *testing.T) {
	for _, tc := range loadFixture(t).McNemar {
		t.Run(tc.Name, func(t *testing.T) {
			c := New(DefaultOptions())
			table(c, "s", tc.Both, tc.AOnly, tc.BOnly, tc.Neither, passScore)
			cmp, err := c.CompareRuns("A", "B")
			if err != nil {
				t.Fatal(err)
			}
			r := rowOf(t, cmp, "s", MetricPassRate)
			n := tc.Both + tc.AOnly + tc.BOnly + tc.Neither
			if r.Method != MethodMcNemar || r.N != n || r.AOnly != tc.AOnly || r.BOnly != tc.BOnly {
				t.Fatalf("row = %+v", r)
			}
			if !near(r.P, tc.McNemarP, 1e-9*tc.McNemarP) {
				t.Errorf("P = %.12g, scipy %.12g", r.P, tc.McNemarP)
			}
			if want := float64(tc.BOnly-tc.AOnly) / float64(n); !near(r.Delta.Value, want, 1e-12) {
				t.Errorf("Delta = %v, want %v", r.Delta.Value, want)
			}
			if want := float64(tc.Both+tc.AOnly) / float64(n); !near(r.ValueA, want, 1e-12) {
				t.Errorf("ValueA = %v, want %v", r.ValueA, want)
			}
			iv := stats.NewcombePaired(stats.PairedCounts{Both: tc.Both, AOnly: tc.AOnly, BOnly: tc.BOnly, Neither: tc.Neither}, 0.95)
			if r.Delta.Low != iv.Low || r.Delta.High != iv.High {
				t.Errorf("interval [%v, %v], Newcombe [%v, %v]", r.Delta.Low, r.Delta.High, iv.Low, iv.High)
			}
			// Paired McNemar finds what the unpaired test misses.
			if !(r.P < 0.05 && r.Delta.High < 0) {
				t.Errorf("paired test should detect the drop: p %v, interval %+v (unpaired p %v)", r.P, r.Delta, tc.UnpairedP)
			}
		})
	}
	t.Run("lm-eval contrast", func(t *testing.T) {
		tc := loadFixture(t).McNemar[0]
		if math.Round(tc.UnpairedP*1000) != 80 || math.Round(tc.McNemarP*1000) != 8 {
			t.Errorf("fixture no longer reproduces PR#3868: unpaired %v, McNemar %v", tc.UnpairedP, tc.McNemarP)
		}
	})
}

// TestArmIntervals checks each arm's own interval: Wilson for single
// pass/fail results (reference values from the closed form evaluated
// independently in Python), the bootstrap of the per-case means otherwise.
func TestArmIntervals(t *testing.T) {
	t.Run("wilson", func(t *testing.T) {
		c := New(DefaultOptions())
		table(c, "s", 110, 30, 12, 68, passScore)
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			t.Fatal(err)
		}
		r := rowOf(t, cmp, "s", MetricPassRate)
		for _, v := range []struct {
			name string
			got  stats.Interval
			want stats.Interval // 140/220 and 122/220 at 95%
		}{
			{"A", r.IntervalA, stats.Interval{Value: 0.6363636363636364, Low: 0.5709620585999775, High: 0.6970848006195309}},
			{"B", r.IntervalB, stats.Interval{Value: 0.5545454545454546, Low: 0.48849258258675454, High: 0.6187261611010488}},
		} {
			if !near(v.got.Value, v.want.Value, 1e-12) || !near(v.got.Low, v.want.Low, 1e-9) || !near(v.got.High, v.want.High, 1e-9) {
				t.Errorf("Interval%s = %+v, Wilson %+v", v.name, v.got, v.want)
			}
		}
		if r.IntervalA.Value != r.ValueA || r.IntervalB.Value != r.ValueB {
			t.Errorf("interval centres %v, %v; values %v, %v", r.IntervalA.Value, r.IntervalB.Value, r.ValueA, r.ValueB)
		}
	})
	t.Run("level", func(t *testing.T) {
		c := New(Options{Level: 0.8})
		table(c, "s", 110, 30, 12, 68, passScore)
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			t.Fatal(err)
		}
		// 140/220 at 80% (z = 1.2815515655446004).
		if r := rowOf(t, cmp, "s", MetricPassRate); !near(r.IntervalA.Low, 0.593931730751663, 1e-9) || !near(r.IntervalA.High, 0.6767746274450612, 1e-9) {
			t.Errorf("IntervalA at 80%% = %+v", r.IntervalA)
		}
	})
	t.Run("bootstrap of case means", func(t *testing.T) {
		f := loadFixture(t)
		c := New(DefaultOptions())
		type acc struct{ n, pass, score float64 }
		cases := map[string]map[string]*acc{"A": {}, "B": {}}
		for _, r := range f.Records {
			c.Add(r.Arm, &bench.Result{Suite: "s", CaseID: r.CaseID, Target: "m", Repeat: r.Repeat, Pass: r.Pass, Score: r.Score})
			a := cases[r.Arm][r.CaseID]
			if a == nil {
				a = &acc{}
				cases[r.Arm][r.CaseID] = a
			}
			a.n++
			a.score += r.Score
			if r.Pass {
				a.pass++
			}
		}
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			t.Fatal(err)
		}
		for _, metric := range []string{MetricPassRate, MetricScore} {
			r := rowOf(t, cmp, "s", metric)
			for _, arm := range []struct {
				name  string
				iv    stats.Interval
				value float64
			}{{"A", r.IntervalA, r.ValueA}, {"B", r.IntervalB, r.ValueB}} {
				// Normal-theory width 2·z·sd/√n of the per-case means; the
				// percentile bootstrap's is within a few percent at n ≈ 40.
				var xs []float64
				for id, a := range cases[arm.name] {
					if _, ok := cases["A"][id]; !ok {
						continue
					}
					if _, ok := cases["B"][id]; !ok {
						continue
					}
					if metric == MetricPassRate {
						xs = append(xs, a.pass/a.n)
					} else {
						xs = append(xs, a.score/a.n)
					}
				}
				m := stats.Mean(xs)
				var ss float64
				for _, x := range xs {
					ss += (x - m) * (x - m)
				}
				n := float64(len(xs))
				want := 2 * 1.959963984540054 * math.Sqrt(ss/n) / math.Sqrt(n)
				got := arm.iv.High - arm.iv.Low
				if len(xs) != r.N || arm.iv.Value != arm.value || !near(m, arm.value, 1e-12) ||
					!(arm.iv.Low < arm.value && arm.value < arm.iv.High) || !near(got, want, 0.15*want) {
					t.Errorf("%s %s: interval %+v (width %.4f), value %v; want mean %v of %d cases, width ≈ %.4f",
						metric, arm.name, arm.iv, got, arm.value, m, len(xs), want)
				}
			}
		}
	})
	t.Run("constant arm", func(t *testing.T) {
		c := New(DefaultOptions())
		for i := range 5 {
			for rep := range 2 {
				c.Add("A", res("s", "c"+itoa(i), "t", rep, true, 1))
				c.Add("B", res("s", "c"+itoa(i), "t", rep, i%2 == 0, 0.5))
			}
		}
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			t.Fatal(err)
		}
		one := stats.Interval{Value: 1, Low: 1, High: 1}
		pr, sc := rowOf(t, cmp, "s", MetricPassRate), rowOf(t, cmp, "s", MetricScore)
		if pr.IntervalA != one || sc.IntervalA != one || sc.IntervalB != (stats.Interval{Value: 0.5, Low: 0.5, High: 0.5}) {
			t.Errorf("constant arms: pass %+v, score %+v / %+v", pr.IntervalA, sc.IntervalA, sc.IntervalB)
		}
		if !(pr.IntervalB.Low < 0.6 && 0.6 < pr.IntervalB.High) {
			t.Errorf("pass IntervalB = %+v, want around 0.6", pr.IntervalB)
		}
	})
	t.Run("same arm in two rows", func(t *testing.T) {
		c := New(DefaultOptions())
		for i := range 25 {
			id := "c" + pad4(i)
			c.Add("run", res("s", id, "ref", 0, i%3 != 0, float64(i%5)/4))
			c.Add("run", res("s", id, "x", 0, i%2 == 0, float64(i%4)/3))
			c.Add("run", res("s", id, "y", 0, i%4 != 0, float64(i%6)/5))
		}
		cmp, err := c.CompareTargets("run", "ref")
		if err != nil {
			t.Fatal(err)
		}
		ref := map[string]stats.Interval{}
		for _, r := range cmp.Rows {
			if r.A != "ref" {
				t.Fatalf("row %+v: reference is not A", r)
			}
			if prev, ok := ref[r.Metric]; ok && prev != r.IntervalA {
				t.Errorf("%s: ref's interval differs between rows: %+v vs %+v", r.Metric, prev, r.IntervalA)
			}
			ref[r.Metric] = r.IntervalA
			if r.IntervalA == r.IntervalB {
				t.Errorf("%s %s: arms with different data have the same interval %+v", r.Metric, r.B, r.IntervalA)
			}
		}
	})
}

// TestPairedBootstrapFixture compares the repeat-averaged paired bootstrap
// with numpy's (200,000 resamples) on the same records.
func TestPairedBootstrapFixture(t *testing.T) {
	f := loadFixture(t)
	opts := DefaultOptions()
	opts.Level = f.Paired.Level
	opts.BootstrapIters = 40000
	c := New(opts)
	for _, r := range f.Records {
		c.Add(r.Arm, &bench.Result{Suite: "s", CaseID: r.CaseID, Target: "m", Repeat: r.Repeat, Pass: r.Pass, Score: r.Score})
	}
	cmp, err := c.CompareRuns("A", "B")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		metric string
		want   pairedFixed
	}{{MetricPassRate, f.Paired.PassRate}, {MetricScore, f.Paired.Score}} {
		t.Run(tc.metric, func(t *testing.T) {
			r, w := rowOf(t, cmp, "s", tc.metric), tc.want
			if r.Method != MethodBootstrap || r.N != w.N {
				t.Fatalf("row = %+v", r)
			}
			for _, v := range []struct {
				name      string
				got, want float64
				tol       float64
			}{
				{"value_a", r.ValueA, w.ValueA, 1e-12},
				{"value_b", r.ValueB, w.ValueB, 1e-12},
				{"delta", r.Delta.Value, w.Delta, 1e-12},
				// Monte Carlo error of a 2.5% quantile with 40k resamples
				// is about 0.015 SE; numpy's with 200k about 0.006 SE.
				{"low", r.Delta.Low, w.Low, 0.08 * w.SE},
				{"high", r.Delta.High, w.High, 0.08 * w.SE},
				// p: binomial Monte Carlo error, ≤ 0.0015 at 40k.
				{"p", r.P, math.Max(w.PBootstrap, w.PWilcoxon), 0.006},
			} {
				if !near(v.got, v.want, v.tol) {
					t.Errorf("%s = %.6f, numpy/scipy %.6f (tolerance %.6f)", v.name, v.got, v.want, v.tol)
				}
			}
			if tc.metric == MetricPassRate && (r.AOnly != w.AHigher || r.BOnly != w.BHigher) {
				t.Errorf("AOnly, BOnly = %d, %d; want %d, %d", r.AOnly, r.BOnly, w.AHigher, w.BHigher)
			}
		})
	}
}

// TestHolm checks the adjustment on a hand-computed example: pass-rate p of
// McNemar(0, 10) = 2/1024, McNemar(0, 6) = 2/64, McNemar(1, 1) = 1, and score
// rows with no difference (p = 1). m = 6 rows:
//
//	0.001953125 × 6 = 0.01171875 → significant
//	0.03125     × 5 = 0.15625    → not significant, though p < 0.05
//	1 …                          → 1
func TestHolm(t *testing.T) {
	c := New(DefaultOptions())
	half := func(bool) float64 { return 0.5 }
	table(c, "s1", 5, 0, 6, 5, half)
	table(c, "s2", 5, 0, 10, 5, half)
	table(c, "s3", 5, 1, 1, 5, half)
	cmp, err := c.CompareRuns("A", "B")
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Rows) != 6 {
		t.Fatalf("%d rows", len(cmp.Rows))
	}
	want := []struct {
		suite, metric string
		p, adj        float64
		sig           bool
	}{
		{"s1", MetricPassRate, 0.03125, 0.15625, false},
		{"s1", MetricScore, 1, 1, false},
		{"s2", MetricPassRate, 0.001953125, 0.01171875, true},
		{"s2", MetricScore, 1, 1, false},
		{"s3", MetricPassRate, 1, 1, false},
		{"s3", MetricScore, 1, 1, false},
	}
	for i, w := range want {
		r := cmp.Rows[i]
		if r.Suite != w.suite || r.Metric != w.metric || !near(r.P, w.p, 1e-15) || !near(r.PAdjusted, w.adj, 1e-15) || r.Significant != w.sig {
			t.Errorf("row %d = %s/%s p %v adj %v sig %v; want %+v", i, r.Suite, r.Metric, r.P, r.PAdjusted, r.Significant, w)
		}
	}
}

func TestRefusal(t *testing.T) {
	base := func() *Comparer {
		c := New(DefaultOptions())
		for i := range 20 {
			id := "c" + pad4(i)
			c.Add("A", res("qa", id, "t", 0, i%2 == 0, 0.5))
			c.Add("B", res("qa", id, "t", 0, i%3 == 0, 0.5))
		}
		return c
	}
	tests := []struct {
		name    string
		modify  func(c *Comparer)
		kinds   []IssueKind
		message string
		forcedN int // paired cases in the forced comparison
	}{
		{
			name: "cases only in A",
			modify: func(c *Comparer) {
				for _, id := range []string{"x9", "x1", "x5", "x3"} {
					c.Add("A", res("qa", id, "t", 0, true, 1))
				}
			},
			kinds:   []IssueKind{OnlyInA},
			message: "A vs B not comparable: qa: 4 cases only in A (first: x1, x3, x5, …)",
			forcedN: 20,
		},
		{
			name: "cases only in B and a changed prompt",
			modify: func(c *Comparer) {
				c.Add("B", res("qa", "new", "t", 0, true, 1))
				r := res("qa", "z1", "t", 0, true, 1)
				c.Add("A", r)
				r = res("qa", "z1", "t", 0, true, 1)
				r.PromptHash = "ffff"
				c.Add("B", r)
			},
			kinds:   []IssueKind{OnlyInB, PromptsDiffer},
			message: "A vs B not comparable: qa: 1 case only in B (first: new); qa: 1 prompt differs (first: z1)",
			forcedN: 21, // the changed prompt is compared when forced
		},
		{
			name: "prompt differs across repeats",
			modify: func(c *Comparer) {
				r := res("qa", "c0003", "t", 1, true, 1)
				r.PromptHash = "0123"
				c.Add("B", r)
			},
			kinds:   []IssueKind{PromptsDiffer},
			message: "A vs B not comparable: qa: 1 prompt differs (first: c0003)",
			forcedN: 20,
		},
		{
			name: "suite version",
			modify: func(c *Comparer) {
				for i := range 20 {
					r := res("qa", "c"+pad4(i), "t", 1, true, 1)
					r.SuiteVersion = "2"
					c.Add("B", r)
				}
			},
			kinds:   []IssueKind{SuiteVersion},
			message: "A vs B not comparable: qa: suite version 1 vs 1,2",
			forcedN: 20,
		},
		{
			name: "whole suite missing",
			modify: func(c *Comparer) {
				c.Add("B", res("other", "o1", "t", 0, true, 1))
				c.Add("B", res("other", "o2", "t", 0, true, 1))
			},
			kinds:   []IssueKind{SuiteOnlyInB},
			message: "A vs B not comparable: other: suite only in B (2 cases)",
			forcedN: 20,
		},
		{
			name:    "short baseline hash matches full hash",
			modify:  func(c *Comparer) {},
			forcedN: 20,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.modify(c)
			cmp, err := c.CompareRuns("A", "B")
			if len(tc.kinds) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if cmp.Rows[0].N != tc.forcedN || len(cmp.Warnings) != 0 {
					t.Fatalf("rows %+v warnings %q", cmp.Rows, cmp.Warnings)
				}
				return
			}
			var ie *IncompatibleError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *IncompatibleError", err)
			}
			var kinds []IssueKind
			for _, is := range ie.Issues {
				kinds = append(kinds, is.Kind)
			}
			if !slices.Equal(kinds, tc.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tc.kinds)
			}
			if err.Error() != tc.message {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tc.message)
			}

			c.opts.Force = true
			cmp, err = c.CompareRuns("A", "B")
			if err != nil {
				t.Fatalf("forced: %v", err)
			}
			if r := rowOf(t, cmp, "qa", MetricPassRate); r.N != tc.forcedN {
				t.Errorf("forced N = %d, want %d", r.N, tc.forcedN)
			}
			if len(cmp.Warnings) != len(tc.kinds) {
				t.Errorf("warnings = %q, want %d", cmp.Warnings, len(tc.kinds))
			}
			for i, is := range ie.Issues {
				if i < len(cmp.Warnings) && cmp.Warnings[i] != is.String() {
					t.Errorf("warning %q, want %q", cmp.Warnings[i], is.String())
				}
			}
		})
	}

	t.Run("short baseline hash matches full hash", func(t *testing.T) {
		c := New(DefaultOptions())
		full := res("qa", "c1", "t", 0, true, 1)
		full.PromptHash = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"
		short := res("qa", "c1", "t", 0, false, 0)
		short.PromptHash = "3f2a9c1b7d4e"
		c.Add("base", short)
		c.Add("run", full)
		if _, err := c.CompareRuns("base", "run"); err != nil {
			t.Fatal(err)
		}
		short.PromptHash = "3f2a9c1b7d4f"
		c2 := New(DefaultOptions())
		c2.Add("base", short)
		c2.Add("run", full)
		if _, err := c2.CompareRuns("base", "run"); err == nil {
			t.Fatal("different short hash accepted")
		}
	})

	t.Run("no common case even when forced", func(t *testing.T) {
		c := New(Options{Force: true})
		c.Add("A", res("qa", "a", "t", 0, true, 1))
		c.Add("B", res("qa", "b", "t", 0, true, 1))
		_, err := c.CompareRuns("A", "B")
		var ie *IncompatibleError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "no case in common") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPairingAndLabels(t *testing.T) {
	add := func(c *Comparer, run, target string) {
		for i := range 4 {
			c.Add(run, res("s", "c"+pad4(i), target, 0, i < 2, 0.5))
		}
	}
	tests := []struct {
		name   string
		setup  func(c *Comparer)
		do     func(c *Comparer) (*Comparison, error)
		labels [][2]string // A, B of each pair, in row order
		issues []IssueKind
	}{
		{
			name:   "two runs, one target",
			setup:  func(c *Comparer) { add(c, "runA", "m"); add(c, "runB", "m") },
			do:     func(c *Comparer) (*Comparison, error) { return c.CompareRuns("runA", "runB") },
			labels: [][2]string{{"runA", "runB"}},
		},
		{
			name:   "two runs, renamed target",
			setup:  func(c *Comparer) { add(c, "runA", "old"); add(c, "runB", "new") },
			do:     func(c *Comparer) (*Comparison, error) { return c.CompareRuns("runA", "runB") },
			labels: [][2]string{{"old (runA)", "new (runB)"}},
		},
		{
			name: "baseline of one target against two",
			setup: func(c *Comparer) {
				add(c, "baseline", "m")
				add(c, "run", "m")
				add(c, "run", "x")
			},
			do:     func(c *Comparer) (*Comparison, error) { return c.CompareRuns("baseline", "run") },
			labels: [][2]string{{"m (baseline)", "m (run)"}, {"m (baseline)", "x (run)"}},
		},
		{
			name: "targets of one run against a reference",
			setup: func(c *Comparer) {
				add(c, "r", "ref")
				add(c, "r", "b")
				add(c, "r", "a")
			},
			do:     func(c *Comparer) (*Comparison, error) { return c.CompareTargets("r", "ref") },
			labels: [][2]string{{"ref", "a"}, {"ref", "b"}},
		},
		{
			name: "unpaired targets",
			setup: func(c *Comparer) {
				add(c, "A", "p")
				add(c, "A", "q")
				add(c, "B", "p")
				add(c, "B", "r")
			},
			do:     func(c *Comparer) (*Comparison, error) { return c.CompareRuns("A", "B") },
			issues: []IssueKind{TargetUnpaired, TargetUnpaired},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(DefaultOptions())
			tc.setup(c)
			cmp, err := tc.do(c)
			if tc.issues != nil {
				var ie *IncompatibleError
				if !errors.As(err, &ie) || len(ie.Issues) != len(tc.issues) {
					t.Fatalf("err = %v", err)
				}
				want := "A vs B not comparable: target r of B has no partner; target q of A has no partner"
				if err.Error() != want {
					t.Errorf("message %q, want %q", err.Error(), want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got [][2]string
			for _, r := range cmp.Rows {
				if r.Metric == MetricPassRate {
					got = append(got, [2]string{r.A, r.B})
				}
			}
			if !slices.Equal(got, tc.labels) {
				t.Errorf("labels = %q, want %q", got, tc.labels)
			}
		})
	}
}

func TestChangesCostsWarnings(t *testing.T) {
	opts := DefaultOptions()
	opts.ExcerptLen = 8
	c := New(opts)
	cost := func(v float64) *float64 { return &v }
	add := func(run, id string, repeat int, pass bool, score float64, lat time.Duration, out string, usd *float64) *bench.Result {
		r := res("s", id, "t", repeat, pass, score)
		r.Latency, r.Output, r.CostUSD = lat, out, usd
		if !pass {
			r.Reason = "wrong " + id
		}
		c.Add(run, r)
		return r
	}
	ms := time.Millisecond
	// c1: pass → fail (regression, score 1 → 0.2)
	add("A", "c1", 0, true, 1, 100*ms, "right", cost(0.01))
	add("B", "c1", 0, false, 0.2, 300*ms, "wrong answer here", cost(0.02))
	// c2: pass → fail by error (regression, score 0.9 → 0)
	add("A", "c2", 0, true, 0.9, 200*ms, "ok", cost(0.01))
	e := res("s", "c2", "t", 0, false, 0)
	e.Error = &bench.ErrorInfo{Kind: providers.KindRateLimit, Message: "slow down"}
	e.Latency = 5 * ms
	e.CostUSD = cost(0)
	c.Add("B", e)
	// c3: fail → pass (improvement); B has two repeats, one passing.
	add("A", "c3", 0, false, 0.1, 300*ms, "nope", cost(0.01))
	add("B", "c3", 0, true, 0.8, 100*ms, "yes", cost(0.02))
	add("B", "c3", 1, false, 0.4, 200*ms, "日本語の答え", cost(0.02))
	// c4: unchanged; a duplicate of B's repeat 0 is ignored.
	add("A", "c4", 0, true, 1, 400*ms, "same", nil)
	add("B", "c4", 0, true, 1, 400*ms, "same", cost(0.02))
	add("B", "c4", 0, false, 0, 400*ms, "dup", cost(5))

	cmp, err := c.CompareRuns("A", "B")
	if err != nil {
		t.Fatal(err)
	}
	// Equal pass drops: the larger score drop first (c2 −0.9, then c1 −0.8).
	wantReg := []CaseChange{
		{Suite: "s", CaseID: "c2", A: "A", B: "B", Target: "t", APassed: 1, ARuns: 1, BPassed: 0, BRuns: 1, AScore: 0.9, BScore: 0, Reason: "rate_lim"},
		{Suite: "s", CaseID: "c1", A: "A", B: "B", Target: "t", APassed: 1, ARuns: 1, BPassed: 0, BRuns: 1, AScore: 1, BScore: 0.2, Reason: "wrong c1", Output: "wrong an"},
	}
	if !slices.Equal(cmp.Regressions, wantReg) {
		t.Errorf("regressions\n got %+v\nwant %+v", cmp.Regressions, wantReg)
	}
	// B's excerpt comes from its failed repeat, cut at a rune boundary.
	wantImp := []CaseChange{
		{Suite: "s", CaseID: "c3", A: "A", B: "B", Target: "t", APassed: 0, ARuns: 1, BPassed: 1, BRuns: 2, AScore: 0.1, BScore: 0.6, Reason: "wrong c3", Output: "日本"},
	}
	if len(cmp.Improvements) != 1 || !near(cmp.Improvements[0].BScore, 0.6, 1e-12) {
		t.Fatalf("improvements = %+v", cmp.Improvements)
	}
	cmp.Improvements[0].BScore = 0.6
	if !slices.Equal(cmp.Improvements, wantImp) {
		t.Errorf("improvements\n got %+v\nwant %+v", cmp.Improvements, wantImp)
	}
	if ch := wantReg[0]; ch.APass() != true || ch.BPass() != false || ch.PassDelta() != -1 {
		t.Errorf("CaseChange helpers: %v %v %v", ch.APass(), ch.BPass(), ch.PassDelta())
	}
	if ch := wantImp[0]; ch.BPass() || ch.PassDelta() != 0.5 {
		t.Errorf("1 of 2 is not a majority pass; delta %v", ch.PassDelta())
	}

	wantCost := CostLatency{Suite: "s", A: "A", B: "B", N: 4,
		LatencyA: 250 * ms, LatencyB: 300 * ms, LatencyNA: 4, LatencyNB: 3,
		CostA: 0.03, CostB: 0.08, CostKnownA: false, CostKnownB: true, ResultsA: 4, ResultsB: 5}
	if len(cmp.Costs) != 1 {
		t.Fatalf("costs = %+v", cmp.Costs)
	}
	got := cmp.Costs[0]
	if !near(got.CostA, wantCost.CostA, 1e-12) || !near(got.CostB, wantCost.CostB, 1e-12) {
		t.Errorf("costs %v %v", got.CostA, got.CostB)
	}
	got.CostA, got.CostB = wantCost.CostA, wantCost.CostB
	if got != wantCost {
		t.Errorf("costs\n got %+v\nwant %+v", got, wantCost)
	}

	wantWarn := []string{
		"B: 1 result for an already seen case and repeat ignored",
		"B: 1 result of 5 errored, counted as failures with score 0",
	}
	if !slices.Equal(cmp.Warnings, wantWarn) {
		t.Errorf("warnings = %q", cmp.Warnings)
	}
	r := rowOf(t, cmp, "s", MetricPassRate)
	if r.Method != MethodBootstrap || r.ValueA != 0.75 || r.ValueB != 0.375 || r.AOnly != 2 || r.BOnly != 1 {
		t.Errorf("pass row = %+v", r)
	}
}

func TestDeterministicRows(t *testing.T) {
	build := func(extra bool) *Comparison {
		c := New(Options{BootstrapIters: 500, Seed: 42})
		for i := range 30 {
			id := "c" + pad4(i)
			c.Add("A", res("s", id, "t", 0, i%2 == 0, float64(i%7)/7))
			c.Add("B", res("s", id, "t", 0, i%3 == 0, float64(i%5)/5))
			if extra {
				c.Add("A", res("z", id, "t", 0, true, 1))
				c.Add("B", res("z", id, "t", 0, false, float64(i%4)/4))
			}
		}
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			t.Fatal(err)
		}
		return cmp
	}
	a, b := build(false), build(true)
	for _, m := range []string{MetricPassRate, MetricScore} {
		ra, rb := rowOf(t, a, "s", m), rowOf(t, b, "s", m)
		if ra.Delta != rb.Delta || ra.P != rb.P || ra.IntervalA != rb.IntervalA || ra.IntervalB != rb.IntervalB {
			t.Errorf("%s: adding a suite changed the row: %+v vs %+v", m, ra, rb)
		}
		if rb.PAdjusted < ra.PAdjusted {
			t.Errorf("%s: more rows should not lower the Holm p", m)
		}
	}
}

func TestAddSeq(t *testing.T) {
	seq := func(yield func(*bench.Result, error) bool) {
		_ = yield(res("s", "c1", "t", 0, true, 1), nil) &&
			yield(nil, &bench.LineError{File: "r.jsonl", Line: 2, Err: bench.ErrTruncated}) &&
			yield(res("s", "c2", "t", 0, true, 1), nil) &&
			yield(nil, &bench.LineError{File: "r.jsonl", Line: 4, Err: errors.New("bad")}) &&
			yield(res("s", "c3", "t", 0, true, 1), nil)
	}
	c := New(DefaultOptions())
	err := c.AddSeq("A", seq)
	if err == nil || err.Error() != "r.jsonl:4: bad" {
		t.Fatalf("err = %v", err)
	}
	if n := len(c.arms[Arm{"A", "t"}].suites["s"].cases); n != 2 {
		t.Errorf("%d cases added, want 2 (truncated line skipped, stopped at the bad one)", n)
	}
	if got := c.Arms(); !slices.Equal(got, []Arm{{"A", "t"}}) {
		t.Errorf("Arms = %v", got)
	}
}

func TestCompareErrors(t *testing.T) {
	c := New(DefaultOptions())
	c.Add("A", res("s", "c", "t", 0, true, 1))
	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		{"unknown arm", func() error { _, err := c.Compare(Pair{Arm{"A", "t"}, Arm{"B", "t"}}); return err }, "compare: no results for t (B)"},
		{"same arm", func() error { _, err := c.Compare(Pair{Arm{"A", "t"}, Arm{"A", "t"}}); return err }, "compare: t (A) compared with itself"},
		{"nothing", func() error { _, err := c.Compare(); return err }, "compare: nothing to compare"},
		{"missing run", func() error { _, err := c.CompareRuns("A", "B"); return err }, `compare: no results for run "B"`},
		{"no other target", func() error { _, err := c.CompareTargets("A", "t"); return err }, `compare: run "A" has no target besides "t"`},
		{"no reference", func() error { _, err := c.CompareTargets("A", "x"); return err }, `compare: run "A" has no results for target "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"},
		{"héllo", 3, "hé"},
		{"日本", 5, "日"},
		{"日本", 0, ""},
	} {
		if got := excerpt(tc.in, tc.n); got != tc.want {
			t.Errorf("excerpt(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestTinyComparisons: one or two cases never produce NaN (rows must encode
// as JSON) nor a significant result.
func TestTinyComparisons(t *testing.T) {
	for _, n := range []int{1, 2} {
		c := New(DefaultOptions())
		for i := range n {
			id := "c" + itoa(i)
			c.Add("A", res("s", id, "t", 0, false, 0.1))
			c.Add("B", res("s", id, "t", 0, true, 0.9))
		}
		cmp, err := c.CompareRuns("A", "B")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(cmp); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		for _, r := range cmp.Rows {
			if r.Significant || r.P < 0.25 {
				t.Errorf("n=%d: %s significant with p %v", n, r.Metric, r.P)
			}
		}
	}
}

func TestForcedUnpairedTargets(t *testing.T) {
	c := New(Options{Force: true})
	for _, tg := range []string{"p", "q"} {
		c.Add("A", res("s", "c1", tg, 0, true, 1))
	}
	for _, tg := range []string{"p", "r"} {
		c.Add("B", res("s", "c1", tg, 0, false, 0))
	}
	cmp, err := c.CompareRuns("A", "B")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"target r of B has no partner", "target q of A has no partner"}
	if !slices.Equal(cmp.Warnings, want) {
		t.Errorf("warnings %q", cmp.Warnings)
	}
	if len(cmp.Rows) != 2 || cmp.Rows[0].A != "A" || cmp.Rows[0].B != "B" || len(cmp.Regressions) != 1 {
		t.Errorf("rows %+v regressions %+v", cmp.Rows, cmp.Regressions)
	}
}
