// Package providers is Yardstick's shared protocol for hosted and local language
// models: the Provider interface, the Request a benchmark sends, the Response
// and typed Usage it gets back, and the single *Error type every adapter returns.
//
// Adapters (providers/openai, providers/gemini, providers/ollama, finetune/torch)
// convert to and from their SDK's types and nothing more; each HTTP exchange
// they make is bounded by Bounds (timeouts, response size). Retries, rate
// limits, caching, the circuit breaker, secret redaction and local token
// counting are decorators defined here and composed once, by the caller
// (providers/registry).
//
// This package knows nothing of suites, scoring or reports.
package providers

import (
	"context"
	"encoding/json"
	"time"
)

// Message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a chat prompt: its text and, for models that read
// images, the images that follow the text in the turn. A text-only message
// has no Images and is sent exactly as before.
type Message struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Images  []Image `json:"images,omitempty"`
}

// Image is one image part of a message: its MIME type (image/png,
// image/jpeg, image/gif or image/webp) and its encoded bytes, sent as-is.
type Image struct {
	MIMEType string `json:"mime_type"`
	Data     []byte `json:"data"`
}

// HasImages reports whether any message of req carries an image.
func (r *Request) HasImages() bool {
	for _, m := range r.Messages {
		if len(m.Images) > 0 {
			return true
		}
	}
	return false
}

// Request is one generation request. Pointer knobs distinguish "unset" (nil:
// the provider's default) from a meaningful zero: a Temperature of 0 must reach
// the API.
type Request struct {
	Model       string          `json:"model"`
	System      string          `json:"system,omitempty"`
	Messages    []Message       `json:"messages"`
	MaxTokens   int             `json:"max_tokens,omitempty"` // 0: provider default
	Temperature *float64        `json:"temperature,omitempty"`
	TopP        *float64        `json:"top_p,omitempty"`
	Seed        *int64          `json:"seed,omitempty"`
	Stop        []string        `json:"stop,omitempty"`
	JSONSchema  json.RawMessage `json:"json_schema,omitempty"` // ask for JSON output matching this schema
}

// Usage is token accounting with one set of names across providers.
type Usage struct {
	InputTokens       int `json:"input_tokens"`
	CachedInputTokens int `json:"cached_input_tokens,omitempty"` // part of InputTokens served from the provider's prompt cache
	OutputTokens      int `json:"output_tokens"`
	// Estimated reports that the server reported no usage and the counts
	// were made locally (see CountUsage): approximate, not what is billed.
	Estimated bool `json:"estimated,omitempty"`
}

// Total is input plus output tokens.
func (u Usage) Total() int { return u.InputTokens + u.OutputTokens }

// Add returns the element-wise sum of u and v; the sum is Estimated when
// either part is.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:       u.InputTokens + v.InputTokens,
		CachedInputTokens: u.CachedInputTokens + v.CachedInputTokens,
		OutputTokens:      u.OutputTokens + v.OutputTokens,
		Estimated:         u.Estimated || v.Estimated,
	}
}

// Response is a completed generation.
type Response struct {
	Text         string `json:"text"`
	FinishReason string `json:"finish_reason,omitempty"` // normalised: stop, length, content_filter, tool_calls, or the provider's own word
	Model        string `json:"model,omitempty"`         // the model that actually answered, as the provider reports it
	Usage        Usage  `json:"usage"`
	// TTFT is the time to the first content token; zero unless the response was streamed.
	TTFT time.Duration `json:"ttft_ns,omitempty"`
	// Cached reports that a caching decorator served this response without a call.
	Cached bool `json:"cached,omitempty"`
	// Attempts is how many provider calls the Retry decorator made for this
	// response, retries included; 0 when no Retry decorator was involved or the
	// response was served from the cache.
	Attempts int `json:"attempts,omitempty"`
	// LastAttempt is the duration of the successful call alone, set by the
	// Retry decorator: the model's latency without earlier failed attempts
	// and backoff waits. Zero when no Retry decorator was involved.
	LastAttempt time.Duration `json:"last_attempt_ns,omitempty"`
	// Original is, on a cache hit, the timing of the call that answered.
	Original *Original `json:"original,omitempty"`
}

// Chunk is one increment of a streamed response.
type Chunk struct {
	Text string
	// Restart reports that the stream started over (the Retry decorator
	// retrying a stream the server cut short): the text of the chunks
	// delivered before this one is void, and this chunk's Text begins the
	// answer anew.
	Restart bool
}

// Provider generates a response for a request. Implementations are safe for
// concurrent use and keep no per-call state. Every failure is returned as a
// *Error so callers can classify it with errors.As.
type Provider interface {
	Generate(ctx context.Context, req *Request) (*Response, error)
}

// Streamer is an optional capability, found by type assertion. Stream calls fn
// for each chunk as it arrives (an error from fn aborts the stream and is
// returned) and returns the assembled Response with TTFT set.
type Streamer interface {
	Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error)
}

// Float64 returns a pointer to v, for Request's optional knobs.
func Float64(v float64) *float64 { return &v }

// Int64 returns a pointer to v, for Request's optional knobs.
func Int64(v int64) *int64 { return &v }
