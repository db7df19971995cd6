package estimate

import (
	"strings"

	"github.com/yardstick-eval/yardstick/providers"
)

// Chat framing, as OpenAI documents it for its chat models (OpenAI Cookbook,
// "How to count tokens with tiktoken", num_tokens_from_messages; the cookbook's
// example prompt counts 129 tokens for gpt-3.5-turbo-0613 and gpt-4 and 124
// for gpt-4o and gpt-4o-mini, matching the API's prompt_tokens):
//
//	prompt tokens = Σ over messages (TokensPerMessage + tokens(role) + tokens(content)) + ReplyPriming
//
// OpenAI notes the framing may change between models; for models outside its
// list the formula is an approximation. Yardstick applies it to every model,
// so for Gemini, Llama and the rest it is part of the approximation (Llama 3's
// template, for instance, spends 4 framing tokens a message, not 3).
const (
	// TokensPerMessage frames each message: <|start|>{role}<|message|>…<|end|>
	// (the role's own tokens are counted separately).
	TokensPerMessage = 3
	// ReplyPriming is added once per request: every reply is primed with
	// <|start|>assistant<|message|>.
	ReplyPriming = 3
)

// Method names reported in Row.Method.
const (
	MethodO200K       = "tiktoken o200k_base"
	MethodCL100K      = "tiktoken cl100k_base"
	MethodApproxO200K = "approx o200k_base"
	MethodApproxCL100 = "approx cl100k_base"
	MethodApproxBytes = "approx bytes/4"
)

// Tokenizer counts tokens offline for one model. Exact (Approximate false)
// only for OpenAI models with a known encoding; for every other model it is
// one of these documented approximations:
//
//   - Llama 3.x (llama3*, llama-3*, Meta-Llama-3*): cl100k_base. Llama 3's
//     128k-token vocabulary is cl100k_base's 100k tokens plus 28k more,
//     mostly for non-English text, with a near-identical split regex; counts
//     are typically equal for English and code and run high for other
//     languages. Expected error: within a few percent for English.
//   - Llama 4, gpt-oss (o200k_harmony: o200k_base's ranks plus special
//     tokens; the server's chat template adds a system preamble not counted
//     here), Gemini and Gemma (a 256k SentencePiece vocabulary that is not
//     available offline in Go), and any unrecognised model on an OpenAI,
//     Azure (deployment names are free-form) or Gemini provider: o200k_base,
//     itself a ~200k-token multilingual vocabulary. Not measured against
//     those tokenizers here; expect roughly ±10–20% on English prose, more on
//     code and non-Latin scripts.
//   - anything else (Ollama, vLLM, llama.cpp and other hosts serving models
//     of unknown tokenizer, the local fine-tune): ⌈UTF-8 bytes / 4⌉ per text,
//     the "about 4 characters a token" rule both OpenAI and Google publish
//     for English. Counting bytes rather than characters makes non-Latin
//     scripts cost more, as real tokenizers do. Expect ±25% on English prose
//     (under-counts for small 32k vocabularies such as Llama 2 or Mistral,
//     over-counts indented code) and a factor of up to 2 on other scripts.
//
// A Tokenizer is immutable and safe for concurrent use.
type Tokenizer struct {
	method string
	approx bool
	enc    *bpe // nil: bytes/4
}

// ForModel returns the tokenizer for model as served by provider (the adapter
// or preset name: "openai", "azure", "gemini", "vertex", "ollama", "groq",
// "together", …). Model names are matched case-insensitively after dropping
// a path ("meta-llama/…", "models/…"), an Ollama tag (":8b") and a
// fine-tune wrapper ("ft:gpt-4o-mini-2024-07-18:org::id"); dated snapshots
// ("gpt-4o-2024-08-06", "gpt-3.5-turbo-0125") match their family.
//
// The first call for an encoding loads its ranks from the binary (a few
// hundred milliseconds); the error reports a broken embedded file and
// nothing else, since nothing is read from the network or disk.
func ForModel(provider, model string) (*Tokenizer, error) {
	m := normalizeModel(model)
	enc, exact := openAIEncoding(m)
	if enc == "" {
		enc = proxyEncoding(strings.ToLower(provider), m)
	}
	if enc == "" {
		return &Tokenizer{method: MethodApproxBytes, approx: true}, nil
	}
	b, err := loadBPE(enc)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{enc: b, approx: !exact}
	switch {
	case enc == O200KBase && exact:
		t.method = MethodO200K
	case enc == O200KBase:
		t.method = MethodApproxO200K
	case exact:
		t.method = MethodCL100K
	default:
		t.method = MethodApproxCL100
	}
	return t, nil
}

// Method names how the tokenizer counts, e.g. "tiktoken o200k_base" or
// "approx bytes/4" (one of the Method* constants).
func (t *Tokenizer) Method() string { return t.method }

// Approximate reports that counts are an approximation of the model's own
// tokenizer rather than that tokenizer.
func (t *Tokenizer) Approximate() bool { return t.approx }

// Count returns the number of tokens in text, with no chat framing. Text that
// looks like a special token ("<|endoftext|>") counts as ordinary text.
func (t *Tokenizer) Count(text string) int {
	if t.enc == nil {
		return (len(text) + 3) / 4
	}
	return t.enc.count(text)
}

// CountMessages returns the prompt tokens of a chat: system (when not empty)
// as a first "system" message, then msgs, framed as documented on
// TokensPerMessage and ReplyPriming.
func (t *Tokenizer) CountMessages(system string, msgs []providers.Message) int {
	return chatTokens(system, msgs, nil, t.Count)
}

// CountRequest returns the input tokens of r: CountMessages plus, when r asks
// for JSON output, the tokens of its schema text. How providers render a
// schema into the prompt is undocumented, so that part is always approximate.
func (t *Tokenizer) CountRequest(r *providers.Request) int {
	return chatTokens(r.System, r.Messages, r.JSONSchema, t.Count)
}

// chatTokens is the framing formula, with count counting one text.
func chatTokens(system string, msgs []providers.Message, schema []byte, count func(string) int) int {
	n := ReplyPriming
	if system != "" {
		n += TokensPerMessage + count(providers.RoleSystem) + count(system)
	}
	for _, m := range msgs {
		n += TokensPerMessage + count(m.Role) + count(m.Content)
	}
	if len(schema) > 0 {
		n += count(string(schema))
	}
	return n
}

// normalizeModel lower-cases model and strips what does not name the model
// family: a fine-tune wrapper, a path and an Ollama tag.
func normalizeModel(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if rest, ok := strings.CutPrefix(m, "ft:"); ok { // ft:BASE:org:suffix:id
		m, _, _ = strings.Cut(rest, ":")
	}
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if i := strings.IndexByte(m, ':'); i >= 0 { // llama3.2:3b
		m = m[:i]
	}
	return m
}

// openAIModels and openAIPrefixes follow Python tiktoken 0.14's
// MODEL_TO_ENCODING and MODEL_PREFIX_TO_ENCODING for chat models (a prefix
// covers dated snapshots and variants: gpt-4o-2024-08-06, gpt-4.1-mini,
// o3-mini, gpt-5-nano). github.com/pkoukk/tiktoken-go v0.1.8's own table
// lacks the o-series, gpt-5, chatgpt-4o and Azure's gpt-35-turbo.
var (
	openAIModels = map[string]string{
		"o1": O200KBase, "o3": O200KBase, "o4-mini": O200KBase,
		"gpt-5": O200KBase, "gpt-4.5": O200KBase, "gpt-4.1": O200KBase, "gpt-4o": O200KBase,
		"gpt-4": CL100KBase, "gpt-3.5-turbo": CL100KBase, "gpt-3.5": CL100KBase, "gpt-35-turbo": CL100KBase,
	}
	openAIPrefixes = []struct{ prefix, enc string }{
		{"o1-", O200KBase}, {"o3-", O200KBase}, {"o4-mini-", O200KBase},
		{"gpt-5", O200KBase}, // gpt-5-mini, gpt-5.1, gpt-5-2025-08-07
		{"gpt-4.5-", O200KBase}, {"gpt-4.1-", O200KBase},
		{"chatgpt-4o-", O200KBase}, {"gpt-4o-", O200KBase},
		{"gpt-4-", CL100KBase}, // gpt-4-0613, gpt-4-turbo, gpt-4-32k
		{"gpt-3.5-turbo-", CL100KBase}, {"gpt-35-turbo-", CL100KBase},
	}
)

// openAIEncoding returns the encoding of a known OpenAI model, exact; other
// OpenAI-looking names get o200k_base, not exact.
func openAIEncoding(m string) (enc string, exact bool) {
	if e, ok := openAIModels[m]; ok {
		return e, true
	}
	for _, p := range openAIPrefixes {
		if strings.HasPrefix(m, p.prefix) {
			return p.enc, true
		}
	}
	if strings.HasPrefix(m, "gpt-") || strings.HasPrefix(m, "chatgpt-") || isOSeries(m) {
		return O200KBase, false // gpt-oss, and OpenAI models newer than this table
	}
	return "", false
}

// isOSeries matches o<digits> or o<digits>-…: o1, o3-pro, o5-mini.
func isOSeries(m string) bool {
	if len(m) < 2 || m[0] != 'o' {
		return false
	}
	i := 1
	for i < len(m) && '0' <= m[i] && m[i] <= '9' {
		i++
	}
	return i > 1 && (i == len(m) || m[i] == '-')
}

// proxyEncoding picks the approximating encoding for a model that is not
// OpenAI's: "" means bytes/4.
func proxyEncoding(provider, m string) string {
	llama := strings.TrimPrefix(m, "meta-")
	switch {
	case strings.HasPrefix(llama, "llama3"), strings.HasPrefix(llama, "llama-3"):
		return CL100KBase
	case strings.HasPrefix(llama, "llama4"), strings.HasPrefix(llama, "llama-4"):
		return O200KBase
	case strings.HasPrefix(m, "gemini"), strings.HasPrefix(m, "gemma"):
		return O200KBase
	}
	switch provider {
	case "openai", "azure", "gemini", "vertex":
		return O200KBase
	}
	return ""
}
