package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// A server that accepts connections and never answers, and another that
// streams forever, no longer hold a run: the limits set per provider in
// yardstick.yaml end each call with a timeout, which lands in the results.
func TestRunEndsHangingAndEndlessServers(t *testing.T) {
	srv, env := fakeOpenAI(t)
	srv.SetDefault(providertest.Behavior{Delay: time.Hour})
	endless := providertest.NewOpenAIServer(t, providertest.WithDefault(providertest.Behavior{Text: "and so on", Endless: true, ChunkDelay: 5 * time.Millisecond}))
	c := newCLI(t, env)
	cfg := filepath.Join(c.dir, "yardstick.yaml")
	os.WriteFile(cfg, []byte(`providers:
  - name: hang
    type: openai
    model: gpt-4o-mini
    timeout: 100ms
    retry: {max_attempts: 2, base_delay: 1ms}
    breaker: {threshold: -1}
  - name: endless
    type: vllm
    model: m
    base_url: `+endless.URL()+`
    stream: true
    max_duration: 200ms
`), 0o644)
	out := filepath.Join(c.dir, "run")
	code := c.run(context.Background(), "--config", cfg, "run", "testdata/tiny.yaml", "-m", "hang", "-m", "endless", "-q", "--no-cache", "--out", out)
	if code == exitUsage {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	f, err := os.Open(filepath.Join(out, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kinds := map[string]map[providers.Kind]int{}
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		if kinds[r.Target] == nil {
			kinds[r.Target] = map[providers.Kind]int{}
		}
		if r.Error != nil {
			kinds[r.Target][r.Error.Kind]++
		}
	}
	if kinds["hang"][providers.KindTimeout] != 10 || kinds["endless"][providers.KindTimeout] != 10 {
		t.Errorf("error kinds per target = %v, want 10 timeouts each", kinds)
	}
	if srv.Count() != 20 {
		t.Errorf("hanging server saw %d requests, want 10 cases × 2 attempts", srv.Count())
	}
}
