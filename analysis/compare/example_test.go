package compare_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/bench"
)

// The CLI's `yardstick compare A B`: stream each file into the Comparer under
// its own run label (the results would come from bench.ReadResults; a
// baseline's from baseline.Load(path).Results()), then compare run B against
// run A.
func Example() {
	c := compare.New(compare.DefaultOptions())
	for i := range 40 {
		id := fmt.Sprintf("c%02d", i)
		c.Add("runA", &bench.Result{Suite: "qa", CaseID: id, Target: "m", PromptHash: "ab12", Pass: i%4 != 0, Score: 0.8})
		c.Add("runB", &bench.Result{Suite: "qa", CaseID: id, Target: "m", PromptHash: "ab12", Pass: i%4 != 0 && i < 28, Score: 0.6})
	}
	cmp, err := c.CompareRuns("runA", "runB")
	var inc *compare.IncompatibleError
	if errors.As(err, &inc) {
		fmt.Println("refused:", err) // the CLI suggests --force
		return
	}
	for _, r := range cmp.Rows {
		mark := "~"
		if r.Significant {
			mark = "significant"
		}
		fmt.Printf("%s %s: %.3f → %.3f, Δ %+.3f [%+.3f, %+.3f] p=%.4f (Holm %.4f) %s, %s\n",
			r.Suite, r.Metric, r.ValueA, r.ValueB, r.Delta.Value, r.Delta.Low, r.Delta.High, r.P, r.PAdjusted, r.Method, mark)
	}
	var ids []string
	for _, ch := range cmp.Regressions {
		ids = append(ids, ch.CaseID)
	}
	fmt.Println("regressed:", strings.Join(ids, " "))
	// Output:
	// qa pass_rate: 0.750 → 0.525, Δ -0.225 [-0.353, -0.084] p=0.0039 (Holm 0.0039) mcnemar-exact, significant
	// qa score: 0.800 → 0.600, Δ -0.200 [-0.200, -0.200] p=0.0000 (Holm 0.0000) paired-bootstrap+wilcoxon, significant
	// regressed: c29 c30 c31 c33 c34 c35 c37 c38 c39
}
