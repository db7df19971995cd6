package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/pricing"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestRunRecordsJudgeCost runs a suite with a judge scorer through the CLI:
// the grading calls' usage and cost, at the judge model's price from the
// registry, reach results.jsonl apart from the model's, and a rerun served
// from the cache marks the judge part cached with the same nominal cost.
func TestRunRecordsJudgeCost(t *testing.T) {
	srv, env := fakeOpenAI(t)
	const judgeReply = "Names the right city.\nGRADE: PASS"
	srv.SetResponder(func(r providertest.WireRequest) string {
		if strings.Contains(r.Prompt(), "[BEGIN ANSWER]") {
			return judgeReply
		}
		return capitalResponder(r)
	})
	c := newCLI(t, env)
	suite := filepath.Join(c.dir, "judged.yaml")
	if err := os.WriteFile(suite, []byte(`name: judged
prompt:
  user: "What is the capital of {{.country}}?"
cases:
  - {id: fr, vars: {country: France}, expected: Paris}
  - {id: de, vars: {country: Germany}, expected: Berlin}
scorers:
  - {type: judge, model: "openai:gpt-4o-mini", rubric: "Names the capital city."}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	price, ok := pricing.Default.Lookup("openai", "gpt-4o-mini")
	if !ok {
		t.Fatal("no built-in price for openai gpt-4o-mini")
	}
	for i, wantCached := range []bool{false, true} {
		out := filepath.Join(c.dir, "run"+string(rune('a'+i)))
		if code := c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--out", out); code != exitOK {
			t.Fatalf("run %d: exit %d\n%s", i, code, c.stderr.String())
		}
		f, err := os.Open(filepath.Join(out, resultsName))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for r, err := range bench.ReadResults(f, resultsName) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if r.Error != nil || len(r.Scores) != 1 {
				t.Fatalf("run %d %s: error %+v, scores %+v", i, r.CaseID, r.Error, r.Scores)
			}
			p := r.Scores[0]
			if p.Usage == nil || p.Usage.OutputTokens != len(strings.Fields(judgeReply)) || p.Usage.InputTokens == 0 {
				t.Errorf("run %d %s: judge part usage %+v, want the fake's count of the grading call", i, r.CaseID, p.Usage)
				continue
			}
			if r.JudgeUsage != *p.Usage || r.Usage == r.JudgeUsage {
				t.Errorf("run %d %s: JudgeUsage %+v, part %+v, model usage %+v", i, r.CaseID, r.JudgeUsage, *p.Usage, r.Usage)
			}
			want := price.Cost(*p.Usage)
			if p.CostUSD == nil || r.JudgeCostUSD == nil || math.Abs(*p.CostUSD-want) > 1e-15 || math.Abs(*r.JudgeCostUSD-want) > 1e-15 {
				t.Errorf("run %d %s: judge cost part %v, result %v; want %v at %+v", i, r.CaseID, p.CostUSD, r.JudgeCostUSD, want, price)
			}
			if p.Cached != wantCached || r.Cached != wantCached {
				t.Errorf("run %d %s: judge part cached %v, result cached %v; want %v", i, r.CaseID, p.Cached, r.Cached, wantCached)
			}
		}
		f.Close()
		if n != 2 {
			t.Errorf("run %d: %d results, want 2", i, n)
		}
	}
	if srv.Count() != 4 {
		t.Errorf("requests = %d, want 4 (2 answers + 2 gradings; the rerun is cached)", srv.Count())
	}
}
