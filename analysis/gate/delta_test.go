package gate

import (
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/stats"
)

// row builds the pass_rate comparison row of a paired 2×2 table over n cases.
func row(target string, pc stats.PairedCounts) compare.Row {
	iv := stats.McNemarInterval(pc, 0.95)
	return compare.Row{Suite: "s", Metric: "pass_rate", A: "baseline", B: "run", TargetA: "base", TargetB: target,
		N: pc.N(), Delta: iv, Level: 0.95, Family: 1, P: stats.McNemarExact(pc.AOnly, pc.BOnly),
		PAdjusted: stats.McNemarExact(pc.AOnly, pc.BOnly), Significant: iv.Low > 0 || iv.High < 0,
		Method: compare.MethodMcNemar, AOnly: pc.AOnly, BOnly: pc.BOnly}
}

func TestJudgeDeltaReadings(t *testing.T) {
	same := row("m", stats.PairedCounts{Both: 120})
	noise := row("m", stats.PairedCounts{Both: 115, AOnly: 4, BOnly: 1}) // −2.5pp, not significant
	drop := row("m", stats.PairedCounts{Both: 108, AOnly: 12})           // −10pp, significant
	for _, tc := range []struct {
		expr    string
		r       compare.Row
		pass    bool
		display string // substring
		reason  string // substring
	}{
		// The README recipe passes when nothing changed (it used to fail).
		{"delta(pass_rate) >= -0.02", same, true, "±0.0pp [-3.0, +3.0]", ""},
		// A drop past the margin within noise passes, marked.
		{"delta(pass_rate) >= -0.02", noise, true, "~ not significant", "~ not significant"},
		{"delta(pass_rate) >= -0.02", drop, false, "-10.0pp", "significant"},
		{"delta(pass_rate) test >= -0.02", drop, false, "-10.0pp", "significant"},
		// Explicit readings.
		{"delta(pass_rate) value >= -0.02", noise, false, "-2.5pp", ""},
		{"delta(pass_rate) ci_low >= -0.02", same, false, "", "about 183 unchanged paired cases"},
		{"delta(pass_rate) ci_low >= -0.05", same, true, "", ""},
		{"delta(pass_rate) ci_high < -0.02", drop, true, "", ""},
		{"delta(pass_rate) ci_high < -0.02", noise, false, "", "upper end"},
		{"delta(pass_rate) count >= 100", drop, true, "120 paired cases", ""},
		// The mirror image: a rise.
		{"delta(pass_rate) <= 0.02", row("m", stats.PairedCounts{Both: 100, BOnly: 12, Neither: 8}), false, "+10.0pp", "significant"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			th, err := Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			out := JudgeDelta(th, []compare.Row{tc.r}, "", Options{})
			if len(out) != 1 {
				t.Fatalf("%d outcomes", len(out))
			}
			o := out[0]
			if o.Pass != tc.pass || !strings.Contains(o.Display, tc.display) || !strings.Contains(o.Reason, tc.reason) {
				t.Errorf("pass %v display %q reason %q", o.Pass, o.Display, o.Reason)
			}
		})
	}
}

func TestJudgeDeltaGroupsAndMissingData(t *testing.T) {
	th, _ := Parse("delta(pass_rate{target:b*}) >= -0.02")
	rows := []compare.Row{row("b1", stats.PairedCounts{Both: 120}), row("b2", stats.PairedCounts{Both: 108, AOnly: 12})}
	rows = append(rows, compare.Row{Metric: "score", Suite: "s", TargetB: "b1"}) // another metric: ignored
	out := JudgeDelta(th, rows, "", Options{GroupBy: []string{"suite", "target"}})
	if len(out) != 2 || out[0].Group != "{suite:s,target:b1}" || !out[0].Pass || out[1].Pass {
		t.Fatalf("outcomes %+v", out)
	}
	// Without grouping, one outcome: the failing row.
	if out := JudgeDelta(th, rows, "", Options{}); len(out) != 1 || out[0].Pass {
		t.Fatalf("pooled %+v", out)
	}
	// No rows, or a refused comparison: a failed "no data" outcome.
	for _, refused := range []string{"", "no data: not comparable"} {
		out := JudgeDelta(th, nil, refused, Options{})
		if len(out) != 1 || out[0].Pass || !strings.HasPrefix(out[0].Reason, "no data") {
			t.Errorf("refused %q: %+v", refused, out)
		}
	}
	// Through the Evaluator, delta thresholds are judged on what Deltas gives.
	ev := NewEvaluator([]Threshold{th}, Options{GroupBy: []string{"suite", "target"}})
	if o := ev.Outcomes(func(Threshold) ([]compare.Row, string) { return rows[:1], "" }); len(o) != 1 || !o[0].Pass {
		t.Errorf("evaluator %+v", o)
	}
}
