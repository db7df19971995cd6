package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers/providertest"
)

const geminiTarget = "gemini:gemini-2.5-flash"

// geminiBatchCLI returns a Gemini Batch Mode fake and a CLI whose
// yardstick.yaml points the gemini:gemini-2.5-flash target at it.
func geminiBatchCLI(t *testing.T, mode providertest.GeminiBatchMode) (*providertest.GeminiBatchServer, *cli, string) {
	srv := providertest.NewGeminiBatchServer(t, "gem-key", capitalResponder)
	srv.SetMode(mode)
	c := newCLI(t, map[string]string{"GEMINI_API_KEY": "gem-key"})
	config := filepath.Join(c.dir, "yardstick.yaml")
	writeFile(t, config, `
providers:
  - name: `+geminiTarget+`
    type: gemini
    model: gemini-2.5-flash
    base_url: `+srv.URL()+`
`)
	return srv, c, config
}

func geminiBatchArgs(config, out string, more ...string) []string {
	return append([]string{"--config", config, "run", "testdata/tiny.yaml", "-m", geminiTarget, "--no-cache", "--batch", "--batch-poll", "5ms", "--format", "none", "--out", out}, more...)
}

// summaryCost returns summary.json's cost of the run's one target.
func summaryCost(t *testing.T, out string) float64 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Summaries []struct {
			Target    string  `json:"target"`
			CostUSD   float64 `json:"cost_usd"`
			CostKnown bool    `json:"cost_known"`
		} `json:"summaries"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if len(s.Summaries) != 1 || !s.Summaries[0].CostKnown || s.Summaries[0].CostUSD <= 0 {
		t.Fatalf("summary.json summaries: %+v", s.Summaries)
	}
	return s.Summaries[0].CostUSD
}

// TestGeminiBatchRun: a Gemini target under --batch runs as one Batch Mode
// job read from an uploaded file, whose output comes back out of order and
// with failed lines; the failed lines are retried in real time, every
// answer is scored as in a real-time run, progress shows the job's state,
// and summary.json's cost is half the real-time run's.
func TestGeminiBatchRun(t *testing.T) {
	srv, c, config := geminiBatchCLI(t, providertest.GeminiBatchMode{Reverse: true, FailEvery: 4})
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), geminiBatchArgs(config, out, "--format", "json")...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != 1 || srv.Uploads() != 1 {
		t.Errorf("%d batches, %d uploads; want 1 and 1", srv.Created(), srv.Uploads())
	}
	if n := srv.Count(); n != 2 { // lines 4 and 8 of 10 failed in the batch
		t.Errorf("%d real-time retries, want 2", n)
	}
	got := readRun(t, out)
	if len(got) != 10 {
		t.Fatalf("%d results, want 10", len(got))
	}
	for k, r := range got {
		if r.Error != nil {
			t.Errorf("%v: %v", k, r.Error)
		}
		if r.Output == "" || r.Pass != (r.Output == r.Expected) {
			t.Errorf("%v: output %q scored pass=%v", k, r.Output, r.Pass)
		}
	}
	if !strings.Contains(c.stderr.String(), "JOB_STATE_SUCCEEDED, 8 of 10 done, 2 failed") {
		t.Errorf("progress does not show the batch state:\n%s", c.stderr.String())
	}
	for _, l := range srv.Lines() {
		if l.Temperature == nil || *l.Temperature != 0 || l.MaxTokens == nil || *l.MaxTokens != 8 || l.Messages[0].Role != "system" {
			t.Errorf("batch line lost the suite's settings: %+v", l)
			break
		}
	}
	batchCost := summaryCost(t, out)

	rt := newCLI(t, map[string]string{"GEMINI_API_KEY": "gem-key"})
	rtOut := filepath.Join(rt.dir, "rt")
	if code := rt.run(context.Background(), "--config", config, "run", "testdata/tiny.yaml", "-m", geminiTarget, "--no-cache", "--format", "none", "-q", "--out", rtOut); code != exitOK {
		t.Fatalf("real-time run: exit %d\n%s", code, rt.stderr.String())
	}
	if d := summaryCost(t, rtOut) - 2*batchCost; d > 1e-12 || d < -1e-12 {
		t.Errorf("summary.json cost: batch %g, real time %g; want half", batchCost, summaryCost(t, rtOut))
	}
}

// TestGeminiBatchExpiredPartly: a job that expires with 6 of its 10 lines
// done keeps those; the other 4 go through the real-time path.
func TestGeminiBatchExpiredPartly(t *testing.T) {
	srv, c, config := geminiBatchCLI(t, providertest.GeminiBatchMode{Expire: true, ExpireDone: 6})
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), geminiBatchArgs(config, out)...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != 1 || srv.Count() != 4 {
		t.Errorf("%d batches, %d real-time requests; want 1 and 4", srv.Created(), srv.Count())
	}
	if got := readRun(t, out); len(got) != 10 {
		t.Errorf("%d results, want 10", len(got))
	}
	if !strings.Contains(c.stderr.String(), "JOB_STATE_EXPIRED, 6 of 10 done") {
		t.Errorf("progress does not show the expiry:\n%s", c.stderr.String())
	}
}

// TestGeminiBatchInterruptedThenResumed: a run killed after its job was
// submitted, then resumed, re-attaches to that job: no second submission
// or upload (counted on the fake), no real-time request, no line lost, and
// the cost still at half price.
func TestGeminiBatchInterruptedThenResumed(t *testing.T) {
	srv, c, config := geminiBatchCLI(t, providertest.GeminiBatchMode{Hold: true})
	out := filepath.Join(c.dir, "run")
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	go func() {
		for srv.Created() == 0 || srv.Polls() < 3 {
			time.Sleep(2 * time.Millisecond)
		}
		once.Do(cancel)
	}()
	code := c.run(ctx, geminiBatchArgs(config, out)...)
	once.Do(cancel)
	if code != exitInterrupted {
		t.Fatalf("interrupted run: exit %d, want %d\n%s", code, exitInterrupted, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "JOB_STATE_RUNNING") {
		t.Errorf("progress does not show the running job:\n%s", c.stderr.String())
	}
	if st, err := os.Stat(filepath.Join(out, "batches.jsonl")); err != nil || st.Size() == 0 {
		t.Fatalf("no batch state recorded: %v", err)
	}
	srv.Release()
	if code := c.run(context.Background(), geminiBatchArgs(config, out, "--resume")...); code != exitOK {
		t.Fatalf("resumed run: exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != 1 || srv.Uploads() != 1 {
		t.Errorf("%d batches created, %d files uploaded; want 1 and 1: the resumed run submitted again", srv.Created(), srv.Uploads())
	}
	if srv.Count() != 0 {
		t.Errorf("%d real-time requests, want 0", srv.Count())
	}
	if !strings.Contains(c.stderr.String(), "re-attaching to 1 submitted batch") {
		t.Errorf("resume does not say it re-attached:\n%s", c.stderr.String())
	}
	got := readRun(t, out)
	if len(got) != 10 {
		t.Errorf("%d results after resume, want 10", len(got))
	}
	for k, r := range got {
		if r.Error != nil || r.Output == "" || r.Pass != (r.Output == r.Expected) {
			t.Errorf("%v: error %v, output %q scored pass=%v", k, r.Error, r.Output, r.Pass)
		}
	}
	summaryCost(t, out)
}

// TestVertexBatchRunsRealTime: Vertex AI has no Batch Mode in Yardstick
// (its batch prediction reads Cloud Storage or BigQuery): under --batch a
// vertex target runs in real time, with a warning, at its full price.
func TestVertexBatchRunsRealTime(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.WithGeminiAPIKey("vertex-token"), providertest.WithGeminiResponder(capitalResponder))
	c := newCLI(t, nil)
	config := filepath.Join(c.dir, "yardstick.yaml")
	writeFile(t, config, `
providers:
  - name: vertex
    type: vertex
    model: gemini-2.5-flash
    base_url: `+srv.URL()+`
    headers: {Authorization: Bearer vertex-token}
    options: {project: p, location: us-central1, auth: none}
`)
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), "--config", config, "run", "testdata/tiny.yaml", "-m", "vertex", "--no-cache", "--batch", "--format", "none", "--out", out); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "vertex has no Batch API in yardstick; it runs in real time") {
		t.Errorf("no warning:\n%s", c.stderr.String())
	}
	if srv.Count() != 10 || len(readRun(t, out)) != 10 {
		t.Errorf("%d real-time requests, %d results; want 10 and 10", srv.Count(), len(readRun(t, out)))
	}
}
