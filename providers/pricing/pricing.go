// Package pricing is Yardstick's table of model prices, in US dollars per
// million tokens (input, cached input, output), for OpenAI, Gemini and
// LLaMA on hosted OpenAI-compatible services (Groq, Together).
//
// The prices are list prices for the standard (non-batch, non-priority)
// tier and short prompts, as published by each provider at the time of
// writing (2025). Providers change prices and some tier them by prompt
// length, so treat the table as a default: every entry can be overridden
// from the app config (a target's "price", or a Table merged with Merge).
// Self-hosted models (Ollama, vLLM, llama.cpp, the local fine-tune) have no
// entry: their cost is unknown unless configured.
//
// This package does not count tokens or fetch prices from the network.
package pricing

import (
	"regexp"
	"strings"

	"github.com/yardstick-eval/yardstick/providers"
)

// Table maps a provider name ("openai", "gemini", "groq", "together") to
// model names to prices. Model names are matched case-insensitively.
type Table map[string]map[string]providers.Price

// p builds a Price.
func p(in, cachedIn, out float64) providers.Price {
	return providers.Price{InputPerM: in, CachedInputPerM: cachedIn, OutputPerM: out}
}

// Default is the built-in table. Prices as of 2025; override from config.
var Default = Table{
	"openai": {
		"gpt-5":         p(1.25, 0.125, 10.00),
		"gpt-5-mini":    p(0.25, 0.025, 2.00),
		"gpt-5-nano":    p(0.05, 0.005, 0.40),
		"gpt-4.1":       p(2.00, 0.50, 8.00),
		"gpt-4.1-mini":  p(0.40, 0.10, 1.60),
		"gpt-4.1-nano":  p(0.10, 0.025, 0.40),
		"gpt-4o":        p(2.50, 1.25, 10.00),
		"gpt-4o-mini":   p(0.15, 0.075, 0.60),
		"o1":            p(15.00, 7.50, 60.00),
		"o1-mini":       p(1.10, 0.55, 4.40),
		"o3":            p(2.00, 0.50, 8.00),
		"o3-mini":       p(1.10, 0.55, 4.40),
		"o4-mini":       p(1.10, 0.275, 4.40),
		"gpt-4-turbo":   p(10.00, 0, 30.00),
		"gpt-4":         p(30.00, 0, 60.00),
		"gpt-3.5-turbo": p(0.50, 0, 1.50),
	},
	"gemini": {
		"gemini-2.5-pro":        p(1.25, 0.31, 10.00), // prompts ≤ 200k tokens
		"gemini-2.5-flash":      p(0.30, 0.075, 2.50),
		"gemini-2.5-flash-lite": p(0.10, 0.025, 0.40),
		"gemini-2.0-flash":      p(0.10, 0.025, 0.40),
		"gemini-2.0-flash-lite": p(0.075, 0, 0.30),
		"gemini-1.5-pro":        p(1.25, 0.3125, 5.00), // prompts ≤ 128k tokens
		"gemini-1.5-flash":      p(0.075, 0.01875, 0.30),
		"gemini-1.5-flash-8b":   p(0.0375, 0.01, 0.15),
	},
	"groq": {
		"llama-3.3-70b-versatile":                       p(0.59, 0, 0.79),
		"llama-3.1-8b-instant":                          p(0.05, 0, 0.08),
		"meta-llama/llama-4-scout-17b-16e-instruct":     p(0.11, 0, 0.34),
		"meta-llama/llama-4-maverick-17b-128e-instruct": p(0.20, 0, 0.60),
	},
	"together": {
		"meta-llama/Llama-3.3-70B-Instruct-Turbo":           p(0.88, 0, 0.88),
		"meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo":       p(0.18, 0, 0.18),
		"meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo":      p(0.88, 0, 0.88),
		"meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo":     p(3.50, 0, 3.50),
		"meta-llama/Llama-3.2-3B-Instruct-Turbo":            p(0.06, 0, 0.06),
		"meta-llama/Llama-4-Scout-17B-16E-Instruct":         p(0.18, 0, 0.59),
		"meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8": p(0.27, 0, 0.85),
	},
}

// aliases maps provider names that bill like another provider's table.
var aliases = map[string]string{
	"azure":  "openai", // Azure OpenAI's list prices track OpenAI's
	"vertex": "gemini",
}

// Lookup finds the price of model on provider in the Default table; see
// Table.Lookup.
func Lookup(provider, model string) (providers.Price, bool) {
	return Default.Lookup(provider, model)
}

// snapshotSuffix matches what a dated or versioned model name adds to its
// base name: -2024-07-18, -0613, -001, -latest.
var snapshotSuffix = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}|\d{4}|\d{3}|latest)$`)

// Lookup finds the price of model on provider ("azure" uses the "openai"
// prices, "vertex" the "gemini" ones). A model matches an entry exactly or
// as a dated or versioned snapshot of it: gpt-4o-mini-2024-07-18 and
// gemini-2.0-flash-001 find gpt-4o-mini and gemini-2.0-flash, while
// gpt-4o-mini-audio-preview finds nothing (a different product).
func (t Table) Lookup(provider, model string) (providers.Price, bool) {
	provider = strings.ToLower(provider)
	models, ok := t[provider]
	if !ok {
		if a, isAlias := aliases[provider]; isAlias {
			models, ok = t[a]
		}
	}
	if !ok {
		return providers.Price{}, false
	}
	model = strings.ToLower(model)
	best, bestLen := providers.Price{}, -1
	for name, price := range models {
		name = strings.ToLower(name)
		switch {
		case name == model:
			return price, true
		case len(name) > bestLen && strings.HasPrefix(model, name+"-") && snapshotSuffix.MatchString(model[len(name)+1:]):
			best, bestLen = price, len(name)
		}
	}
	return best, bestLen >= 0
}

// Merge returns a new Table holding t's entries overridden and extended by
// over's. Neither input is modified.
func (t Table) Merge(over Table) Table {
	out := make(Table, len(t)+len(over))
	for _, src := range []Table{t, over} {
		for prov, models := range src {
			prov = strings.ToLower(prov)
			if out[prov] == nil {
				out[prov] = make(map[string]providers.Price, len(models))
			}
			for m, price := range models {
				out[prov][strings.ToLower(m)] = price
			}
		}
	}
	return out
}
