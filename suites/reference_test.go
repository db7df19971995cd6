package suites

import (
	"context"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/suites/score"
)

// TestScorerReferenceExamples runs every example of the scorer reference
// (yardstick suites scorers, docs/scorers.md) as a suite file would, so the
// documentation cannot claim what the scorers do not do.
func TestScorerReferenceExamples(t *testing.T) {
	n := 0
	for _, td := range score.Reference() {
		for _, ex := range td.Examples {
			n++
			t.Run(td.Type+"/"+ex.Scorer, func(t *testing.T) {
				c := "cases: [{id: c}]\n"
				if ex.Expected != "" {
					c = "cases: [{id: c, expected: " + strconv.Quote(ex.Expected) + "}]\n"
				}
				yaml := "name: ex\nprompt: {user: hi}\n" + c + "scorers:\n  - " + ex.Scorer + "\n"
				s, err := LoadFS(fstest.MapFS{"s.yaml": {Data: []byte(yaml)}}, "s.yaml", LoadOptions{})
				if err != nil {
					t.Fatalf("%v\n%s", err, yaml)
				}
				for cs, err := range s.Cases(CasesOptions{}) {
					if err != nil {
						t.Fatal(err)
					}
					got, err := cs.Scorer.Score(context.Background(), cs, &providers.Response{Text: ex.Answer})
					if err != nil {
						t.Fatal(err)
					}
					if got.Pass != ex.Pass {
						t.Errorf("answer %q: pass = %v, the reference says %v (%s)", ex.Answer, got.Pass, ex.Pass, got.Reason)
					}
				}
			})
		}
	}
	if n < 20 {
		t.Errorf("only %d examples", n)
	}
}
