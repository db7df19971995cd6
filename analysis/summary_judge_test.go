package analysis

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// TestSummarizerJudgeCost checks that judge usage and the known judge costs
// are summed apart from the model's, and appear in the JSON summary only
// when there were any.
func TestSummarizerJudgeCost(t *testing.T) {
	res := func(c string, u providers.Usage, cost *float64) *bench.Result {
		return &bench.Result{Suite: "s", Target: "t", CaseID: c, Pass: true, Score: 1,
			Usage: providers.Usage{InputTokens: 5, OutputTokens: 1}, CostUSD: summaryUSD(0.1),
			JudgeUsage: u, JudgeCostUSD: cost}
	}
	s := NewSummarizer(DefaultSummaryOptions())
	s.Add(res("a", providers.Usage{InputTokens: 100, CachedInputTokens: 10, OutputTokens: 20}, summaryUSD(0.002)))
	s.Add(res("b", providers.Usage{InputTokens: 50, OutputTokens: 5}, nil)) // unpriced judge
	s.Add(res("c", providers.Usage{InputTokens: 30, OutputTokens: 3}, summaryUSD(0.0005)))
	s.Add(&bench.Result{Suite: "s", Target: "plain", CaseID: "a", Pass: true, Score: 1})
	got := s.Close()
	if len(got) != 2 {
		t.Fatalf("%d summaries, want 2", len(got))
	}
	plain, sg := got[0], got[1]
	if want := (providers.Usage{InputTokens: 180, CachedInputTokens: 10, OutputTokens: 28}); sg.JudgeUsage != want {
		t.Errorf("JudgeUsage %+v, want %+v", sg.JudgeUsage, want)
	}
	if math.Abs(sg.JudgeCostUSD-0.0025) > 1e-12 {
		t.Errorf("JudgeCostUSD %v, want 0.0025", sg.JudgeCostUSD)
	}
	if sg.Usage != (providers.Usage{InputTokens: 15, OutputTokens: 3}) || math.Abs(sg.CostUSD-0.3) > 1e-12 {
		t.Errorf("model Usage %+v, CostUSD %v: judge usage must not be mixed in", sg.Usage, sg.CostUSD)
	}
	b, err := json.Marshal(sg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"judge_usage":{"input_tokens":180,"cached_input_tokens":10,"output_tokens":28}`, `"judge_cost_usd":0.0025`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("summary JSON lacks %s:\n%s", want, b)
		}
	}
	if b, _ := json.Marshal(plain); strings.Contains(string(b), "judge_") {
		t.Errorf("summary without a judge has judge fields:\n%s", b)
	}
}
