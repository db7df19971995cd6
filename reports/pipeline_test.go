package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
)

// TestPipeline renders what the real accumulators produce for a run with
// repeats, errors, a baseline and thresholds, as the CLI will wire it:
// analysis.Summarizer → Summaries, gate.Evaluator → Outcomes, compare.Comparer →
// Comparisons, Costs, Regressions, Warnings. It checks that every format
// accepts their output (including undefined intervals) and stays well formed.
func TestPipeline(t *testing.T) {
	s := synth{suites: []string{"support", "billing"}, targets: []string{"openai:gpt-4o-mini", "ollama:llama3.1:8b"}, nCases: 300, repeats: 2, seed: 3, malicious: true}

	sum := analysis.NewSummarizer(analysis.DefaultSummaryOptions())
	var ths []gate.Threshold
	for _, e := range []string{"pass_rate >= 0.85", "latency p(95) < 2s", "delta(pass_rate) >= -0.02"} {
		th, err := gate.Parse(e)
		if err != nil {
			t.Fatalf("gate.Parse(%q): %v", e, err)
		}
		ths = append(ths, th)
	}
	ev := gate.NewEvaluator(ths, gate.DefaultOptions())
	cmp := compare.New(compare.DefaultOptions())
	for r := range s.results(false) {
		sum.Add(r)
		ev.Add(r)
		cmp.Add("now", r)
	}
	baseSum := analysis.NewSummarizer(analysis.DefaultSummaryOptions())
	for r := range s.results(true) {
		baseSum.Add(r)
		ev.AddBaseline(r)
		cmp.Add("baseline", r)
	}
	c, err := cmp.CompareRuns("baseline", "now")
	if err != nil {
		t.Fatalf("CompareRuns: %v", err)
	}
	in := &Input{
		Meta:      Meta{Title: "pipeline", Baseline: "baseline"},
		Summaries: sum.Close(), Baseline: baseSum.Close(), Outcomes: ev.Outcomes(),
		Comparisons: c.Rows, Costs: c.Costs, Regressions: c.Regressions, Warnings: c.Warnings,
	}
	if len(in.Summaries) != 4 || len(in.Outcomes) == 0 || len(in.Comparisons) == 0 || len(in.Regressions) == 0 {
		t.Fatalf("pipeline produced %d summaries, %d outcomes, %d rows, %d regressions",
			len(in.Summaries), len(in.Outcomes), len(in.Comparisons), len(in.Regressions))
	}

	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			rep, err := New(format, in, s.results(false))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := rep(&b); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			switch format {
			case "json":
				var doc map[string]any
				if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
			case "junit":
				checkJUnitSchema(t, b.Bytes())
			case "markdown", "pr":
				for _, line := range strings.Split(out, "\n") {
					if p := liveMarkup(line); p != "" {
						t.Errorf("unescaped %q in %q", p, line)
					}
				}
			case "html":
				p := parsePage(t, b.Bytes())
				if len(p.eventAttr) > 0 || p.tags["img"] > 0 {
					t.Error("markup from model output reached the page")
				}
			}
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("%s report shows NaN or Inf", format)
			}
		})
	}
}
