package estimate

import (
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// Defaults used when Config fields are zero.
const (
	// DefaultMaxTokens is the output-token ceiling assumed for a case that
	// sets no max_tokens. It is an assumption, not an API limit: OpenAI's
	// default is the rest of the context window, Gemini 2.5's is 65,536 and
	// Ollama's is unlimited, so a run without max_tokens has no true bound.
	DefaultMaxTokens = 4096
	// AnswerOverhead is added to the expected answer's token count to make a
	// case's likely output: a one-token allowance for the end-of-turn token
	// some servers count as output. A convention, not a measurement; models
	// often answer at more length than a reference answer.
	AnswerOverhead = 1
)

// Config tunes an Estimator. The zero value is usable; see DefaultConfig.
type Config struct {
	// Repeats is how many times each case runs per target; ≤ 0 means 1.
	Repeats int
	// DefaultMaxTokens replaces a case's unset (0) max_tokens in OutputMax;
	// ≤ 0 means the package's DefaultMaxTokens.
	DefaultMaxTokens int
}

// DefaultConfig returns the configuration the zero Config stands for.
func DefaultConfig() Config {
	return Config{Repeats: 1, DefaultMaxTokens: DefaultMaxTokens}
}

// Target is one model to estimate for.
type Target struct {
	Name     string           // display name, e.g. "openai:gpt-4o-mini"
	Model    string           // model name sent in requests (Azure: the deployment)
	Provider string           // adapter or preset: openai, azure, gemini, ollama, groq, together, …
	Price    *providers.Price // nil: cost unknown
}

// Row is the estimate for one target over every case added. Token counts are
// totals over cases × repeats. Input counts are exact when Approximate is
// false; output counts are estimates whatever the tokenizer, and reasoning
// models (o-series, gpt-5, Gemini 2.5 thinking) also bill hidden reasoning
// tokens as output, which OutputLikely cannot see (OutputMax bounds them only
// where max_tokens caps reasoning, as OpenAI's max_completion_tokens does).
// Cached-input discounts are not assumed: costs price every input token at
// the uncached rate.
type Row struct {
	Target   string `json:"target"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Cases    int    `json:"cases"`    // cases added
	Requests int    `json:"requests"` // cases × repeats

	InputTokens int `json:"input_tokens"` // chat-framed prompt tokens, JSON schemas and images included
	// ImageTokens is the part of InputTokens counted for case images, by
	// the provider's documented rule (OpenAI: 85 + 170 per 512px tile at
	// high detail; Gemini: 258 per image up to 384px, else per 768px tile).
	// Providers without a documented rule (Ollama, local models) are
	// counted with OpenAI's and marked Approximate.
	ImageTokens int `json:"image_tokens,omitempty"`
	// OutputLikely sums, per case, min(expected answer tokens + AnswerOverhead,
	// the case's max), or the max for a case with no expected answer
	// (counted in LikelyAtMax).
	OutputLikely int `json:"output_likely_tokens"`
	// OutputMax sums the cases' max_tokens, DefaultMaxTokens (Config) for
	// cases that set none (counted in DefaultMax).
	OutputMax   int `json:"output_max_tokens"`
	LikelyAtMax int `json:"likely_at_max,omitempty"` // cases without an expected answer
	DefaultMax  int `json:"default_max,omitempty"`   // cases without max_tokens

	CostLikely *float64 `json:"cost_likely_usd,omitempty"` // US dollars; nil when Price is nil
	CostMax    *float64 `json:"cost_max_usd,omitempty"`    // US dollars; nil when Price is nil

	// Approximate reports that InputTokens is an approximation: the
	// tokenizer stands in for the model's own (see Tokenizer), or some case
	// carried a JSON schema, whose prompt rendering is undocumented, or an
	// image with no documented rule or unreadable size. Reports
	// should show such counts with "≈".
	Approximate bool   `json:"approximate"`
	Method      string `json:"method"` // how tokens were counted: one of the Method* constants
}

// Estimator accumulates token and cost estimates over a stream of cases, one
// Row per target, without calling any provider or the network. Each distinct
// tokenizer counts a case once however many targets share it, and repeated
// texts (a suite's system prompt, few-shot turns) are counted once.
//
// An Estimator is not safe for concurrent use: call Add from one goroutine.
type Estimator struct {
	cfg     Config
	targets []targetState
	toks    []*tokState // distinct tokenizers
}

type targetState struct {
	row    Row
	price  *providers.Price // copied from the Target
	tok    int              // index in toks
	images imageRule        // how the target's provider counts image tokens
}

type tokState struct {
	t      *Tokenizer
	cache  map[string]int // text → tokens, for texts worth remembering
	cached int            // bytes of text in cache
	limit  int            // bytes of text the cache may hold: maxCachedBytes
	// this case's counts
	input, expected int
}

// Cache limits: texts shorter than minCached are cheaper to count than to
// hash; the cache is dropped whole when it would pass maxCachedBytes.
const (
	minCached      = 64
	maxCachedBytes = 8 << 20
)

// New returns an Estimator for targets, in their order. It loads the
// tokenizers the targets need (see ForModel); its error only reports a
// broken embedded rank file.
func New(targets []Target, cfg Config) (*Estimator, error) {
	if cfg.Repeats <= 0 {
		cfg.Repeats = 1
	}
	if cfg.DefaultMaxTokens <= 0 {
		cfg.DefaultMaxTokens = DefaultMaxTokens
	}
	e := &Estimator{cfg: cfg, targets: make([]targetState, len(targets))}
	for i, tg := range targets {
		t, err := ForModel(tg.Provider, tg.Model)
		if err != nil {
			return nil, err
		}
		k := -1
		for j, ts := range e.toks {
			if ts.t.enc == t.enc { // same counting; labels live in the Row
				k = j
				break
			}
		}
		if k < 0 {
			k = len(e.toks)
			e.toks = append(e.toks, &tokState{t: t, cache: map[string]int{}, limit: maxCachedBytes})
		}
		var price *providers.Price
		if tg.Price != nil {
			p := *tg.Price
			price = &p
		}
		e.targets[i] = targetState{tok: k, price: price, images: imageRuleFor(tg.Provider, tg.Model), row: Row{
			Target: tg.Name, Provider: tg.Provider, Model: tg.Model,
			Method: t.method, Approximate: t.approx,
		}}
	}
	return e, nil
}

// Add counts one case for every target, Config.Repeats times. A nil case is
// ignored.
func (e *Estimator) Add(c *bench.Case) {
	if c == nil {
		return
	}
	r := &c.Request
	for _, ts := range e.toks {
		ts.input = chatTokens(r.System, r.Messages, r.JSONSchema, ts.count)
		ts.expected = -1
		if c.Expected != "" {
			ts.expected = ts.count(c.Expected)
		}
	}
	maxOut, defaultMax := r.MaxTokens, r.MaxTokens <= 0
	if defaultMax {
		maxOut = e.cfg.DefaultMaxTokens
	}
	n := e.cfg.Repeats
	for i := range e.targets {
		ts := e.toks[e.targets[i].tok]
		row := &e.targets[i].row
		row.Cases++
		row.Requests += n
		row.InputTokens += n * ts.input
		row.OutputMax += n * maxOut
		likely := maxOut
		if ts.expected >= 0 {
			likely = min(ts.expected+AnswerOverhead, maxOut)
		} else {
			row.LikelyAtMax++
		}
		row.OutputLikely += n * likely
		if defaultMax {
			row.DefaultMax++
		}
		if len(r.JSONSchema) > 0 {
			row.Approximate = true
		}
		if r.HasImages() {
			img, exact := imageTokens(r.Messages, e.targets[i].images)
			row.InputTokens += n * img
			row.ImageTokens += n * img
			row.Approximate = row.Approximate || !exact
		}
	}
}

// Close returns one Row per target, in the order given to New, with costs
// computed from the totals. The Estimator must not be used after Close.
func (e *Estimator) Close() []Row {
	rows := make([]Row, len(e.targets))
	for i, ts := range e.targets {
		row := ts.row
		if ts.price != nil {
			likely := ts.price.Cost(providers.Usage{InputTokens: row.InputTokens, OutputTokens: row.OutputLikely})
			maxCost := ts.price.Cost(providers.Usage{InputTokens: row.InputTokens, OutputTokens: row.OutputMax})
			row.CostLikely, row.CostMax = &likely, &maxCost
		}
		rows[i] = row
	}
	e.targets, e.toks = nil, nil
	return rows
}

// count is Tokenizer.Count, remembering texts of minCached bytes or more
// (but not huge ones, which rarely repeat and would pin memory). Roles are
// short but repeat on every message; they are cached too.
func (ts *tokState) count(s string) int {
	if len(s) < minCached && !isRole(s) || len(s) > ts.limit/16 {
		return ts.t.Count(s)
	}
	if n, ok := ts.cache[s]; ok {
		return n
	}
	n := ts.t.Count(s)
	if ts.cached+len(s) > ts.limit {
		clear(ts.cache)
		ts.cached = 0
	}
	ts.cache[s] = n
	ts.cached += len(s)
	return n
}

func isRole(s string) bool {
	switch s {
	case providers.RoleSystem, providers.RoleUser, providers.RoleAssistant:
		return true
	}
	return false
}
