package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
)

func TestEstimateCallsNothingAndNeedsNoKey(t *testing.T) {
	srv, _ := fakeOpenAI(t)
	c := newCLI(t, map[string]string{"OPENAI_BASE_URL": srv.URL()}) // no key
	code := c.run(context.Background(), "estimate", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-m", "ollama:llama3.2", "--repeat", "2")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Count() != 0 {
		t.Errorf("estimate made %d requests", srv.Count())
	}
	out := c.stdout.String()
	// 10 cases × 2 repeats; gpt-4o-mini is counted exactly and priced, llama approximated and unpriced.
	for _, re := range []string{
		`openai:gpt-4o-mini\s+20\s+\d+\s+\d+\s+160\s+\$0\.\d+\s+\$0\.\d+\s+tiktoken o200k_base`,
		`ollama:llama3\.2\s+20\s+≈\d+`,
		`note: ollama:llama3\.2: no known price`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("estimate output does not match %q:\n%s", re, out)
		}
	}
}

func TestBudgetStopKeepsAValidResultsFile(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	// Each answer costs about $0.000002 at gpt-4o-mini's price; the cap allows a few.
	code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "-c", "1", "--budget", "0.00001", "--out", out)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailure, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "budget $0.00001 reached") {
		t.Errorf("error does not name the budget:\n%s", c.stderr.String())
	}
	f, err := os.Open(filepath.Join(out, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for _, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatalf("results file is not valid: %v", err)
		}
		n++
	}
	if n == 0 || n >= 10 || n != srv.Count() {
		t.Errorf("budget run kept %d results for %d requests, want some but not all, one per request", n, srv.Count())
	}
	m, err := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
	if err != nil || m.Status != "budget_exceeded" {
		t.Errorf("manifest status %q (%v), want budget_exceeded", m.Status, err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("no report for the partial run: %v", err)
	}
}
