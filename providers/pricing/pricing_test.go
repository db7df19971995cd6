package pricing_test

import (
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/pricing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		provider, model string
		want            float64 // InputPerM; -1: not found
	}{
		{"openai", "gpt-4o-mini", 0.15},
		{"openai", "gpt-4o-mini-2024-07-18", 0.15},
		{"openai", "gpt-4o-2024-08-06", 2.50},
		{"openai", "GPT-4o-Mini", 0.15},
		{"openai", "gpt-4-0613", 30.00},
		{"openai", "gpt-4-turbo-2024-04-09", 10.00},
		{"openai", "o3-mini-2025-01-31", 1.10},
		{"openai", "gpt-4o-mini-audio-preview", -1},
		{"openai", "gpt-4o-realtime", -1},
		{"openai", "unknown-model", -1},
		{"azure", "gpt-4o", 2.50},
		{"gemini", "gemini-2.0-flash-001", 0.10},
		{"gemini", "gemini-1.5-flash-latest", 0.075},
		{"gemini", "gemini-1.5-flash-8b", 0.0375},
		{"gemini", "gemini-1.5-flash-8b-001", 0.0375},
		{"vertex", "gemini-2.5-pro", 1.25},
		{"groq", "llama-3.3-70b-versatile", 0.59},
		{"together", "meta-llama/llama-3.3-70b-instruct-turbo", 0.88},
		{"ollama", "llama3.2", -1},
		{"vllm", "gpt-4o-mini", -1},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model, func(t *testing.T) {
			got, ok := pricing.Lookup(tt.provider, tt.model)
			if tt.want < 0 {
				if ok {
					t.Errorf("found %+v, want none", got)
				}
				return
			}
			if !ok || got.InputPerM != tt.want {
				t.Errorf("got %+v ok=%v, want input %v", got, ok, tt.want)
			}
		})
	}
}

func TestTableSane(t *testing.T) {
	for prov, models := range pricing.Default {
		for m, p := range models {
			if p.InputPerM <= 0 || p.OutputPerM <= 0 || p.CachedInputPerM < 0 || p.CachedInputPerM > p.InputPerM {
				t.Errorf("%s/%s: implausible price %+v", prov, m, p)
			}
		}
	}
}

func TestMerge(t *testing.T) {
	over := pricing.Table{
		"openai": {"GPT-4o-mini": {InputPerM: 1, OutputPerM: 2}},
		"local":  {"my-model": {InputPerM: 0.01, OutputPerM: 0.01}},
	}
	m := pricing.Default.Merge(over)
	if p, _ := m.Lookup("openai", "gpt-4o-mini-2024-07-18"); p.InputPerM != 1 {
		t.Errorf("override not applied: %+v", p)
	}
	if p, ok := m.Lookup("local", "my-model"); !ok || p.OutputPerM != 0.01 {
		t.Errorf("new provider not added: %+v", p)
	}
	if p, _ := m.Lookup("openai", "gpt-4o"); p.InputPerM != 2.50 {
		t.Errorf("untouched entry lost: %+v", p)
	}
	if p, _ := pricing.Lookup("openai", "gpt-4o-mini"); p.InputPerM != 0.15 {
		t.Errorf("Merge modified Default: %+v", p)
	}
	cost := providers.Price{InputPerM: 0.15, OutputPerM: 0.60}.Cost(providers.Usage{InputTokens: 1_000_000, OutputTokens: 500_000})
	if cost != 0.45 {
		t.Errorf("cost = %v", cost)
	}
}
