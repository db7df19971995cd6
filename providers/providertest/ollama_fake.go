package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	fake
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
	return newFake(tb, &OllamaServer{}, opts)
}

// URL returns the server's root URL, what OLLAMA_HOST or an api.Client's
// base URL would be.
func (s *OllamaServer) URL() string { return s.srv.URL }

// Client returns an HTTP client for the server.
func (s *OllamaServer) Client() *http.Client { return s.srv.Client() }

// ollamaRequest is the part of a chat request the fake reads.
type ollamaRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string   `json:"role"`
		Content string   `json:"content"`
		Images  [][]byte `json:"images"` // base64 in JSON
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
		msg := providers.Message{Role: m.Role, Content: m.Content}
		for _, im := range m.Images {
			// Ollama sends raw bytes; the fake sniffs the type back.
			msg.Images = append(msg.Images, providers.Image{MIMEType: http.DetectContentType(im), Data: im})
		}
		w.Messages = append(w.Messages, msg)
	}
	w.Stream = r.Stream == nil || *r.Stream
	o := r.Options
	w.Temperature, w.TopP, w.Seed, w.MaxTokens, w.Stop = o.Temperature, o.TopP, o.Seed, o.NumPredict, o.Stop
	if len(r.Format) > 0 && string(r.Format) != "null" && string(r.Format) != `""` {
		w.JSONSchema = r.Format
	}
	return nil
}

func (s *OllamaServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(s, w, r) }

func (s *OllamaServer) decode(r *http.Request, wr *WireRequest) func(http.ResponseWriter) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/version":
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, `{"version":"0.17.4"}`)
		}
	case r.Method != http.MethodPost || r.URL.Path != "/api/chat":
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "404 page not found")
		}
	}
	if err := decodeOllama(wr); err != nil {
		return func(w http.ResponseWriter) {
			writeOllamaError(w, http.StatusBadRequest, "invalid character in request body: "+err.Error())
		}
	}
	if wr.Model == "" {
		return func(w http.ResponseWriter) { writeOllamaError(w, http.StatusBadRequest, "model is required") }
	}
	if s.models != nil && !slices.Contains(s.models, wr.Model) {
		model := wr.Model
		return func(w http.ResponseWriter) {
			writeOllamaError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", model))
		}
	}
	return nil
}

func (s *OllamaServer) writeError(w http.ResponseWriter, b Behavior, wr WireRequest) {
	writeOllamaError(w, b.Status, ollamaErrorFor(b, wr))
}

func (s *OllamaServer) contentType() string { return "application/json; charset=utf-8" }

func (s *OllamaServer) body(rp reply, malformed bool) []byte {
	if malformed {
		return []byte(`{"model": "` + rp.model + `", "message": oops}`)
	}
	out, _ := json.Marshal(ollamaFinal(rp.model, rp.text, rp.finish, rp.usage))
	return out
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

func (s *OllamaServer) stream(w http.ResponseWriter, r *http.Request, b Behavior, rp reply) {
	e := openStream(w, "application/x-ndjson", "", "\n")
	if b.Malformed {
		e.malformed()
		return
	}
	if !e.chunks(r, b, chunks(rp.text), func(c string) any { return ollamaChunk(rp.model, c) }) {
		return
	}
	if b.EndWithoutFinish {
		return
	}
	e.send(ollamaFinal(rp.model, "", rp.finish, rp.usage))
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
