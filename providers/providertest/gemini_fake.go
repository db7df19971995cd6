package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
)

// GeminiPromptBlocked is a Behavior.FinishReason for GeminiServer: the
// answer is HTTP 200 with promptFeedback.blockReason "SAFETY" and no
// candidates, as Gemini answers a prompt its safety filters refuse.
const GeminiPromptBlocked = "prompt_blocked"

// GeminiServer is an httptest fake of the Gemini API
// (ai.google.dev/api/generate-content) and of Vertex AI's generateContent,
// with the paths google.golang.org/genai requests:
//
//   - Gemini API: POST /{version}/models/{model}:generateContent and
//     :streamGenerateContent?alt=sse ({version} is v1beta by default);
//   - Vertex AI: POST /{version}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent
//     (and :streamGenerateContent?alt=sse; {version} is v1beta1), and the
//     express-mode form /{version}/publishers/google/models/{model}:….
//
// Answers are GenerateContentResponse JSON objects with usageMetadata and
// modelVersion. A stream is server-sent events "data: {…}\r\n\r\n", one per
// word with a running usageMetadata (promptTokenCount only), then a final
// event with an empty text part, the finishReason and the full
// usageMetadata. Errors are Google's {"error":{"code","message","status",
// "details"}} with the canonical status for the HTTP code (ErrorCode
// overrides it); a 429 with a numeric Behavior.RetryAfter also carries a
// google.rpc.RetryInfo detail with that retryDelay, as Gemini sends.
//
// FinishReason spellings: "stop" is STOP, "length" MAX_TOKENS,
// "content_filter" SAFETY (and the candidate has no content, as Gemini
// sends); GeminiPromptBlocked blocks the prompt; any other value is sent as
// is (for example "RECITATION"). Behavior.Usage.CachedInputTokens is sent
// as cachedContentTokenCount.
//
// Decoding for WireRequest: the model comes from the path; the system
// instruction gives one "system" message per part, then contents ("model"
// is "assistant"); generationConfig gives temperature, topP, seed,
// maxOutputTokens, stopSequences and responseJsonSchema (else
// responseSchema). It is safe for concurrent use.
type GeminiServer struct {
	fake
	apiKey string
}

// GeminiOption configures NewGeminiServer.
type GeminiOption func(*GeminiServer)

// WithGeminiResponder answers requests whose behaviour has no Text with f(req).
func WithGeminiResponder(f Responder) GeminiOption {
	return func(s *GeminiServer) { s.responder = f }
}

// WithGeminiDefault sets the behaviour of requests beyond the script.
func WithGeminiDefault(b Behavior) GeminiOption {
	return func(s *GeminiServer) { s.def = b }
}

// WithGeminiAPIKey makes the server demand key: on Gemini API and Vertex
// express paths as the x-goog-api-key header or ?key= (missing: 403
// PERMISSION_DENIED; wrong: 400 INVALID_ARGUMENT with ErrorInfo reason
// API_KEY_INVALID, as Google answers), on Vertex project paths as
// "Authorization: Bearer key" (else 401 UNAUTHENTICATED).
func WithGeminiAPIKey(key string) GeminiOption {
	return func(s *GeminiServer) { s.apiKey = key }
}

// WithoutGeminiRecording keeps counts but not request bodies.
func WithoutGeminiRecording() GeminiOption {
	return func(s *GeminiServer) { s.noRecord = true }
}

// NewGeminiServer starts a fake. When tb is not nil it is closed by
// tb.Cleanup; otherwise call Close.
func NewGeminiServer(tb testing.TB, opts ...GeminiOption) *GeminiServer {
	return newFake(tb, &GeminiServer{}, opts)
}

// URL returns the server's root URL, the base URL a genai client takes
// (genai adds the API version and the resource path).
func (s *GeminiServer) URL() string { return s.srv.URL }

// Client returns an HTTP client for the server.
func (s *GeminiServer) Client() *http.Client { return s.srv.Client() }

// geminiRequest is the part of a GenerateContentRequest the fake reads.
type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
	GenerationConfig  *struct {
		Temperature        *float64        `json:"temperature"`
		TopP               *float64        `json:"topP"`
		Seed               *int64          `json:"seed"`
		MaxOutputTokens    *int            `json:"maxOutputTokens"`
		StopSequences      []string        `json:"stopSequences"`
		ResponseMIMEType   string          `json:"responseMimeType"`
		ResponseSchema     json.RawMessage `json:"responseSchema"`
		ResponseJSONSchema json.RawMessage `json:"responseJsonSchema"`
	} `json:"generationConfig"`
}

type geminiContent struct {
	Role  string `json:"role"`
	Parts []struct {
		Text       string `json:"text"`
		Thought    bool   `json:"thought"`
		InlineData *struct {
			MIMEType string `json:"mimeType"`
			Data     []byte `json:"data"` // base64 in JSON
		} `json:"inlineData"`
	} `json:"parts"`
}

// geminiPath is a parsed request path.
type geminiPath struct {
	version, project, location, model, method string
	vertex                                    bool // a Vertex AI path (publishers/google/…)
}

// parseGeminiPath parses /{version}/models/{m}:{method},
// /{version}/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}
// and /{version}/publishers/google/models/{m}:{method}.
func parseGeminiPath(path string) (geminiPath, bool) {
	var p geminiPath
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) < 3 {
		return p, false
	}
	p.version, segs = segs[0], segs[1:]
	if len(segs) >= 4 && segs[0] == "projects" && segs[2] == "locations" {
		p.project, p.location, segs = segs[1], segs[3], segs[4:]
	}
	if len(segs) >= 2 && segs[0] == "publishers" && segs[1] == "google" {
		p.vertex, segs = true, segs[2:]
	}
	if p.project != "" && !p.vertex {
		return p, false
	}
	if len(segs) != 2 || segs[0] != "models" {
		return p, false
	}
	var ok bool
	p.model, p.method, ok = strings.Cut(segs[1], ":")
	return p, ok && p.model != ""
}

// decodeGemini fills w's decoded fields from its body.
func decodeGemini(w *WireRequest) error {
	var r geminiRequest
	if err := json.Unmarshal(w.Body, &r); err != nil {
		return err
	}
	if si := r.SystemInstruction; si != nil {
		for _, p := range si.Parts {
			w.Messages = append(w.Messages, providers.Message{Role: providers.RoleSystem, Content: p.Text})
		}
	}
	for _, c := range r.Contents {
		role := providers.RoleUser
		if c.Role == "model" {
			role = providers.RoleAssistant
		}
		var b strings.Builder
		var images []providers.Image
		for _, p := range c.Parts {
			if p.InlineData != nil {
				if p.InlineData.MIMEType == "" || len(p.InlineData.Data) == 0 {
					return fmt.Errorf("inlineData: mimeType and data are required")
				}
				images = append(images, providers.Image{MIMEType: p.InlineData.MIMEType, Data: p.InlineData.Data})
			}
			if !p.Thought {
				b.WriteString(p.Text)
			}
		}
		w.Messages = append(w.Messages, providers.Message{Role: role, Content: b.String(), Images: images})
	}
	if g := r.GenerationConfig; g != nil {
		w.Temperature, w.TopP, w.Seed, w.MaxTokens = g.Temperature, g.TopP, g.Seed, g.MaxOutputTokens
		w.Stop = g.StopSequences
		switch {
		case len(g.ResponseJSONSchema) > 0:
			w.JSONSchema = g.ResponseJSONSchema
		case len(g.ResponseSchema) > 0:
			w.JSONSchema = g.ResponseSchema
		}
	}
	return nil
}

func (s *GeminiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(s, w, r) }

func (s *GeminiServer) decode(r *http.Request, wr *WireRequest) func(http.ResponseWriter) {
	gp, ok := parseGeminiPath(r.URL.Path)
	if r.Method != http.MethodPost || !ok || (gp.method != "generateContent" && gp.method != "streamGenerateContent") {
		return func(w http.ResponseWriter) {
			writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Method not found: %s %s", r.Method, r.URL.Path), nil)
		}
	}
	wr.Model = gp.model
	wr.Stream = gp.method == "streamGenerateContent"
	if s.apiKey != "" {
		if reject := s.authorize(r, gp); reject != nil {
			return reject
		}
	}
	if wr.Stream && wr.Query.Get("alt") != "sse" {
		return func(w http.ResponseWriter) {
			writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "this fake streams only with alt=sse", nil)
		}
	}
	if err := decodeGemini(wr); err != nil {
		return func(w http.ResponseWriter) {
			writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), nil)
		}
	}
	return nil
}

// authorize checks the credentials for gp's kind of path and returns
// Google's answer when they are wrong, nil when they are right.
func (s *GeminiServer) authorize(r *http.Request, gp geminiPath) func(http.ResponseWriter) {
	if gp.project != "" {
		if r.Header.Get("Authorization") == "Bearer "+s.apiKey {
			return nil
		}
		return func(w http.ResponseWriter) {
			writeGeminiError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
				"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", nil)
		}
	}
	key := r.Header.Get("x-goog-api-key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	switch key {
	case s.apiKey:
		return nil
	case "":
		return func(w http.ResponseWriter) {
			writeGeminiError(w, http.StatusForbidden, "PERMISSION_DENIED",
				"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", nil)
		}
	}
	return func(w http.ResponseWriter) {
		writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
			[]any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
				"metadata": map[string]any{"service": "generativelanguage.googleapis.com"}}})
	}
}

func (s *GeminiServer) writeError(w http.ResponseWriter, b Behavior, wr WireRequest) {
	status, msg, details := geminiErrorFor(b, wr)
	writeGeminiError(w, b.Status, status, msg, details)
}

func (s *GeminiServer) contentType() string { return "application/json; charset=UTF-8" }

func geminiID(rp reply) string { return fmt.Sprintf("fake-gemini-%d", rp.seq) }

func (s *GeminiServer) body(rp reply, malformed bool) []byte {
	if malformed {
		return []byte(`{"candidates": [ oops ], "modelVersion": "` + rp.model + `"}`)
	}
	out, _ := json.Marshal(geminiResponse(geminiID(rp), rp.model, rp.text, rp.finish, rp.usage, true))
	return out
}

// geminiFinish spells a finish reason the way Gemini does.
func geminiFinish(f string) string {
	switch f {
	case "stop", "":
		return "STOP"
	case "length":
		return "MAX_TOKENS"
	case "content_filter":
		return "SAFETY"
	}
	return f
}

func geminiUsage(u providers.Usage, withOutput bool) map[string]any {
	m := map[string]any{
		"promptTokenCount":    u.InputTokens,
		"totalTokenCount":     u.InputTokens,
		"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": u.InputTokens}},
	}
	if withOutput {
		m["candidatesTokenCount"] = u.OutputTokens
		m["totalTokenCount"] = u.InputTokens + u.OutputTokens
	}
	if u.CachedInputTokens > 0 {
		m["cachedContentTokenCount"] = u.CachedInputTokens
	}
	return m
}

// geminiResponse builds a GenerateContentResponse. final carries the finish
// reason and the full usage; a non-final stream chunk has neither.
func geminiResponse(id, model, text, finish string, u providers.Usage, final bool) map[string]any {
	resp := map[string]any{
		"modelVersion":  model,
		"responseId":    id,
		"usageMetadata": geminiUsage(u, final),
	}
	if final && finish == GeminiPromptBlocked {
		resp["promptFeedback"] = map[string]any{
			"blockReason":   "SAFETY",
			"safetyRatings": []any{map[string]any{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}},
		}
		return resp
	}
	cand := map[string]any{"index": 0}
	if finish != "content_filter" || !final {
		cand["content"] = map[string]any{"role": "model", "parts": []any{map[string]any{"text": text}}}
	}
	if final {
		cand["finishReason"] = geminiFinish(finish)
	}
	if finish == "content_filter" && final {
		cand["safetyRatings"] = []any{map[string]any{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}}
	}
	resp["candidates"] = []any{cand}
	return resp
}

func (s *GeminiServer) stream(w http.ResponseWriter, r *http.Request, b Behavior, rp reply) {
	e := openStream(w, "text/event-stream", "data: ", "\r\n\r\n")
	if b.Malformed {
		e.malformed()
		return
	}
	id := geminiID(rp)
	var parts []string
	if rp.finish != GeminiPromptBlocked && rp.finish != "content_filter" {
		parts = chunks(rp.text)
	}
	if !e.chunks(r, b, parts, func(c string) any { return geminiResponse(id, rp.model, c, rp.finish, rp.usage, false) }) {
		return
	}
	if b.EndWithoutFinish {
		return
	}
	e.send(geminiResponse(id, rp.model, "", rp.finish, rp.usage, true))
}

// geminiStatus is the canonical status Google sends for an HTTP code.
func geminiStatus(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if code >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}

// geminiErrorFor returns the status, message and details Gemini sends for
// b's HTTP status, overridden by b's fields.
func geminiErrorFor(b Behavior, wr WireRequest) (status, msg string, details []any) {
	status = geminiStatus(b.Status)
	switch b.Status {
	case http.StatusBadRequest:
		msg = "Request contains an invalid argument."
	case http.StatusUnauthorized:
		msg = "Request had invalid authentication credentials."
	case http.StatusForbidden:
		msg = "The caller does not have permission"
	case http.StatusNotFound:
		msg = fmt.Sprintf("models/%s is not found for API version v1beta, or is not supported for generateContent.", wr.Model)
	case http.StatusTooManyRequests:
		msg = "You exceeded your current quota, please check your plan and billing details."
		details = append(details, map[string]any{
			"@type": "type.googleapis.com/google.rpc.QuotaFailure",
			"violations": []any{map[string]any{
				"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
				"quotaId":     "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
			}},
		})
		if secs, err := strconv.ParseFloat(b.RetryAfter, 64); err == nil && secs > 0 {
			details = append(details, map[string]any{
				"@type":      "type.googleapis.com/google.rpc.RetryInfo",
				"retryDelay": strconv.FormatFloat(secs, 'f', -1, 64) + "s",
			})
		}
	case http.StatusServiceUnavailable:
		msg = "The model is overloaded. Please try again later."
	case http.StatusGatewayTimeout:
		msg = "The request timed out. Please try again."
	default:
		msg = "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	}
	if b.ErrorCode != "" {
		status = b.ErrorCode
	}
	if b.ErrorMessage != "" {
		msg = b.ErrorMessage
	}
	return status, msg, details
}

// writeGeminiError writes Google's error body.
func writeGeminiError(w http.ResponseWriter, code int, status, msg string, details []any) {
	e := map[string]any{"code": code, "message": msg, "status": status}
	if len(details) > 0 {
		e["details"] = details
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}
