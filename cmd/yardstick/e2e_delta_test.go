package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// writeSumSuite writes a suite of n cases "What is i plus one?".
func writeSumSuite(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("name: plus-one\nversion: \"1\"\nprompt:\n  user: \"What is {{.n}} plus one?\"\ncases:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: c%03d, vars: {n: \"%d\"}, expected: \"%d\"}\n", i, i, i+1)
	}
	b.WriteString("defaults:\n  temperature: 0\nscorers:\n  - type: exact\n")
	p := filepath.Join(dir, "plus-one.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var plusOneRe = regexp.MustCompile(`What is (\d+) plus one\?`)

// plusOne answers right, except for the cases whose number is below wrong.
func plusOne(wrong int) func(providertest.WireRequest) string {
	return func(req providertest.WireRequest) string {
		m := plusOneRe.FindStringSubmatch(req.Messages[len(req.Messages)-1].Content)
		if m == nil {
			return "?"
		}
		n, _ := strconv.Atoi(m[1])
		if n < wrong {
			return "zero"
		}
		return strconv.Itoa(n + 1)
	}
}

// TestDeltaGateEndToEnd is the README's CI recipe, end to end: 120 cases,
// saved as a baseline; an identical rerun passes `delta(pass_rate) >= -0.02`
// (it used to fail: the interval's low end was below the margin); 12 answers
// made wrong fail it with exit 99; and the one delta interval reads the same
// in the gate line, the comparison table, report.md, summary.json and
// report.html.
func TestDeltaGateEndToEnd(t *testing.T) {
	srv, env := fakeOpenAI(t)
	srv.SetResponder(plusOne(0))
	c := newCLI(t, env)
	suite := writeSumSuite(t, c.dir, 120)
	const th = "delta(pass_rate) >= -0.02"
	ctx := context.Background()

	first := filepath.Join(c.dir, "first")
	if code := c.run(ctx, "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--out", first); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, c.stderr.String())
	}
	bdir := filepath.Join(c.dir, "baselines")
	if code := c.run(ctx, "baseline", "save", first, "-o", bdir); code != exitOK {
		t.Fatalf("baseline save: exit %d\n%s", code, c.stderr.String())
	}
	bfile := filepath.Join(bdir, "openai-gpt-4o-mini.baseline")

	same := filepath.Join(c.dir, "same")
	if code := c.run(ctx, "run", suite, "-m", "openai:gpt-4o-mini", "--no-cache", "--out", same,
		"--baseline", bfile, "--threshold", th); code != exitOK {
		t.Fatalf("identical rerun: exit %d, want 0\n%s\n%s", code, c.stdout.String(), c.stderr.String())
	}

	srv.SetResponder(plusOne(12))
	worse := filepath.Join(c.dir, "worse")
	code := c.run(ctx, "run", suite, "-m", "openai:gpt-4o-mini", "--no-cache", "--out", worse,
		"--baseline", bfile, "--threshold", th)
	if code != exitThresholds {
		t.Fatalf("12 answers wrong: exit %d, want %d\n%s\n%s", code, exitThresholds, c.stdout.String(), c.stderr.String())
	}
	table := c.stdout.String()

	// The interval, from summary.json's comparison row.
	raw, err := os.ReadFile(filepath.Join(worse, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Comparisons []compare.Row `json:"comparisons"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var row *compare.Row
	for i, r := range doc.Comparisons {
		if r.Metric == compare.MetricPassRate {
			row = &doc.Comparisons[i]
		}
	}
	if row == nil || row.N != 120 || row.AOnly != 12 || !row.Significant || row.Delta.Value > -0.099 || row.Delta.Value < -0.101 {
		t.Fatalf("summary.json pass-rate row: %+v", row)
	}
	want := gate.DisplayDelta(*row)
	if !strings.Contains(want, "-10.0pp [") {
		t.Fatalf("interval %q", want)
	}

	if code := c.run(ctx, "gate", worse, "--baseline", bfile, "--threshold", th); code != exitThresholds {
		t.Fatalf("gate: exit %d\n%s", code, c.stderr.String())
	}
	gateLine := c.stdout.String()
	// The run recorded its threshold and baseline: `gate RUN` alone judges
	// the same thing the same way.
	if code := c.run(ctx, "gate", worse); code != exitThresholds || !strings.Contains(c.stdout.String(), want) {
		t.Errorf("gate RUN without flags: exit %d\n%s%s", code, c.stdout.String(), c.stderr.String())
	}
	md, _ := os.ReadFile(filepath.Join(worse, "report.md"))
	html, _ := os.ReadFile(filepath.Join(worse, "report.html"))
	for name, text := range map[string]string{"gate line": gateLine, "comparison table": table, "report.md": string(md), "report.html": string(html)} {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not show the delta interval %q:\n%s", name, want, clip(text))
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}
