package gemini_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/gemini"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

const model = "gemini-2.5-flash"

// newAPI returns an API-key client pointed at a fresh fake.
func newAPI(t *testing.T, opts ...providertest.GeminiOption) (*gemini.Client, *providertest.GeminiServer) {
	return newAPIBounded(t, providers.Bounds{}, opts...)
}

func newAPIBounded(t *testing.T, b providers.Bounds, opts ...providertest.GeminiOption) (*gemini.Client, *providertest.GeminiServer) {
	t.Helper()
	srv := providertest.NewGeminiServer(t, append([]providertest.GeminiOption{providertest.WithGeminiAPIKey("test-key")}, opts...)...)
	c, err := gemini.New(context.Background(), gemini.Config{
		Backend: gemini.BackendGeminiAPI, APIKey: "test-key", BaseURL: srv.URL(), HTTPClient: srv.Client(), Bounds: b,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// bearer authenticates like an ADC-authorized client would.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// newVertex returns a Vertex AI client pointed at a fresh fake, with an
// HTTP client that authenticates itself (genai's contract for a caller's
// client), so no credentials are needed.
func newVertex(t *testing.T) (*gemini.Client, *providertest.GeminiServer) {
	return newVertexBounded(t, providers.Bounds{})
}

func newVertexBounded(t *testing.T, b providers.Bounds) (*gemini.Client, *providertest.GeminiServer) {
	t.Helper()
	srv := providertest.NewGeminiServer(t, providertest.WithGeminiAPIKey("vertex-token"))
	hc := &http.Client{Transport: bearer{token: "vertex-token", base: srv.Client().Transport}}
	cfg := gemini.VertexDefaultConfig()
	cfg.Project, cfg.Location, cfg.BaseURL, cfg.HTTPClient, cfg.Bounds = "my-proj", "us-central1", srv.URL(), hc, b
	c, err := gemini.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestConformance(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		Name:  "gemini",
		Model: model,
		New: func(t *testing.T, b providers.Bounds) (providers.Provider, providertest.Fake) {
			c, srv := newAPIBounded(t, b)
			return c, srv
		},
	})
}

func TestConformanceVertex(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		Name:  "vertex",
		Model: model,
		New: func(t *testing.T, b providers.Bounds) (providers.Provider, providertest.Fake) {
			c, srv := newVertexBounded(t, b)
			return c, srv
		},
	})
}

func req(prompt string) *providers.Request {
	return &providers.Request{Model: model, Messages: []providers.Message{{Role: providers.RoleUser, Content: prompt}}}
}

// TestWireBody reads the request bodies genai actually sends.
func TestWireBody(t *testing.T) {
	tests := []struct {
		name   string
		vertex bool
		req    *providers.Request
		path   string
		want   map[string]any // generationConfig, decoded
	}{
		{
			name: "temperature zero reaches the wire",
			req:  &providers.Request{Temperature: providers.Float64(0)},
			path: "/v1beta/models/" + model + ":generateContent",
			want: map[string]any{"temperature": 0.0},
		},
		{
			name: "every knob",
			req: &providers.Request{Temperature: providers.Float64(0.2), TopP: providers.Float64(0), Seed: providers.Int64(0), MaxTokens: 64,
				Stop: []string{"END"}, JSONSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"integer"}}}`)},
			path: "/v1beta/models/" + model + ":generateContent",
			want: map[string]any{"temperature": 0.2, "topP": 0.0, "seed": 0.0, "maxOutputTokens": 64.0, "stopSequences": []any{"END"},
				"responseMimeType":   "application/json",
				"responseJsonSchema": map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "integer"}}}},
		},
		{
			name:   "vertex path and body",
			vertex: true,
			req:    &providers.Request{Temperature: providers.Float64(0)},
			path:   "/v1beta1/projects/my-proj/locations/us-central1/publishers/google/models/" + model + ":generateContent",
			want:   map[string]any{"temperature": 0.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *gemini.Client
			var srv *providertest.GeminiServer
			if tt.vertex {
				c, srv = newVertex(t)
			} else {
				c, srv = newAPI(t)
			}
			r := *tt.req
			r.Model, r.System = model, "be brief"
			r.Messages = []providers.Message{{Role: providers.RoleUser, Content: "hi"}}
			if _, err := c.Generate(context.Background(), &r); err != nil {
				t.Fatal(err)
			}
			w := srv.Requests()[0]
			if w.Path != tt.path {
				t.Errorf("path = %s, want %s", w.Path, tt.path)
			}
			var body struct {
				GenerationConfig  map[string]any `json:"generationConfig"`
				SystemInstruction struct {
					Parts []struct{ Text string } `json:"parts"`
				} `json:"systemInstruction"`
			}
			if err := json.Unmarshal(w.Body, &body); err != nil {
				t.Fatal(err)
			}
			if got, want := mustJSON(body.GenerationConfig), mustJSON(tt.want); got != want {
				t.Errorf("generationConfig = %s\nwant %s", got, want)
			}
			if len(body.SystemInstruction.Parts) != 1 || body.SystemInstruction.Parts[0].Text != "be brief" {
				t.Errorf("systemInstruction = %+v", body.SystemInstruction)
			}
			if tt.vertex {
				if k := w.Header.Get("x-goog-api-key"); k != "" {
					t.Errorf("vertex request carried an API key header %q", k)
				}
			} else if k := w.Header.Get("x-goog-api-key"); k != "test-key" {
				t.Errorf("x-goog-api-key = %q", k)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		name       string
		b          providertest.Behavior
		wantText   string
		wantFinish string
		wantKind   providers.Kind // for an error
	}{
		{"stop", providertest.Behavior{Text: "fine"}, "fine", "stop", ""},
		{"max tokens", providertest.Behavior{Text: "cut", FinishReason: "length"}, "cut", "length", ""},
		{"safety", providertest.Behavior{Text: "x", FinishReason: "content_filter"}, "", "content_filter", ""},
		{"recitation", providertest.Behavior{Text: "x", FinishReason: "RECITATION"}, "x", "content_filter", ""},
		{"prohibited", providertest.Behavior{Text: "x", FinishReason: "PROHIBITED_CONTENT"}, "x", "content_filter", ""},
		{"spii", providertest.Behavior{Text: "x", FinishReason: "SPII"}, "x", "content_filter", ""},
		{"other", providertest.Behavior{Text: "x", FinishReason: "OTHER"}, "x", "other", ""},
		{"prompt blocked", providertest.Behavior{FinishReason: providertest.GeminiPromptBlocked}, "", "", providers.KindContentFilter},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				c, srv := newAPI(t)
				srv.Script(tt.b)
				var resp *providers.Response
				var err error
				if stream {
					resp, err = c.Stream(context.Background(), req("q"), func(providers.Chunk) error { return nil })
				} else {
					resp, err = c.Generate(context.Background(), req("q"))
				}
				if tt.wantKind != "" {
					var pe *providers.Error
					if !errors.As(err, &pe) || pe.Kind != tt.wantKind || pe.Provider != "gemini" {
						t.Fatalf("err = %v, want %s", err, tt.wantKind)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if resp.Text != tt.wantText || resp.FinishReason != tt.wantFinish {
					t.Errorf("Text %q FinishReason %q, want %q %q", resp.Text, resp.FinishReason, tt.wantText, tt.wantFinish)
				}
			})
		}
	}
}

func TestErrorStatuses(t *testing.T) {
	tests := []struct {
		name string
		b    providertest.Behavior
		want providers.Kind
	}{
		{"failed precondition", providertest.Behavior{Status: 400, ErrorCode: "FAILED_PRECONDITION"}, providers.KindInvalidRequest},
		{"permission denied", providertest.Behavior{Status: 403}, providers.KindAuth},
		{"deadline exceeded", providertest.Behavior{Status: 504}, providers.KindTimeout},
		{"quota as 403 by status", providertest.Behavior{Status: 403, ErrorCode: "RESOURCE_EXHAUSTED"}, providers.KindRateLimit},
		{"internal", providertest.Behavior{Status: 500, ErrorCode: "INTERNAL"}, providers.KindUnavailable},
		{"prompt over the context window", providertest.Behavior{Status: 400, ErrorMessage: "The input token count (1234567) exceeds the maximum number of tokens allowed (1048576)."}, providers.KindContextLength},
		{"other invalid argument", providertest.Behavior{Status: 400, ErrorMessage: "Invalid value at 'generation_config.temperature'"}, providers.KindInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newAPI(t)
			srv.Script(tt.b)
			_, err := c.Generate(context.Background(), req("q"))
			if k := providers.KindOf(err); k != tt.want {
				t.Errorf("kind = %s, want %s (%v)", k, tt.want, err)
			}
		})
	}
}

func TestBadAPIKey(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.WithGeminiAPIKey("right"))
	c, err := gemini.New(context.Background(), gemini.Config{APIKey: "wrong", BaseURL: srv.URL(), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Generate(context.Background(), req("q"))
	var pe *providers.Error
	// Google answers a bad key 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID.
	if !errors.As(err, &pe) || pe.Kind != providers.KindAuth || pe.StatusCode != 400 {
		t.Fatalf("err = %v, want auth (HTTP 400)", err)
	}
	if strings.Contains(pe.Error(), "wrong") {
		t.Errorf("error leaks the key: %v", pe)
	}
}

// rawServer answers every request with status and body.
func rawServer(t *testing.T, status int, contentType, body string, header http.Header) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func rawClient(t *testing.T, srv *httptest.Server) *gemini.Client {
	t.Helper()
	c, err := gemini.New(context.Background(), gemini.Config{APIKey: "k", BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRawBodies covers answers the scripted fake does not produce: a
// RetryInfo without a Retry-After header, thought parts and cached and
// thinking token counts, an error event inside a stream, a stream that
// ends cleanly without a finish reason.
func TestRawBodies(t *testing.T) {
	t.Run("RetryInfo alone", func(t *testing.T) {
		srv := rawServer(t, 429, "application/json; charset=UTF-8",
			`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}}`, nil)
		_, err := rawClient(t, srv).Generate(context.Background(), req("q"))
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindRateLimit || pe.RetryAfter != 13*time.Second {
			t.Fatalf("err = %v (RetryAfter %v), want rate_limit with 13s", err, pe.RetryAfter)
		}
	})
	t.Run("thoughts and cache", func(t *testing.T) {
		srv := rawServer(t, 200, "application/json",
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"pondering…","thought":true},{"text":"42"}]},"finishReason":"STOP"}],`+
				`"usageMetadata":{"promptTokenCount":1000,"cachedContentTokenCount":900,"candidatesTokenCount":2,"thoughtsTokenCount":30,"totalTokenCount":1032},"modelVersion":"gemini-2.5-pro"}`, nil)
		resp, err := rawClient(t, srv).Generate(context.Background(), req("q"))
		if err != nil {
			t.Fatal(err)
		}
		want := providers.Usage{InputTokens: 1000, CachedInputTokens: 900, OutputTokens: 32}
		if resp.Text != "42" || resp.Usage != want || resp.Model != "gemini-2.5-pro" {
			t.Errorf("resp = %+v, want text 42 and usage %+v", resp, want)
		}
	})
	t.Run("error event inside a stream", func(t *testing.T) {
		srv := rawServer(t, 200, "text/event-stream",
			"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"par\"}]}}]}\r\n\r\n"+
				"data: {\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n", nil)
		_, err := rawClient(t, srv).Stream(context.Background(), req("q"), func(providers.Chunk) error { return nil })
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindUnavailable || pe.StatusCode != 503 || pe.Message != "overloaded" {
			t.Fatalf("err = %v, want unavailable 503 overloaded", err)
		}
	})
	t.Run("stream without finish reason", func(t *testing.T) {
		srv := rawServer(t, 200, "text/event-stream",
			"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"par\"}]}}]}\r\n\r\n", nil)
		_, err := rawClient(t, srv).Stream(context.Background(), req("q"), func(providers.Chunk) error { return nil })
		if k := providers.KindOf(err); k != providers.KindStreamTruncated {
			t.Fatalf("err = %v, want stream_truncated", err)
		}
	})
}

// TestOneCallOneRequest checks that genai's automatic continuation and
// retries are off: a stream cut before any chunk is one request, and so is
// a 503.
func TestOneCallOneRequest(t *testing.T) {
	tests := []struct {
		name   string
		b      providertest.Behavior
		stream bool
	}{
		{"stream cut before the first chunk", providertest.Behavior{Text: "a b c", CutStreamAfter: 0, CutBody: true}, true},
		{"503", providertest.Behavior{Status: 503}, false},
		{"503 stream", providertest.Behavior{Status: 503}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newAPI(t)
			srv.Script(tt.b, tt.b, tt.b, tt.b)
			var err error
			if tt.stream {
				_, err = c.Stream(context.Background(), req("q"), func(providers.Chunk) error { return nil })
			} else {
				_, err = c.Generate(context.Background(), req("q"))
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if n := srv.Count(); n != 1 {
				t.Errorf("fake saw %d requests, want 1", n)
			}
		})
	}
}

func TestStreamTTFTAndChunks(t *testing.T) {
	c, srv := newAPI(t)
	srv.Script(providertest.Behavior{Text: "alpha beta gamma", Delay: 30 * time.Millisecond, Model: "gemini-2.5-flash-001"})
	var chunks []string
	resp, err := c.Stream(context.Background(), req("q"), func(ch providers.Chunk) error {
		chunks = append(chunks, ch.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(chunks, "|") != "alpha |beta |gamma" || resp.Text != "alpha beta gamma" {
		t.Errorf("chunks %q text %q", chunks, resp.Text)
	}
	if resp.TTFT < 30*time.Millisecond {
		t.Errorf("TTFT = %v, want at least the server's 30ms delay", resp.TTFT)
	}
	if resp.Model != "gemini-2.5-flash-001" || resp.FinishReason != "stop" {
		t.Errorf("resp = %+v", resp)
	}
	if !srv.Requests()[0].Stream || srv.Requests()[0].Query.Get("alt") != "sse" {
		t.Errorf("request = %+v", srv.Requests()[0])
	}
}

func TestResponder(t *testing.T) {
	c, _ := newAPI(t, providertest.WithGeminiResponder(func(r providertest.WireRequest) string {
		return strings.ToUpper(r.Prompt())
	}))
	resp, err := c.Generate(context.Background(), req("shout this"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "SHOUT THIS" {
		t.Errorf("Text = %q", resp.Text)
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  gemini.Config
		want providers.Kind // "" for success
	}{
		{"no key", gemini.Config{Backend: gemini.BackendGeminiAPI}, providers.KindAuth},
		{"project on gemini api", gemini.Config{APIKey: "k", Project: "p"}, providers.KindInvalidRequest},
		{"vertex without project", gemini.Config{Backend: gemini.BackendVertexAI, Location: "us-central1"}, providers.KindInvalidRequest},
		{"vertex express with project", gemini.Config{Backend: gemini.BackendVertexAI, APIKey: "k", Project: "p"}, providers.KindInvalidRequest},
		{"unknown backend", gemini.Config{Backend: "palm", APIKey: "k"}, providers.KindInvalidRequest},
		{"unknown auth", gemini.Config{Backend: gemini.BackendVertexAI, Project: "p", Auth: "oauth"}, providers.KindInvalidRequest},
		{"gemini api", gemini.Config{APIKey: "k"}, ""},
		{"vertex express", gemini.Config{Backend: gemini.BackendVertexAI, APIKey: "k"}, ""},
		// ADC is looked up on the first request, not here.
		{"vertex with ADC", gemini.Config{Backend: gemini.BackendVertexAI, Project: "p", Location: "europe-west4"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gemini.New(context.Background(), tt.cfg)
			if got := providers.KindOf(err); got != tt.want {
				t.Errorf("New: %v, want kind %q", err, tt.want)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	t.Setenv("GEMINI_API_KEY", "")
	t.Setenv("GOOGLE_API_KEY", "google-key")
	if got := gemini.DefaultConfig(); got.APIKey != "google-key" || got.Backend != gemini.BackendGeminiAPI {
		t.Errorf("DefaultConfig = %+v", got)
	}
	t.Setenv("GEMINI_API_KEY", "gemini-key")
	if got := gemini.DefaultConfig(); got.APIKey != "gemini-key" {
		t.Errorf("GEMINI_API_KEY should win: %+v", got)
	}
	t.Setenv("GOOGLE_CLOUD_PROJECT", "proj")
	t.Setenv("GOOGLE_CLOUD_LOCATION", "")
	t.Setenv("GOOGLE_CLOUD_REGION", "asia-northeast1")
	if got := gemini.VertexDefaultConfig(); got.Project != "proj" || got.Location != "asia-northeast1" || got.Name != "vertex" {
		t.Errorf("VertexDefaultConfig = %+v", got)
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		cfg  gemini.Config
		want string
	}{
		{gemini.Config{APIKey: "k"}, "https://generativelanguage.googleapis.com/"},
		{gemini.Config{Backend: gemini.BackendVertexAI, Project: "p", Location: "us-central1"}, "https://us-central1-aiplatform.googleapis.com/"},
		{gemini.Config{Backend: gemini.BackendVertexAI, Project: "p"}, "https://aiplatform.googleapis.com/"},
		{gemini.Config{APIKey: "k", BaseURL: "http://127.0.0.1:9/"}, "http://127.0.0.1:9/"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Setenv("GOOGLE_GEMINI_BASE_URL", "")
			t.Setenv("GOOGLE_VERTEX_BASE_URL", "")
			c, err := gemini.New(context.Background(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.BaseURL(); got != tt.want {
				t.Errorf("BaseURL = %q, want %q", got, tt.want)
			}
		})
	}
}
