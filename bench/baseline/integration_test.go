package baseline

import (
	"bytes"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
)

// TestPairsWithItsRun checks that a baseline streams into analysis/compare and
// analysis/gate as the run it was made from: its short prompt hashes match the
// run's full ones, every case pairs, and nothing changed.
func TestPairsWithItsRun(t *testing.T) {
	var buf bytes.Buffer
	only := func(yield func(*bench.Result, error) bool) {
		for r, err := range runResults(t) {
			if err != nil || r.Target == "openai:gpt-4o-mini" {
				if !yield(r, err) {
					return
				}
			}
		}
	}
	if err := Save(&buf, only, testMeta()); err != nil {
		t.Fatal(err)
	}
	b, err := Read(&buf, "gpt.baseline")
	if err != nil {
		t.Fatal(err)
	}

	c := compare.New(compare.DefaultOptions())
	if err := c.AddSeq("baseline", b.Results()); err != nil {
		t.Fatal(err)
	}
	if err := c.AddSeq("run", only); err != nil {
		t.Fatal(err)
	}
	cmp, err := c.CompareRuns("baseline", "run")
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Rows) != 4 || len(cmp.Regressions)+len(cmp.Improvements) != 0 {
		t.Fatalf("rows %+v changes %+v %+v", cmp.Rows, cmp.Regressions, cmp.Improvements)
	}
	for _, r := range cmp.Rows {
		if r.A != "baseline" || r.B != "run" || r.Delta.Value > 0.0001 || r.Delta.Value < -0.0001 || r.Significant {
			t.Errorf("row %+v", r)
		}
	}

	th, err := gate.Parse("delta(pass_rate) >= -0.02")
	if err != nil {
		t.Fatal(err)
	}
	ev := gate.NewEvaluator([]gate.Threshold{th}, gate.DefaultOptions())
	for r := range b.Results() {
		ev.AddBaseline(r)
	}
	for r, err := range only {
		if err != nil {
			t.Fatal(err)
		}
		ev.Add(r)
	}
	out := ev.Outcomes()
	if len(out) != 1 || out[0].N != 8 {
		t.Fatalf("outcomes %+v", out)
	}
}
