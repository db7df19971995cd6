package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/gate"
)

// TestPipeline renders what analysis.Builder produces for a run with
// repeats, errors, a baseline and thresholds, as the CLI wires it. It checks
// that every format accepts the output (including undefined intervals) and
// stays well formed.
func TestPipeline(t *testing.T) {
	s := synth{suites: []string{"support", "billing"}, targets: []string{"openai:gpt-4o-mini", "ollama:llama3.1:8b"}, nCases: 300, repeats: 2, seed: 3, malicious: true}

	var ths []gate.Threshold
	for _, e := range []string{"pass_rate >= 0.85", "latency p(95) < 2s", "delta(pass_rate) >= -0.02"} {
		th, err := gate.Parse(e)
		if err != nil {
			t.Fatalf("gate.Parse(%q): %v", e, err)
		}
		ths = append(ths, th)
	}
	b := analysis.New(analysis.Options{Thresholds: ths})
	for r := range s.results(false) {
		b.Add(r)
	}
	for r := range s.results(true) {
		b.AddBaseline(r)
	}
	in, err := b.Close()
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	in.Meta = Meta{Title: "pipeline", Baseline: "baseline"}
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
