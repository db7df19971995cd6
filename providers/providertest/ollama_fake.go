package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// Server timings OllamaServer reports (it does not actually wait them):
// load_duration is OllamaLoadDuration, prompt_eval_duration is
// OllamaPromptEvalPerToken per input token, eval_duration is
// OllamaEvalPerToken per output token, and total_duration is their sum.
const (
	OllamaLoadDuration       = 3 * time.Millisecond
	OllamaPromptEvalPerToken = time.Millisecond
	OllamaEvalPerToken       = 10 * time.Millisecond
)

// OllamaServer is an httptest fake of Ollama's chat API
// (github.com/ollama/ollama/blob/main/docs/api.md):
//
//   - POST /api/chat. "stream" absent or true: an NDJSON stream
//     (application/x-ndjson) of ChatResponse objects, one per word with
//     "done": false, then a final object with empty content, "done": true,
//     done_reason and the counters (prompt_eval_count, eval_count) and
//     timings (see OllamaLoadDuration). "stream": false: that final object
//     alone, with the whole answer, as application/json.
//   - Errors are {"error": "…"} with the status; 404 says "model 'x' not
//     found" (ErrorMessage overrides the text; ErrorCode is unused).
//   - GET /api/version answers {"version": "0.17.4"}; other paths are 404
//     "404 page not found" in plain text, as Ollama's router answers.
//
// Decoding for WireRequest: model, messages, stream, format (as sent, in
// JSONSchema) and options temperature, top_p, seed, num_predict
// (MaxTokens) and stop. It is safe for concurrent use.
type OllamaServer struct {
	recorder
	srv    *httptest.Server
	models []string
}

// OllamaOption configures NewOllamaServer.
type OllamaOption func(*OllamaServer)

// WithOllamaResponder answers requests whose behaviour has no Text with f(req).
func WithOllamaResponder(f Responder) OllamaOption {
	return func(s *OllamaServer) { s.responder = f }
}

// WithOllamaDefault sets the behaviour of requests beyond the script.
func WithOllamaDefault(b Behavior) OllamaOption {
	return func(s *OllamaServer) { s.def = b }
}

// WithOllamaModels makes the server know only these models: a chat with
// any other is answered 404 {"error":"model 'x' not found"}, as by an
// Ollama that has not pulled it. Without it every model exists.
func WithOllamaModels(names ...string) OllamaOption {
	return func(s *OllamaServer) { s.models = names }
}

// WithoutOllamaRecording keeps counts but not request bodies.
func WithoutOllamaRecording() OllamaOption {
	return func(s *OllamaServer) { s.noRecord = true }
}

// NewOllamaServer starts a fake. When tb is not nil it is closed by
// tb.Cleanup; otherwise call Close.
func NewOllamaServer(tb testing.TB, opts ...OllamaOption) *OllamaServer {
	s := &OllamaServer{}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s)
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// URL returns the server's root URL, what OLLAMA_HOST or an api.Client's
// base URL would be.
func (s *OllamaServer) URL() string { return s.srv.URL }

// Client returns an HTTP client for the server.
func (s *OllamaServer) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down, waiting for handlers to return.
func (s *OllamaServer) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// ollamaRequest is the part of a chat request the fake reads.
type ollamaRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream  *bool           `json:"stream"`
	Format  json.RawMessage `json:"format"`
	Options struct {
		Temperature *float64 `json:"temperature"`
		TopP        *float64 `json:"top_p"`
		Seed        *int64   `json:"seed"`
		NumPredict  *int     `json:"num_predict"`
		Stop        []string `json:"stop"`
	} `json:"options"`
}

// decodeOllama fills w's decoded fields from its body.
func decodeOllama(w *WireRequest) error {
	var r ollamaRequest
	if err := json.Unmarshal(w.Body, &r); err != nil {
		return err
	}
	w.Model = r.Model
	for _, m := range r.Messages {
		w.Messages = append(w.Messages, providers.Message{Role: m.Role, Content: m.Content})
	}
	w.Stream = r.Stream == nil || *r.Stream
	o := r.Options
	w.Temperature, w.TopP, w.Seed, w.MaxTokens, w.Stop = o.Temperature, o.TopP, o.Seed, o.NumPredict, o.Stop
	if len(r.Format) > 0 && string(r.Format) != "null" && string(r.Format) != `""` {
		w.JSONSchema = r.Format
	}
	return nil
}

func (s *OllamaServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.enter()()
	body, _ := io.ReadAll(r.Body)
	wr := WireRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}

	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/version":
		s.record(wr)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"version":"0.17.4"}`)
		return
	case r.Method != http.MethodPost || r.URL.Path != "/api/chat":
		s.record(wr)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 page not found")
		return
	}
	if err := decodeOllama(&wr); err != nil {
		s.record(wr)
		writeOllamaError(w, http.StatusBadRequest, "invalid character in request body: "+err.Error())
		return
	}
	s.record(wr)
	if wr.Model == "" {
		writeOllamaError(w, http.StatusBadRequest, "model is required")
		return
	}
	if s.models != nil && !slices.Contains(s.models, wr.Model) {
		writeOllamaError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", wr.Model))
		return
	}

	b := s.next()
	if !wait(r, b.Delay) {
		return
	}
	writeHeaders(w, b)
	switch {
	case b.HTML:
		writeHTML(w, b.Status)
		return
	case b.Status != 0 && (b.Status < 200 || b.Status > 299):
		writeOllamaError(w, b.Status, ollamaErrorFor(b, wr))
		return
	}

	text, finish := s.answer(b, wr)
	model := b.Model
	if model == "" {
		model = wr.Model
	}
	u := usage(b, wr, text)
	if wr.Stream {
		s.stream(w, r, b, model, text, finish, u)
		return
	}
	if b.Malformed {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"model": "`+model+`", "message": oops}`)
		return
	}
	out, _ := json.Marshal(ollamaFinal(model, text, finish, u))
	if b.CutBody {
		cutBody(w, "application/json; charset=utf-8", out)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(out)
}

func ollamaChunk(model, content string) map[string]any {
	return map[string]any{
		"model":      model,
		"created_at": time.Now().UTC().Format(time.RFC3339Nano),
		"message":    map[string]any{"role": "assistant", "content": content},
		"done":       false,
	}
}

// ollamaFinal is the done:true object with counters and timings.
func ollamaFinal(model, content, finish string, u providers.Usage) map[string]any {
	m := ollamaChunk(model, content)
	load := OllamaLoadDuration
	prompt := time.Duration(u.InputTokens) * OllamaPromptEvalPerToken
	eval := time.Duration(u.OutputTokens) * OllamaEvalPerToken
	m["done"] = true
	m["done_reason"] = finish
	m["total_duration"] = int64(load + prompt + eval)
	m["load_duration"] = int64(load)
	m["prompt_eval_count"] = u.InputTokens
	m["prompt_eval_duration"] = int64(prompt)
	m["eval_count"] = u.OutputTokens
	m["eval_duration"] = int64(eval)
	return m
}

func (s *OllamaServer) stream(w http.ResponseWriter, r *http.Request, b Behavior, model, text, finish string, u providers.Usage) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	send := func(v any) bool {
		var buf bytes.Buffer
		json.NewEncoder(&buf).Encode(v) // one line
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if b.Malformed {
		io.WriteString(w, "{not json}\n")
		rc.Flush()
		return
	}
	parts := chunks(text)
	if b.CutBody && b.CutStreamAfter == 0 {
		b.CutStreamAfter = max(1, len(parts)/2)
	}
	for i, c := range parts {
		if b.CutStreamAfter > 0 && i >= b.CutStreamAfter {
			hijackAndClose(w)
			return
		}
		if i > 0 && !wait(r, b.ChunkDelay) {
			return
		}
		if !send(ollamaChunk(model, c)) {
			return
		}
	}
	if b.CutStreamAfter > 0 {
		hijackAndClose(w)
		return
	}
	send(ollamaFinal(model, "", finish, u))
}

// ollamaErrorFor returns the error text Ollama sends for b's status.
func ollamaErrorFor(b Behavior, wr WireRequest) string {
	if b.ErrorMessage != "" {
		return b.ErrorMessage
	}
	switch b.Status {
	case http.StatusBadRequest:
		return "invalid options: unknown option \"tempreature\""
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusNotFound:
		return fmt.Sprintf("model '%s' not found", wr.Model)
	case http.StatusTooManyRequests:
		return "too many requests"
	case http.StatusServiceUnavailable:
		return "server busy, please try again.  maximum pending requests exceeded"
	}
	return "llama runner process has terminated: exit status 2"
}

// writeOllamaError writes {"error": msg}.
func writeOllamaError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
