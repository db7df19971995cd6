package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestBaselineGateAndCompare saves a run as a baseline, gates a worse run
// against it with a non-inferiority threshold, and compares the two runs.
func TestBaselineGateAndCompare(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	good := filepath.Join(c.dir, "good")
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", good); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	bdir := filepath.Join(c.dir, "baselines")
	if code := c.run(context.Background(), "baseline", "save", good, "-o", bdir); code != exitOK {
		t.Fatalf("baseline save: exit %d\n%s", code, c.stderr.String())
	}
	bfile := filepath.Join(bdir, "openai-gpt-4o-mini.baseline")
	data, err := os.ReadFile(bfile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "target\topenai:gpt-4o-mini") || !strings.Contains(string(data), "\nfr\tpass\t") {
		t.Errorf("baseline file:\n%s", data)
	}

	// The same model again holds a loose non-inferiority margin…
	same := filepath.Join(c.dir, "same")
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", same,
		"--baseline", bfile, "--threshold", "delta(pass_rate) >= -0.5"); code != exitOK {
		t.Fatalf("same model vs baseline: exit %d\n%s\n%s", code, c.stdout.String(), c.stderr.String())
	}
	// …and a model that now gets most answers wrong crosses it.
	srv.SetResponder(func(req providertest.WireRequest) string {
		if strings.Contains(req.Messages[len(req.Messages)-1].Content, "France?") {
			return "Paris"
		}
		return "London"
	})
	worse := filepath.Join(c.dir, "worse")
	code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--out", worse,
		"--baseline", bfile, "--threshold", "delta(pass_rate) >= -0.5")
	if code != exitThresholds {
		t.Fatalf("worse model vs baseline: exit %d, want %d\n%s\n%s", code, exitThresholds, c.stdout.String(), c.stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(worse, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"delta(pass_rate) >= -0.5", "de"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	// gate re-judges the saved results the same way, without calling anything.
	before := srv.Count()
	if code := c.run(context.Background(), "gate", worse, "--baseline", bfile, "--threshold", "delta(pass_rate) >= -0.5"); code != exitThresholds {
		t.Errorf("gate: exit %d, want %d\n%s", code, exitThresholds, c.stderr.String())
	}
	if srv.Count() != before {
		t.Errorf("gate made requests")
	}

	// compare: paired rows for the two runs; significant drop.
	if code := c.run(context.Background(), "compare", good, worse); code != exitOK {
		t.Fatalf("compare: exit %d\n%s", code, c.stderr.String())
	}
	if out := c.stdout.String(); !strings.Contains(out, "pass") || !strings.Contains(out, "worse") {
		t.Errorf("compare output:\n%s", out)
	}
	// A run of a changed suite is refused, unless forced.
	changed := filepath.Join(c.dir, "changed.yaml")
	tiny, _ := os.ReadFile("testdata/tiny.yaml")
	writeFile(t, changed, strings.Replace(string(tiny), "Answer with the city name only.", "Answer with the capital only.", 1))
	srv.SetResponder(capitalResponder)
	other := filepath.Join(c.dir, "other")
	if code := c.run(context.Background(), "run", changed, "-m", "openai:gpt-4o-mini", "-q", "--out", other); code != exitOK {
		t.Fatalf("changed suite run: exit %d\n%s", code, c.stderr.String())
	}
	if code := c.run(context.Background(), "compare", good, other); code != exitUsage || !strings.Contains(c.stderr.String(), "--force") {
		t.Errorf("compare of changed prompts: exit %d, stderr:\n%s", code, c.stderr.String())
	}
	if code := c.run(context.Background(), "compare", "--force", good, other); code != exitOK {
		t.Errorf("compare --force: exit %d\n%s", code, c.stderr.String())
	}
}
