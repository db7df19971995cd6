package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestFourTargetsRankedWithAllPairs: four -m targets are compared all
// against all (six pairs, not the three the first target used to get),
// ranked with their ties, and every report names the reference.
func TestFourTargetsRankedWithAllPairs(t *testing.T) {
	srv, env := fakeOpenAI(t)
	wrong := map[string]int{"m-best": 0, "m-close": 2, "m-mid": 30, "m-bad": 60}
	srv.SetResponder(func(req providertest.WireRequest) string { return plusOne(wrong[req.Model])(req) })
	c := newCLI(t, env)
	suite := writeSumSuite(t, c.dir, 120)
	out := filepath.Join(c.dir, "run")
	args := []string{"run", suite, "--out", out}
	for m := range wrong {
		args = append(args, "-m", "openai:"+m)
	}
	if code := c.run(context.Background(), args...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	text := c.stdout.String()
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Reference   string          `json:"reference"`
		Comparisons []compare.Row   `json:"comparisons"`
		Ranking     []analysis.Rank `json:"ranking"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	pairs := map[[2]string]bool{}
	for _, r := range doc.Comparisons {
		if r.Metric == compare.MetricPassRate {
			pairs[[2]string{r.TargetA, r.TargetB}] = true
		}
	}
	if len(pairs) != 6 || doc.Reference != "all pairs" {
		t.Errorf("reference %q, %d pass-rate pairs: %v", doc.Reference, len(pairs), pairs)
	}
	// Six pass-rate tests form one Holm family: the intervals shown say so,
	// and each agrees with its verdict.
	for _, r := range doc.Comparisons {
		if r.Family != 6 || !r.Adjusted || (r.Delta.Low > 0 || r.Delta.High < 0) != r.Significant {
			t.Errorf("row %s→%s %s: family %d adjusted %v delta %+v significant %v", r.TargetA, r.TargetB, r.Metric, r.Family, r.Adjusted, r.Delta, r.Significant)
		}
	}
	if !strings.Contains(text, "(Holm ") {
		t.Errorf("adjusted intervals are not labelled:\n%s", text)
	}
	var order []string
	for _, r := range doc.Ranking {
		order = append(order, r.Target)
	}
	if strings.Join(order, " ") != "openai:m-best openai:m-close openai:m-mid openai:m-bad" {
		t.Errorf("ranking %v", order)
	}
	// best and runner-up (2 of 120 apart) are tied and share rank 1.
	if r := doc.Ranking; len(r) != 4 || r[0].Rank != 1 || r[1].Rank != 1 || r[2].Rank != 3 || r[3].Rank != 4 ||
		strings.Join(r[0].TiedWith, ",") != "openai:m-close" {
		t.Errorf("ranks %+v", r)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for name, s := range map[string]string{"text": text, "report.md": string(md), "report.html": string(html)} {
		if !strings.Contains(s, "reference all pairs") {
			t.Errorf("%s does not name the reference", name)
		}
	}
	if !strings.Contains(text, "Ranking") || !strings.Contains(string(md), "### Ranking") || !strings.Contains(string(html), `id="ranking"`) {
		t.Errorf("a report lacks the ranking table:\n%s", text)
	}

	// --reference picks one target; the ranking still has every pair.
	out2 := filepath.Join(c.dir, "ref")
	if code := c.run(context.Background(), append(args[:len(args):len(args)], "--reference", "openai:m-mid", "--out", out2)...); code != exitOK {
		t.Fatalf("--reference: exit %d\n%s", code, c.stderr.String())
	}
	if !strings.Contains(c.stdout.String(), "reference openai:m-mid") || !strings.Contains(c.stdout.String(), "Ranking") {
		t.Errorf("--reference output:\n%s", c.stdout.String())
	}
}

// TestDeadTargetExitsOne: a target whose every request failed, or that a
// circuit breaker stopped, makes gate exit 1 naming it and the cause, even
// when every threshold holds (it used to read as a regression, or as success).
func TestDeadTargetExitsOne(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  providers.Kind
		cause string
		all   bool
	}{
		{"every request failed", providers.KindUnavailable, "every request failed", true},
		{"circuit breaker", providers.KindCircuitOpen, "circuit breaker open", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, nil)
			var b strings.Builder
			w := bench.NewJSONLWriter(&b)
			for i := range 4 {
				r := &bench.Result{Suite: "s", CaseID: string(rune('a' + i)), Target: "good", Pass: true, Score: 1}
				if err := w.Add(r); err != nil {
					t.Fatal(err)
				}
				bad := &bench.Result{Suite: "s", CaseID: string(rune('a' + i)), Target: "down",
					Error: &bench.ErrorInfo{Kind: tc.kind, Message: "connection refused"}}
				if !tc.all && i == 0 {
					bad.Error, bad.Pass, bad.Score = nil, true, 1
				}
				if err := w.Add(bad); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(c.dir, "results.jsonl")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			code := c.run(context.Background(), "gate", path, "--threshold", "cases >= 1")
			if code != exitFailure {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitFailure, c.stdout.String(), c.stderr.String())
			}
			if !strings.Contains(c.stderr.String(), "target down did not run: "+tc.cause) || strings.Contains(c.stderr.String(), "target good") {
				t.Errorf("stderr:\n%s", c.stderr.String())
			}
		})
	}
}

// TestBaselineSaveKeepsUnicodeTargets: `baseline save` used to write
// target.baseline for every non-ASCII target, so 라마 and 젬마 overwrote each
// other with exit 0.
func TestBaselineSaveKeepsUnicodeTargets(t *testing.T) {
	c := newCLI(t, nil)
	var b strings.Builder
	w := bench.NewJSONLWriter(&b)
	for _, target := range []string{"ollama:라마", "ollama:젬마", "a:b", "a/b"} {
		for _, id := range []string{"x", "y"} {
			if err := w.Add(&bench.Result{Suite: "s", CaseID: id, Target: target, Pass: id == "x", PromptHash: "ab"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(c.dir, "results.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.dir, "baselines")
	if code := c.run(context.Background(), "baseline", "save", path, "-o", dir); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 4 || !slices.Contains(names, "ollama-라마.baseline") || !slices.Contains(names, "ollama-젬마.baseline") {
		t.Errorf("files %q", names)
	}
}

// TestRunWithEveryRequestFailingExitsOne: a server that rejects every
// request (a wrong key) used to read as "threshold crossed" (99), or as
// success without thresholds; it is an error naming the target.
func TestRunWithEveryRequestFailingExitsOne(t *testing.T) {
	srv, env := fakeOpenAI(t)
	srv.SetDefault(providertest.Behavior{Status: 401})
	c := newCLI(t, env)
	for _, extra := range [][]string{nil, {"--threshold", "cases >= 1"}} {
		args := append([]string{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-thresholds", "--out", filepath.Join(c.dir, "run"+strings.Join(extra, ""))}, extra...)
		code := c.run(context.Background(), args...)
		if code != exitFailure || !regexp.MustCompile(`target openai:gpt-4o-mini did not run: (every request failed \(10 of 10\)|circuit breaker open)`).MatchString(c.stderr.String()) {
			t.Errorf("%v: exit %d, want %d\n%s", extra, code, exitFailure, c.stderr.String())
		}
	}
}
