package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestRunComparesEveryProviderFamily runs one suite against OpenAI, Gemini,
// Ollama and Groq (OpenAI-compatible) fakes, each speaking its real wire
// protocol through its real SDK, streamed, and checks that one report covers
// every target with quality, latency, TTFT, tokens/s and cost.
func TestRunComparesEveryProviderFamily(t *testing.T) {
	oa := providertest.NewOpenAIServer(t)
	oa.SetResponder(capitalResponder)
	groq := providertest.NewOpenAIServer(t)
	groq.SetResponder(capitalResponder)
	gem := providertest.NewGeminiServer(t)
	gem.SetResponder(capitalResponder)
	oll := providertest.NewOllamaServer(t)
	oll.SetResponder(capitalResponder)
	for _, s := range []interface{ SetDefault(providertest.Behavior) }{oa, groq, gem, oll} {
		s.SetDefault(providertest.Behavior{ChunkDelay: 2 * time.Millisecond})
	}

	dir := t.TempDir()
	config := filepath.Join(dir, "yardstick.yaml")
	writeFile(t, config, `
providers:
  - name: gemini
    type: gemini
    model: gemini-2.5-flash
    base_url: `+gem.URL()+`
`)
	c := newCLI(t, map[string]string{
		"OPENAI_API_KEY": "sk-openai", "OPENAI_BASE_URL": oa.URL(),
		"GROQ_API_KEY": "gsk-groq", "GROQ_BASE_URL": groq.URL(),
		"GEMINI_API_KEY": "gem-key",
		"OLLAMA_HOST":    oll.URL(),
	})
	out := filepath.Join(dir, "run")
	code := c.run(context.Background(), "--config", config, "run", "testdata/tiny.yaml", "-q", "--stream", "--out", out, "--format", "json",
		"-m", "openai:gpt-4o-mini", "-m", "gemini", "-m", "ollama:llama3.2", "-m", "groq:llama-3.3-70b-versatile")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, c.stdout.String(), c.stderr.String())
	}
	for name, n := range map[string]int{"openai": oa.Count(), "groq": groq.Count(), "gemini": gem.Count(), "ollama": oll.Count()} {
		if n != 10 {
			t.Errorf("%s fake got %d requests, want 10", name, n)
		}
	}
	var rep struct {
		Summaries []struct {
			Target string `json:"target"`
			N      int    `json:"n"`
			Passed int    `json:"passed"`
			Errors int    `json:"errors"`
			TTFT   struct {
				N   int   `json:"n"`
				P50 int64 `json:"p50_ns"`
			} `json:"ttft"`
			Latency struct {
				P50 int64 `json:"p50_ns"`
				P95 int64 `json:"p95_ns"`
			} `json:"latency"`
			TokensPerSec float64 `json:"output_tokens_per_second"`
			CostUSD      float64 `json:"cost_usd"`
			CostKnown    bool    `json:"cost_known"`
		} `json:"summaries"`
	}
	if err := json.Unmarshal(c.stdout.Bytes(), &rep); err != nil {
		t.Fatalf("summary JSON: %v\n%s", err, c.stdout.String())
	}
	if len(rep.Summaries) != 4 {
		t.Fatalf("%d summaries, want 4:\n%s", len(rep.Summaries), c.stdout.String())
	}
	priced := map[string]bool{"openai:gpt-4o-mini": true, "gemini": true, "groq:llama-3.3-70b-versatile": true}
	for _, s := range rep.Summaries {
		if s.N != 10 || s.Errors != 0 || s.Passed != 8 {
			t.Errorf("%s: n=%d passed=%d errors=%d, want 10/8/0", s.Target, s.N, s.Passed, s.Errors)
		}
		if s.TTFT.N != 10 || s.TTFT.P50 <= 0 {
			t.Errorf("%s: TTFT not measured: %+v", s.Target, s.TTFT)
		}
		if s.Latency.P50 <= 0 || s.Latency.P95 < s.Latency.P50 {
			t.Errorf("%s: latency p50/p95 = %d/%d", s.Target, s.Latency.P50, s.Latency.P95)
		}
		if s.TokensPerSec <= 0 {
			t.Errorf("%s: tokens/s not measured", s.Target)
		}
		if priced[s.Target] != s.CostKnown || (s.CostKnown && s.CostUSD <= 0) {
			t.Errorf("%s: cost_known=%v cost=%g", s.Target, s.CostKnown, s.CostUSD)
		}
	}

	// The same run renders as one table with a row per target.
	c.run(context.Background(), "report", out)
	table := c.stdout.String()
	t.Logf("report:\n%s", table)
	for _, target := range []string{"openai:gpt-4o-mini", "gemini", "ollama:llama3.2", "groq:llama-3.3-70b-versatile"} {
		if !strings.Contains(table, target) {
			t.Errorf("report table lacks %s:\n%s", target, table)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestProvidersCheck(t *testing.T) {
	ok := providertest.NewOpenAIServer(t)
	bad := providertest.NewOpenAIServer(t)
	bad.SetDefault(providertest.Behavior{Status: 401})
	missing := providertest.NewOpenAIServer(t)
	missing.SetDefault(providertest.Behavior{Status: 404, ErrorCode: "model_not_found"})
	c := newCLI(t, map[string]string{
		"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": ok.URL(),
		"GROQ_API_KEY": "gsk-1", "GROQ_BASE_URL": bad.URL(),
		"TOGETHER_API_KEY": "tg-1", "TOGETHER_BASE_URL": missing.URL(),
	})
	code := c.run(context.Background(), "providers", "check", "-m", "openai:gpt-4o-mini", "-m", "groq:llama-3.3-70b-versatile", "-m", "together:no-such-model")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailure, c.stdout.String(), c.stderr.String())
	}
	out := c.stdout.String()
	for _, want := range []string{
		"✓ openai:gpt-4o-mini: answered as gpt-4o-mini",
		"✗ groq:llama-3.3-70b-versatile: the key was refused",
		"✗ together:no-such-model: unknown model or deployment name",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if ok.Count() != 1 || bad.Count() != 1 || missing.Count() != 1 {
		t.Errorf("requests %d/%d/%d, want one each (no retries for a check)", ok.Count(), bad.Count(), missing.Count())
	}
	// A missing key is a configuration error before any call.
	c = newCLI(t, nil)
	if code := c.run(context.Background(), "providers", "check", "-m", "openai:gpt-4o-mini"); code != exitUsage || !strings.Contains(c.stderr.String(), "OPENAI_API_KEY is not set") {
		t.Errorf("missing key: exit %d\n%s", code, c.stderr.String())
	}
}
