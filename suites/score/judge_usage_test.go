package score

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// graded is a grading reply with the usage the fake reports for it.
func graded(text string, in, cachedIn, out int) providertest.Behavior {
	return providertest.Behavior{Text: text, Usage: &providers.Usage{InputTokens: in, CachedInputTokens: cachedIn, OutputTokens: out}}
}

// TestJudgeUsage checks that a judge part sums its grading responses' usage,
// as the real OpenAI adapter reads it from the wire, and prices it at the
// grader's price, also when grading fails part way.
func TestJudgeUsage(t *testing.T) {
	price := &providers.Price{InputPerM: 2, CachedInputPerM: 1, OutputPerM: 8}
	tests := []struct {
		name    string
		spec    Spec
		price   *providers.Price
		replies []providertest.Behavior
		usage   *providers.Usage // nil: none recorded
		cost    float64          // with price; checked when usage is set and price is
		err     bool
	}{
		{name: "one sample, priced", price: price,
			replies: []providertest.Behavior{graded("Polite.\nGRADE: PASS", 1000, 200, 50)},
			usage:   &providers.Usage{InputTokens: 1000, CachedInputTokens: 200, OutputTokens: 50},
			cost:    (800*2 + 200*1 + 50*8) / 1e6},
		{name: "three samples summed", spec: Spec{Samples: ip(3)}, price: price,
			replies: []providertest.Behavior{graded("GRADE: PASS", 100, 0, 10), graded("GRADE: FAIL", 110, 0, 20), graded("GRADE: PASS", 120, 40, 30)},
			usage:   &providers.Usage{InputTokens: 330, CachedInputTokens: 40, OutputTokens: 60},
			cost:    (290*2 + 40*1 + 60*8) / 1e6},
		{name: "unpriced grader: usage only",
			replies: []providertest.Behavior{graded("GRADE: PASS", 500, 0, 5)},
			usage:   &providers.Usage{InputTokens: 500, OutputTokens: 5}},
		{name: "negated part too", spec: Spec{Type: "not-judge"}, price: price,
			replies: []providertest.Behavior{graded("GRADE: FAIL", 10, 0, 3)},
			usage:   &providers.Usage{InputTokens: 10, OutputTokens: 3},
			cost:    (10*2 + 3*8) / 1e6},
		{name: "unreadable grade keeps the spent usage", price: price,
			replies: []providertest.Behavior{graded("no grade here", 70, 0, 9)},
			usage:   &providers.Usage{InputTokens: 70, OutputTokens: 9},
			cost:    (70*2 + 9*8) / 1e6, err: true},
		{name: "second sample fails: first counted", spec: Spec{Samples: ip(2)}, price: price,
			replies: []providertest.Behavior{graded("GRADE: PASS", 40, 0, 4), {Status: 400}},
			usage:   &providers.Usage{InputTokens: 40, OutputTokens: 4},
			cost:    (40*2 + 4*8) / 1e6, err: true},
		{name: "first request fails: nothing recorded", price: price,
			replies: []providertest.Behavior{{Status: 400}}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newGrader(t)
			fake.Script(tt.replies...)
			spec := judgeSpec(tt.spec, client)
			spec.Grader.Price = tt.price
			p := mustPart(t, spec)
			sp, err := p.JudgeContext(context.Background(), supportCase(), "Sorry! I can track #123.")
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error: %v", err, tt.err)
			}
			if sp.Name != spec.Type || sp.Weight != 1 {
				t.Errorf("Name, Weight = %q, %v; want %q, 1", sp.Name, sp.Weight, spec.Type)
			}
			switch {
			case tt.usage == nil:
				if sp.Usage != nil || sp.CostUSD != nil {
					t.Errorf("Usage, CostUSD = %v, %v; want none", sp.Usage, sp.CostUSD)
				}
				return
			case sp.Usage == nil || *sp.Usage != *tt.usage:
				t.Errorf("Usage = %+v, want %+v", sp.Usage, *tt.usage)
			}
			switch {
			case tt.price == nil && sp.CostUSD != nil:
				t.Errorf("CostUSD = %v, want nil for an unpriced grader", *sp.CostUSD)
			case tt.price != nil && (sp.CostUSD == nil || math.Abs(*sp.CostUSD-tt.cost) > 1e-15):
				t.Errorf("CostUSD = %v, want %v", sp.CostUSD, tt.cost)
			}
			if sp.Cached {
				t.Error("Cached set without a cache")
			}
		})
	}
}

// TestJudgeUsageCached checks that a rerun served from the response cache
// reports the same usage and nominal cost, marked Cached.
func TestJudgeUsageCached(t *testing.T) {
	fake, client := newGrader(t)
	fake.Script(graded("GRADE: PASS", 300, 0, 30), graded("GRADE: PASS", 200, 0, 20))
	cached := providers.Cached(client, &providers.MemStore{}, providers.CacheConfig{Scope: "openai@fake"})
	spec := judgeSpec(Spec{Samples: ip(2)}, cached)
	spec.Grader.Price = &providers.Price{InputPerM: 1, OutputPerM: 10}
	p := mustPart(t, spec)
	want := providers.Usage{InputTokens: 500, OutputTokens: 50}
	wantCost := (500*1 + 50*10) / 1e6
	for i, wantCached := range []bool{false, true} {
		sp, err := p.JudgeContext(context.Background(), supportCase(), "answer")
		if err != nil {
			t.Fatal(err)
		}
		if sp.Usage == nil || *sp.Usage != want || sp.CostUSD == nil || math.Abs(*sp.CostUSD-wantCost) > 1e-15 || sp.Cached != wantCached {
			t.Errorf("run %d: Usage %+v, CostUSD %v, Cached %v; want %+v, %v, %v", i, sp.Usage, sp.CostUSD, sp.Cached, want, wantCost, wantCached)
		}
	}
	if fake.Count() != 2 {
		t.Errorf("grader got %d requests, want 2 (the rerun is cached)", fake.Count())
	}
}

// TestCompositeKeepsJudgeUsageOnError checks that a scoring error still
// returns the parts scored so far and the failing judge part's usage.
func TestCompositeKeepsJudgeUsageOnError(t *testing.T) {
	fake, client := newGrader(t)
	fake.Script(graded("GRADE: PASS", 10, 0, 1), graded("unreadable", 20, 0, 2))
	exact := mustPart(t, Spec{Type: "contains", Value: sp("track")})
	j1 := mustPart(t, judgeSpec(Spec{}, client))
	j2 := mustPart(t, judgeSpec(Spec{Rubric: "Second rubric."}, client))
	comp, err := NewComposite(1, exact, j1, j2)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := comp.Score(context.Background(), supportCase(), &providers.Response{Text: "I will track it."})
	var pe *PartError
	if !errors.As(err, &pe) || pe.Index != 2 {
		t.Fatalf("err = %v, want a *PartError for part 2", err)
	}
	var got []bench.ScorePart = sc.Parts
	if len(got) != 3 || got[0].Usage != nil || got[1].Usage == nil || got[2].Usage == nil ||
		*got[1].Usage != (providers.Usage{InputTokens: 10, OutputTokens: 1}) ||
		*got[2].Usage != (providers.Usage{InputTokens: 20, OutputTokens: 2}) {
		t.Errorf("Parts = %+v, want contains (no usage), judge 10/1, failing judge 20/2", got)
	}
}
