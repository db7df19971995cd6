package bench

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
)

// rnJudge is a scorer whose parts report model calls, as a judge scorer's do:
// an unpriced exact part, then one judge part per entry of parts. fail makes
// Score return an error after the judge parts (with them in Score.Parts, as
// score.Composite does).
type rnJudge struct {
	parts []ScorePart
	fail  bool
}

func (s rnJudge) Score(context.Context, *Case, *providers.Response) (Score, error) {
	sc := Score{Value: 1, Pass: true, Parts: []ScorePart{{Name: "exact", Value: 1, Weight: 1, Pass: true}}}
	for _, p := range s.parts {
		if p.Usage != nil {
			u := *p.Usage
			p.Usage = &u
		}
		if p.CostUSD != nil {
			c := *p.CostUSD
			p.CostUSD = &c
		}
		sc.Parts = append(sc.Parts, p)
	}
	if s.fail {
		return Score{Parts: sc.Parts}, &providers.Error{Kind: providers.KindBadResponse, Provider: "judge", Message: "unreadable grade"}
	}
	return sc, nil
}

func rnF(f float64) *float64 { return &f }

func rnU(in, out int) *providers.Usage { return &providers.Usage{InputTokens: in, OutputTokens: out} }

func TestRunJudgeCost(t *testing.T) {
	modelPrice := providers.Price{OutputPerM: 10} // 1000 output tokens: $0.01 per result
	tests := []struct {
		name      string
		scorer    rnJudge
		priced    bool // the target has a price
		usage     providers.Usage
		cost      *float64 // Result.JudgeCostUSD
		spentEach float64  // what each result adds to the budget
		errStage  string
	}{
		{name: "two judge parts summed", priced: true,
			scorer: rnJudge{parts: []ScorePart{
				{Name: "judge", Usage: rnU(100, 10), CostUSD: rnF(0.002)},
				{Name: "not-judge", Usage: rnU(50, 5), CostUSD: rnF(0.001)},
			}},
			usage: providers.Usage{InputTokens: 150, OutputTokens: 15}, cost: rnF(0.003), spentEach: 0.013},
		{name: "cached judge part: recorded, not spent", priced: true,
			scorer: rnJudge{parts: []ScorePart{
				{Name: "judge", Usage: rnU(100, 10), CostUSD: rnF(0.002), Cached: true},
				{Name: "judge", Usage: rnU(100, 10), CostUSD: rnF(0.004)},
			}},
			usage: providers.Usage{InputTokens: 200, OutputTokens: 20}, cost: rnF(0.006), spentEach: 0.014},
		{name: "unpriced judge: usage only", priced: true,
			scorer: rnJudge{parts: []ScorePart{{Name: "judge", Usage: rnU(7, 3)}}},
			usage:  providers.Usage{InputTokens: 7, OutputTokens: 3}, spentEach: 0.01},
		{name: "unpriced target, priced judge",
			scorer: rnJudge{parts: []ScorePart{{Name: "judge", Usage: rnU(100, 10), CostUSD: rnF(0.005)}}},
			usage:  providers.Usage{InputTokens: 100, OutputTokens: 10}, cost: rnF(0.005), spentEach: 0.005},
		{name: "scorer error keeps the judge's spend", priced: true,
			scorer: rnJudge{parts: []ScorePart{{Name: "judge", Usage: rnU(100, 10), CostUSD: rnF(0.002)}}, fail: true},
			usage:  providers.Usage{InputTokens: 100, OutputTokens: 10}, cost: rnF(0.002), spentEach: 0.012, errStage: "score"},
		{name: "no judge", priced: true, scorer: rnJudge{}, spentEach: 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 6
			targets, fake := rnTargets("a")
			fake.usage = providers.Usage{OutputTokens: 1000}
			if tt.priced {
				targets[0].Price = &modelPrice
			}
			var got rnCollect
			r := New(Config{Concurrency: 2})
			if err := r.Run(context.Background(), rnCases(n, tt.scorer, nil), targets, &got); err != nil {
				t.Fatal(err)
			}
			res := got.results()
			if len(res) != n {
				t.Fatalf("%d results, want %d", len(res), n)
			}
			for _, res := range res {
				if res.JudgeUsage != tt.usage {
					t.Errorf("%s: JudgeUsage %+v, want %+v", res.CaseID, res.JudgeUsage, tt.usage)
				}
				switch {
				case tt.cost == nil && res.JudgeCostUSD != nil:
					t.Errorf("%s: JudgeCostUSD %v, want nil", res.CaseID, *res.JudgeCostUSD)
				case tt.cost != nil && (res.JudgeCostUSD == nil || math.Abs(*res.JudgeCostUSD-*tt.cost) > 1e-12):
					t.Errorf("%s: JudgeCostUSD %v, want %v", res.CaseID, res.JudgeCostUSD, *tt.cost)
				}
				if res.Usage != fake.usage {
					t.Errorf("%s: Usage %+v: the judge's must not be added to the model's", res.CaseID, res.Usage)
				}
				stage := ""
				if res.Error != nil {
					stage = res.Error.Stage
				}
				if stage != tt.errStage {
					t.Errorf("%s: error %+v, want stage %q", res.CaseID, res.Error, tt.errStage)
				}
			}
			if s := r.Stats(); math.Abs(s.SpentUSD-n*tt.spentEach) > 1e-9 {
				t.Errorf("spent $%v, want $%v", s.SpentUSD, n*tt.spentEach)
			}
		})
	}
}

// TestRunBudgetCountsJudge checks that the judge's cost alone stops a run at
// its budget (the target itself has no price), and that the results file
// carries it.
func TestRunBudgetCountsJudge(t *testing.T) {
	rnNoLeak(t)
	const n = 100
	targets, _ := rnTargets("a") // unpriced
	judge := rnJudge{parts: []ScorePart{{Name: "judge", Usage: rnU(1000, 100), CostUSD: rnF(0.01)}}}
	path := filepath.Join(t.TempDir(), "results.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = New(Config{Concurrency: 1, BudgetUSD: 0.05}).Run(context.Background(), rnCases(n, judge, nil), targets, NewJSONLWriter(f))
	var be *BudgetError
	if !errors.Is(err, ErrBudgetExceeded) || !errors.As(err, &be) {
		t.Fatalf("Run = %v, want a *BudgetError", err)
	}
	f.Seek(0, 0)
	written, spent := 0, 0.0
	for res, err := range ReadResults(f, "results.jsonl") {
		if err != nil {
			t.Fatal(err)
		}
		written++
		if res.JudgeCostUSD == nil || res.JudgeUsage != (providers.Usage{InputTokens: 1000, OutputTokens: 100}) {
			t.Fatalf("%s read back: judge usage %+v, cost %v", res.CaseID, res.JudgeUsage, res.JudgeCostUSD)
		}
		if res.Scores[1].Usage == nil || res.Scores[1].CostUSD == nil || *res.Scores[1].CostUSD != 0.01 {
			t.Errorf("%s read back: judge part %+v", res.CaseID, res.Scores[1])
		}
		spent += *res.JudgeCostUSD
	}
	if written < 4 || written > 5 {
		t.Errorf("%d results, want 4..5 ($0.01 of judge cost each, budget $0.05)", written)
	}
	if math.Abs(be.SpentUSD-spent) > 1e-9 {
		t.Errorf("BudgetError spent $%v, results' judge cost adds to $%v", be.SpentUSD, spent)
	}
}
