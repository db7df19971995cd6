package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestWarmCacheIsNotTimed: a run served from the response cache used to
// report microsecond latencies and pass `latency p(95) < 2s`. Cached results
// are marked and left out of timing figures and gates; with
// --include-cached-latency the original call's latency, stored with the cache
// entry, is used instead.
func TestWarmCacheIsNotTimed(t *testing.T) {
	srv, env := fakeOpenAI(t)
	srv.SetDefault(providertest.Behavior{Delay: 30 * time.Millisecond})
	c := newCLI(t, env)
	ctx := context.Background()
	run := func(name string, extra ...string) (int, string) {
		out := filepath.Join(c.dir, name)
		args := append([]string{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--out", out, "--threshold", "latency p(95) < 2s"}, extra...)
		code := c.run(ctx, args...)
		return code, out
	}
	if code, _ := run("cold"); code != exitOK {
		t.Fatalf("cold run: exit %d\n%s", code, c.stderr.String())
	}
	code, warm := run("warm")
	if code != exitThresholds || !strings.Contains(c.stdout.String(), "served from the response cache") {
		t.Fatalf("warm run: exit %d, want %d with a cache reason\n%s", code, exitThresholds, c.stdout.String())
	}
	f, err := os.Open(filepath.Join(warm, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		if !r.Cached || r.Original == nil || r.Original.Latency < 30*time.Millisecond {
			t.Fatalf("%s: cached %v, original %+v", r.CaseID, r.Cached, r.Original)
		}
	}
	code, incl := run("incl", "--include-cached-latency")
	if code != exitOK {
		t.Fatalf("--include-cached-latency: exit %d\n%s", code, c.stdout.String())
	}
	raw, _ := os.ReadFile(filepath.Join(incl, "summary.json"))
	var doc struct {
		Summaries []struct {
			Latency struct {
				N   int   `json:"n"`
				P50 int64 `json:"p50_ns"`
			} `json:"latency"`
			Cached int `json:"cached"`
		} `json:"summaries"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Summaries) != 1 {
		t.Fatalf("summary.json: %v", err)
	}
	if s := doc.Summaries[0]; s.Cached != 10 || s.Latency.N != 10 || time.Duration(s.Latency.P50) < 30*time.Millisecond {
		t.Errorf("with cached latency: %+v", s)
	}
}

// TestReportAndGateReuseRecordedThresholds: `report RUN` and `gate RUN`
// used to forget the thresholds the run judged; the manifest records them
// with their sources.
func TestReportAndGateReuseRecordedThresholds(t *testing.T) {
	_, env := fakeOpenAI(t)
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	ctx := context.Background()
	if code := c.run(ctx, "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", out, "--threshold", "pass_rate >= 0.9"); code != exitThresholds {
		t.Fatalf("run: exit %d", code)
	}
	if code := c.run(ctx, "gate", out); code != exitThresholds {
		t.Fatalf("gate RUN: exit %d, want %d\n%s%s", code, exitThresholds, c.stdout.String(), c.stderr.String())
	}
	for _, want := range []string{"pass_rate >= 0.9", "[--threshold]", "pass_rate >= 0.5", "tiny.yaml:"} {
		if !strings.Contains(c.stdout.String(), want) {
			t.Errorf("gate RUN output lacks %q:\n%s", want, c.stdout.String())
		}
	}
	if code := c.run(ctx, "report", out); code != exitOK || !strings.Contains(c.stdout.String(), "pass_rate >= 0.9") {
		t.Errorf("report RUN: exit %d\n%s", code, c.stdout.String())
	}
}
