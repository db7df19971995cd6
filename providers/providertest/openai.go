package providertest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// OpenAIServer is an httptest fake of the OpenAI chat completions API as
// documented at platform.openai.com/docs/api-reference/chat:
//
//   - POST {prefix}/chat/completions for any prefix (URL() gives ".../v1"),
//     and Azure OpenAI's POST
//     /openai/deployments/{deployment}/chat/completions?api-version=…
//     (a missing api-version is answered 404, as Azure does);
//   - JSON answers of object "chat.completion" with usage;
//   - with "stream": true, server-sent events "data: {chunk}\n\n" of object
//     "chat.completion.chunk" (a first role-only delta, one delta per word,
//     a final delta with finish_reason), a usage chunk with empty choices
//     when stream_options.include_usage is set, then "data: [DONE]";
//   - errors as {"error":{"message","type","param","code"}} with the
//     status's typical type and code.
//
// It is safe for concurrent use. Unless WithoutRecording is given it keeps
// every request in memory.
type OpenAIServer struct {
	fake
	apiKey string

	// interrupt emulates llama-cpp-python's interrupt_requests (see
	// WithInterruptRequests).
	interrupt bool
	genMu     sync.Mutex   // one generation at a time, as the server's lock
	waiting   atomic.Int64 // streamed requests waiting for genMu
}

// WithInterruptRequests makes the server behave as llama-cpp-python's with
// its default interrupt_requests: streamed answers are generated one at a
// time, and a running stream is ended with "data: [DONE]" — no finish
// reason — as soon as another streamed request is waiting.
func WithInterruptRequests() OpenAIOption {
	return func(s *OpenAIServer) { s.interrupt = true }
}

// OpenAIOption configures NewOpenAIServer.
type OpenAIOption func(*OpenAIServer)

// WithResponder answers requests whose behaviour has no Text with f(req).
func WithResponder(f Responder) OpenAIOption {
	return func(s *OpenAIServer) { s.responder = f }
}

// WithDefault sets the behaviour of requests beyond the script (for
// example a fixed Delay to emulate latency).
func WithDefault(b Behavior) OpenAIOption {
	return func(s *OpenAIServer) { s.def = b }
}

// WithAPIKey makes the server demand key ("Authorization: Bearer key", or
// Azure's "api-key: key") and answer 401 invalid_api_key otherwise.
func WithAPIKey(key string) OpenAIOption {
	return func(s *OpenAIServer) { s.apiKey = key }
}

// WithoutRecording keeps counts but not request bodies, for benchmarks with
// many requests.
func WithoutRecording() OpenAIOption {
	return func(s *OpenAIServer) { s.noRecord = true }
}

// NewOpenAIServer starts a fake. When tb is not nil it is closed by
// tb.Cleanup; otherwise call Close.
func NewOpenAIServer(tb testing.TB, opts ...OpenAIOption) *OpenAIServer {
	return newFake(tb, &OpenAIServer{}, opts)
}

// URL returns the base URL an OpenAI client should use: the server's root
// followed by /v1.
func (s *OpenAIServer) URL() string { return s.srv.URL + "/v1" }

// Endpoint returns the server's root URL, the endpoint an Azure OpenAI
// client should use.
func (s *OpenAIServer) Endpoint() string { return s.srv.URL }

// openAIRequest is the part of the chat completions request body the fake
// reads.
type openAIRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Seed                *int64          `json:"seed"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

// decodeOpenAI fills w's decoded fields from its body.
func decodeOpenAI(w *WireRequest) error {
	var r openAIRequest
	if err := json.Unmarshal(w.Body, &r); err != nil {
		return err
	}
	w.Model = r.Model
	for i, m := range r.Messages {
		images, err := contentImages(m.Content)
		if err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
		w.Messages = append(w.Messages, providers.Message{Role: m.Role, Content: contentText(m.Content), Images: images})
	}
	w.Temperature, w.TopP, w.Seed = r.Temperature, r.TopP, r.Seed
	w.MaxTokens = r.MaxTokens
	if r.MaxCompletionTokens != nil {
		w.MaxTokens = r.MaxCompletionTokens
	}
	if len(r.Stop) > 0 && string(r.Stop) != "null" {
		var one string
		if json.Unmarshal(r.Stop, &one) == nil {
			w.Stop = []string{one}
		} else if err := json.Unmarshal(r.Stop, &w.Stop); err != nil {
			return fmt.Errorf("stop: %w", err)
		}
	}
	w.Stream = r.Stream
	w.StreamUsage = r.StreamOptions != nil && r.StreamOptions.IncludeUsage
	if rf := r.ResponseFormat; rf != nil && rf.Type == "json_schema" && rf.JSONSchema != nil {
		w.JSONSchema = rf.JSONSchema.Schema
	}
	return nil
}

// contentText returns a message content that is either a string or an
// array of parts as plain text.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// contentImages decodes the image_url parts of a multi-part content, which
// must hold base64 data URLs (the fake fetches no http URLs), as the chat
// completions API documents: {"type":"image_url","image_url":{"url":
// "data:image/png;base64,..."}}.
func contentImages(raw json.RawMessage) ([]providers.Image, error) {
	var parts []struct {
		Type     string `json:"type"`
		ImageURL *struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return nil, nil // string content
	}
	var out []providers.Image
	for j, p := range parts {
		switch p.Type {
		case "text":
		case "image_url":
			if p.ImageURL == nil {
				return nil, fmt.Errorf("content[%d].image_url: missing", j)
			}
			im, err := decodeDataURL(p.ImageURL.URL)
			if err != nil {
				return nil, fmt.Errorf("content[%d].image_url.url: %w", j, err)
			}
			out = append(out, im)
		default:
			return nil, fmt.Errorf("content[%d].type: unknown part type %q", j, p.Type)
		}
	}
	return out, nil
}

// decodeDataURL decodes "data:<mime>;base64,<data>".
func decodeDataURL(u string) (providers.Image, error) {
	rest, ok := strings.CutPrefix(u, "data:")
	meta, data, ok2 := strings.Cut(rest, ",")
	mime, ok3 := strings.CutSuffix(meta, ";base64")
	if !ok || !ok2 || !ok3 || !strings.HasPrefix(mime, "image/") {
		return providers.Image{}, fmt.Errorf("not a base64 image data URL")
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return providers.Image{}, fmt.Errorf("invalid base64 image data: %w", err)
	}
	return providers.Image{MIMEType: mime, Data: b}, nil
}

func (s *OpenAIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(s, w, r) }

func (s *OpenAIServer) decode(r *http.Request, wr *WireRequest) func(http.ResponseWriter) {
	azure := strings.HasPrefix(r.URL.Path, "/openai/deployments/")
	if azure {
		rest := strings.TrimPrefix(r.URL.Path, "/openai/deployments/")
		wr.Deployment, _, _ = strings.Cut(rest, "/")
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		return func(w http.ResponseWriter) {
			writeOpenAIError(w, http.StatusNotFound, "invalid_request_error", "", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
		}
	}
	if azure && wr.Query.Get("api-version") == "" {
		return func(w http.ResponseWriter) { writeOpenAIError(w, http.StatusNotFound, "", "404", "Resource not found") }
	}
	if s.apiKey != "" {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if azure {
			got = r.Header.Get("api-key")
		}
		if got != s.apiKey {
			return func(w http.ResponseWriter) {
				writeOpenAIError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
			}
		}
	}
	if err := decodeOpenAI(wr); err != nil {
		return func(w http.ResponseWriter) {
			writeOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request. ("+err.Error()+")")
		}
	}
	return nil
}

func (s *OpenAIServer) writeError(w http.ResponseWriter, b Behavior, wr WireRequest) {
	typ, code, msg := openAIErrorFor(b, wr)
	writeOpenAIError(w, b.Status, typ, code, msg)
}

func (s *OpenAIServer) contentType() string { return "application/json" }

func openAIID(rp reply) string { return fmt.Sprintf("chatcmpl-fake%d", rp.seq) }

func (s *OpenAIServer) body(rp reply, malformed bool) []byte {
	id := openAIID(rp)
	if malformed {
		return []byte(`{"id": "` + id + `", "object": "chat.completion", "choices": [ oops ]}`)
	}
	out, _ := json.Marshal(map[string]any{
		"id":      id,
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   rp.model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": rp.text, "refusal": nil},
			"logprobs":      nil,
			"finish_reason": rp.finish,
		}},
		"usage":              openAIUsage(rp.usage),
		"system_fingerprint": "fp_fake",
	})
	return out
}

func openAIUsage(u providers.Usage) map[string]any {
	return map[string]any{
		"prompt_tokens":     u.InputTokens,
		"completion_tokens": u.OutputTokens,
		"total_tokens":      u.InputTokens + u.OutputTokens,
		"prompt_tokens_details": map[string]any{
			"cached_tokens": u.CachedInputTokens,
			"audio_tokens":  0,
		},
		"completion_tokens_details": map[string]any{
			"reasoning_tokens":           0,
			"audio_tokens":               0,
			"accepted_prediction_tokens": 0,
			"rejected_prediction_tokens": 0,
		},
	}
}

func (s *OpenAIServer) stream(w http.ResponseWriter, r *http.Request, b Behavior, rp reply) {
	w.Header().Set("Cache-Control", "no-cache")
	e := openStream(w, "text/event-stream", "data: ", "\n\n")
	if b.Malformed {
		e.malformed()
		return
	}
	if b.RawStream != "" {
		e.raw(b.RawStream)
		return
	}
	if s.interrupt {
		s.waiting.Add(1)
		s.genMu.Lock()
		s.waiting.Add(-1)
		defer s.genMu.Unlock()
	}
	id, created, streamUsage := openAIID(rp), time.Now().Unix(), rp.wr.StreamUsage && !b.NoStreamUsage
	event := func(choices []any, withUsage bool) map[string]any {
		ev := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": rp.model,
			"system_fingerprint": "fp_fake", "choices": choices,
		}
		if streamUsage {
			ev["usage"] = nil
			if withUsage {
				ev["usage"] = openAIUsage(rp.usage)
			}
		}
		return ev
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}
	}
	if !e.send(event(delta(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil), false)) {
		return
	}
	content := func(c string) any { return event(delta(map[string]any{"content": c}, nil), false) }
	if s.interrupt {
		// llama-cpp-python checks after each chunk whether another request
		// waits for the model, and if so ends the stream.
		for i, c := range chunks(rp.text) {
			if i > 0 && !wait(r, b.ChunkDelay) {
				return
			}
			if !e.send(content(c)) {
				return
			}
			if s.waiting.Load() > 0 {
				e.raw("data: [DONE]\n\n")
				return
			}
		}
	} else if !e.chunks(r, b, chunks(rp.text), content) {
		return
	}
	if b.EndWithoutFinish {
		e.raw("data: [DONE]\n\n")
		return
	}
	if !e.send(event(delta(map[string]any{}, rp.finish), false)) {
		return
	}
	if streamUsage && !e.send(event([]any{}, true)) {
		return
	}
	e.raw("data: [DONE]\n\n")
}

// openAIErrorFor returns the error type, code and message OpenAI sends for
// b's status, overridden by b's fields.
func openAIErrorFor(b Behavior, wr WireRequest) (typ, code, msg string) {
	switch b.Status {
	case http.StatusBadRequest:
		typ, msg = "invalid_request_error", "Invalid value for 'messages'."
	case http.StatusUnauthorized:
		typ, code, msg = "invalid_request_error", "invalid_api_key", "Incorrect API key provided."
	case http.StatusForbidden:
		typ, code, msg = "invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported"
	case http.StatusNotFound:
		typ, code, msg = "invalid_request_error", "model_not_found", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", wr.Model)
	case http.StatusTooManyRequests:
		typ, code, msg = "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."
	case http.StatusServiceUnavailable:
		typ, msg = "server_error", "The server is overloaded or not ready yet."
	default:
		typ, msg = "server_error", "The server had an error while processing your request. Sorry about that!"
	}
	if b.ErrorType != "" {
		typ = b.ErrorType
	}
	if b.ErrorCode != "" {
		code = b.ErrorCode
	}
	if b.ErrorMessage != "" {
		msg = b.ErrorMessage
	}
	return typ, code, msg
}

// writeOpenAIError writes {"error":{...}}; an empty code or type is null.
func writeOpenAIError(w http.ResponseWriter, status int, typ, code, msg string) {
	e := map[string]any{"message": msg, "type": nil, "param": nil, "code": nil}
	if typ != "" {
		e["type"] = typ
	}
	if code != "" {
		e["code"] = code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}
