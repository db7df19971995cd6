package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func newClient(t *testing.T, cfg openai.Config) *openai.Client {
	t.Helper()
	c, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func userRequest(model string) *providers.Request {
	return &providers.Request{Model: model, Messages: []providers.Message{{Role: "user", Content: "hi"}}}
}

// rawFields decodes a request body into its top-level fields, keeping the
// numbers' exact text.
func rawFields(t *testing.T, body []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("request body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

func TestSamplingZeroOnTheWire(t *testing.T) {
	tests := []struct {
		name   string
		mut    func(r *providers.Request)
		stream bool
		want   map[string]string // field → exact JSON text; "" means absent
	}{
		{"temperature 0", func(r *providers.Request) { r.Temperature = providers.Float64(0) }, false,
			map[string]string{"temperature": "0", "top_p": "", "seed": ""}},
		{"top_p 0", func(r *providers.Request) { r.TopP = providers.Float64(0) }, false,
			map[string]string{"top_p": "0", "temperature": ""}},
		{"seed 0", func(r *providers.Request) { r.Seed = providers.Int64(0) }, false,
			map[string]string{"seed": "0"}},
		{"all zero, streamed", func(r *providers.Request) {
			r.Temperature, r.TopP, r.Seed = providers.Float64(0), providers.Float64(0), providers.Int64(0)
		}, true, map[string]string{"temperature": "0", "top_p": "0", "seed": "0", "stream": "true"}},
		{"non-zero values are exact, not float32-rounded", func(r *providers.Request) {
			r.Temperature, r.TopP = providers.Float64(0.7), providers.Float64(0.95)
		}, false, map[string]string{"temperature": "0.7", "top_p": "0.95"}},
		{"unset knobs are absent", func(r *providers.Request) {}, false,
			map[string]string{"temperature": "", "top_p": "", "seed": "", "max_tokens": "", "stop": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewOpenAIServer(t)
			c := newClient(t, openai.Config{BaseURL: srv.URL()})
			req := userRequest("gpt-4o-mini")
			tt.mut(req)
			var err error
			if tt.stream {
				_, err = c.Stream(context.Background(), req, func(providers.Chunk) error { return nil })
			} else {
				_, err = c.Generate(context.Background(), req)
			}
			if err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			fields := rawFields(t, reqs[0].Body)
			for k, want := range tt.want {
				got, ok := fields[k]
				switch {
				case want == "" && ok:
					t.Errorf("%s = %s on the wire, want absent", k, got)
				case want != "" && string(got) != want:
					t.Errorf("%s = %q on the wire, want %q (body %s)", k, got, want, reqs[0].Body)
				}
			}
		})
	}
}

func TestMaxTokensParam(t *testing.T) {
	tests := []struct {
		model, param string
		want, absent string
	}{
		{"gpt-4o-mini", "", "max_tokens", "max_completion_tokens"},
		{"llama-3.3-70b-versatile", "", "max_tokens", "max_completion_tokens"},
		{"o3-mini", "", "max_completion_tokens", "max_tokens"},
		{"gpt-5-mini", "", "max_completion_tokens", "max_tokens"},
		{"gpt-4o-mini", openai.MaxCompletionTokens, "max_completion_tokens", "max_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.model+tt.param, func(t *testing.T) {
			srv := providertest.NewOpenAIServer(t)
			c := newClient(t, openai.Config{BaseURL: srv.URL(), MaxTokensParam: tt.param})
			req := userRequest(tt.model)
			req.MaxTokens = 5
			if _, err := c.Generate(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			fields := rawFields(t, srv.Requests()[0].Body)
			if string(fields[tt.want]) != "5" {
				t.Errorf("%s = %s, want 5", tt.want, fields[tt.want])
			}
			if _, ok := fields[tt.absent]; ok {
				t.Errorf("%s sent too", tt.absent)
			}
		})
	}
	if _, err := openai.New(openai.Config{MaxTokensParam: "max_tokenz"}); err == nil {
		t.Error("bad MaxTokensParam accepted")
	}
}

func TestJSONSchemaOnTheWire(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	c := newClient(t, openai.Config{BaseURL: srv.URL(), StrictJSONSchema: true})
	req := userRequest("gpt-4o-mini")
	req.JSONSchema = json.RawMessage(`{"type":"object","properties":{"x":{"type":"number"}},"required":["x"],"additionalProperties":false}`)
	if _, err := c.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var body struct {
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string          `json:"name"`
				Strict bool            `json:"strict"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	json.Unmarshal(srv.Requests()[0].Body, &body)
	rf := body.ResponseFormat
	if rf.Type != "json_schema" || rf.JSONSchema.Name == "" || !rf.JSONSchema.Strict || !bytes.Contains(rf.JSONSchema.Schema, []byte(`"additionalProperties":false`)) {
		t.Errorf("response_format = %+v", rf)
	}
	req.JSONSchema = json.RawMessage(`{not json`)
	_, err := c.Generate(context.Background(), req)
	if providers.KindOf(err) != providers.KindInvalidRequest {
		t.Errorf("invalid schema: err = %v", err)
	}
	if srv.Count() != 1 {
		t.Errorf("an invalid request reached the server")
	}
}

func TestAzureOnTheWire(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	c := newClient(t, openai.Config{
		Azure:       true,
		APIKey:      "az-key-123",
		BaseURL:     srv.Endpoint(),
		APIVersion:  "2024-06-01",
		Deployments: map[string]string{"gpt-4o": "prod-4o"},
	})
	for _, tt := range []struct{ model, deployment string }{{"gpt-4o", "prod-4o"}, {"my-deploy", "my-deploy"}, {"gpt-3.5-turbo", "gpt-3.5-turbo"}} {
		if _, err := c.Generate(context.Background(), userRequest(tt.model)); err != nil {
			t.Fatal(err)
		}
		r := srv.Requests()[srv.Count()-1]
		if want := "/openai/deployments/" + tt.deployment + "/chat/completions"; r.Path != want {
			t.Errorf("path = %s, want %s", r.Path, want)
		}
		if v := r.Query.Get("api-version"); v != "2024-06-01" {
			t.Errorf("api-version = %q", v)
		}
		if k := r.Header.Get("api-key"); k != "az-key-123" {
			t.Errorf("api-key header = %q", k)
		}
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("Authorization header sent to Azure: %q", a)
		}
	}
	// Default api-version.
	c2 := newClient(t, openai.Config{Azure: true, APIKey: "k", BaseURL: srv.Endpoint()})
	c2.Generate(context.Background(), userRequest("x"))
	if v := srv.Requests()[srv.Count()-1].Query.Get("api-version"); v != openai.DefaultAzureAPIVersion {
		t.Errorf("default api-version = %q", v)
	}
	if _, err := openai.New(openai.Config{Azure: true}); err == nil {
		t.Error("Azure without endpoint accepted")
	}
}

func TestHeadersAndOrganization(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	c := newClient(t, openai.Config{BaseURL: srv.URL(), APIKey: "sk-1", Organization: "org-9", Headers: map[string]string{"HTTP-Referer": "https://example.com"}})
	if _, err := c.Generate(context.Background(), userRequest("m")); err != nil {
		t.Fatal(err)
	}
	h := srv.Requests()[0].Header
	if h.Get("Authorization") != "Bearer sk-1" || h.Get("OpenAI-Organization") != "org-9" || h.Get("HTTP-Referer") != "https://example.com" {
		t.Errorf("headers = %v", h)
	}
	// A keyless client sends no Authorization header.
	c2 := newClient(t, openai.Config{BaseURL: srv.URL()})
	c2.Generate(context.Background(), userRequest("m"))
	if a := srv.Requests()[1].Header.Get("Authorization"); a != "" {
		t.Errorf("keyless client sent Authorization %q", a)
	}
}

// TestErrorClassification checks Kind, status and RetryAfter for the error
// bodies OpenAI and Azure document, classified by code and status, never by
// message text.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name       string
		b          providertest.Behavior
		kind       providers.Kind
		status     int
		retryAfter time.Duration
	}{
		{"context length", providertest.Behavior{Status: 400, ErrorCode: "context_length_exceeded", ErrorMessage: "This model's maximum context length is 128000 tokens."}, providers.KindContextLength, 400, 0},
		{"content filter", providertest.Behavior{Status: 400, ErrorCode: "content_filter", ErrorMessage: "The response was filtered."}, providers.KindContentFilter, 400, 0},
		{"insufficient quota", providertest.Behavior{Status: 429, ErrorCode: "insufficient_quota", ErrorType: "insufficient_quota", ErrorMessage: "You exceeded your current quota."}, providers.KindAuth, 429, 0},
		{"model not found", providertest.Behavior{Status: 404, ErrorCode: "model_not_found"}, providers.KindNotFound, 404, 0},
		{"azure deployment not found", providertest.Behavior{Status: 404, ErrorCode: "DeploymentNotFound", ErrorType: "-"}, providers.KindNotFound, 404, 0},
		{"invalid key", providertest.Behavior{Status: 401, ErrorCode: "invalid_api_key"}, providers.KindAuth, 401, 0},
		{"forbidden", providertest.Behavior{Status: 403}, providers.KindAuth, 403, 0},
		{"rate limit with retry-after seconds", providertest.Behavior{Status: 429, RetryAfter: "7"}, providers.KindRateLimit, 429, 7 * time.Second},
		{"rate limit with retry-after-ms", providertest.Behavior{Status: 429, Header: http.Header{"Retry-After-Ms": {"1500"}}}, providers.KindRateLimit, 429, 1500 * time.Millisecond},
		{"rate limit with http date", providertest.Behavior{Status: 429, RetryAfter: time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}, providers.KindRateLimit, 429, -1},
		{"words naming other kinds do not matter", providertest.Behavior{Status: 500, ErrorMessage: "content_filter 429 rate_limit_exceeded"}, providers.KindUnavailable, 500, 0},
		{"code-less error whose words say context length (llama.cpp)", providertest.Behavior{Status: 400, ErrorType: "exceed_context_size_error", ErrorMessage: "the request exceeds the available context size, try increasing it"}, providers.KindContextLength, 400, 0},
		{"code-less 500 whose words say context window (llama-cpp-python)", providertest.Behavior{Status: 500, ErrorMessage: "Requested tokens (5000) exceed context window of 2048"}, providers.KindContextLength, 500, 0},
		{"unprocessable", providertest.Behavior{Status: 422}, providers.KindInvalidRequest, 422, 0},
		{"request timeout", providertest.Behavior{Status: 408}, providers.KindTimeout, 408, 0},
		{"gateway timeout html", providertest.Behavior{Status: 504, HTML: true}, providers.KindTimeout, 504, 0},
		{"bad gateway html", providertest.Behavior{Status: 502, HTML: true}, providers.KindUnavailable, 502, 0},
		{"service unavailable html with retry-after", providertest.Behavior{Status: 503, HTML: true, RetryAfter: "2"}, providers.KindUnavailable, 503, 2 * time.Second},
		{"payload too large", providertest.Behavior{Status: 413}, providers.KindContextLength, 413, 0},
		{"malformed json", providertest.Behavior{Malformed: true}, providers.KindBadResponse, 0, 0},
		{"cut body", providertest.Behavior{CutBody: true}, providers.KindBadResponse, 0, 0},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				srv := providertest.NewOpenAIServer(t)
				srv.Script(tt.b)
				c := newClient(t, openai.Config{BaseURL: srv.URL()})
				var err error
				if stream {
					_, err = c.Stream(context.Background(), userRequest("gpt-4o-mini"), func(providers.Chunk) error { return nil })
				} else {
					_, err = c.Generate(context.Background(), userRequest("gpt-4o-mini"))
				}
				var pe *providers.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v (%T), want *providers.Error", err, err)
				}
				if stream && (tt.b.Malformed || tt.b.CutBody) {
					// The fake's stream variants of these break the SSE framing;
					// any temporary kind is right.
					if !pe.Kind.Temporary() {
						t.Errorf("Kind = %s, want temporary", pe.Kind)
					}
					return
				}
				if pe.Kind != tt.kind || pe.StatusCode != tt.status || pe.Provider != "openai" {
					t.Errorf("got %s/%d/%s, want %s/%d/openai (%v)", pe.Kind, pe.StatusCode, pe.Provider, tt.kind, tt.status, err)
				}
				switch {
				case tt.retryAfter == -1:
					if pe.RetryAfter < 80*time.Second || pe.RetryAfter > 91*time.Second {
						t.Errorf("RetryAfter = %v, want ~90s", pe.RetryAfter)
					}
				case pe.RetryAfter != tt.retryAfter:
					t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tt.retryAfter)
				}
				if msg := err.Error(); len(msg) > 400 || strings.Contains(msg, "<html") {
					t.Errorf("message too long or holds HTML: %q", msg)
				}
			})
		}
	}
}

// sseServer answers every request with the given raw SSE body.
func sseServer(t *testing.T, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStreamProtocolEdges(t *testing.T) {
	chunk := func(content, finish string) string {
		f := "null"
		if finish != "" {
			f = `"` + finish + `"`
		}
		return `data: {"id":"c","object":"chat.completion.chunk","model":"m-1","choices":[{"index":0,"delta":{"content":"` + content + `"},"finish_reason":` + f + "}]}\n\n"
	}
	tests := []struct {
		name string
		body string
		kind providers.Kind // "" = success
		text string
	}{
		{"no usage chunk", chunk("a", "") + chunk("b", "stop") + "data: [DONE]\n\n", "", "ab"},
		{"no [DONE] but finished", chunk("a", "stop"), "", "a"},
		{"ends cleanly without finish reason", chunk("a", "") + chunk("b", ""), providers.KindStreamTruncated, ""},
		{"error event mid-stream, server_error", chunk("a", "") + `data: {"error":{"message":"overloaded","type":"server_error","code":null}}` + "\n\n", providers.KindUnavailable, ""},
		{"error event mid-stream, content filter", chunk("a", "") + `data: {"error":{"message":"filtered","type":"invalid_request_error","code":"content_filter"}}` + "\n\n", providers.KindContentFilter, ""},
		{"malformed chunk", chunk("a", "") + "data: {\"choices\": [oops]}\n\n", providers.KindBadResponse, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sseServer(t, tt.body)
			c := newClient(t, openai.Config{BaseURL: srv.URL + "/v1"})
			resp, err := c.Stream(context.Background(), userRequest("m"), func(providers.Chunk) error { return nil })
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				if resp.Text != tt.text || resp.Model != "m-1" {
					t.Errorf("resp = %+v", resp)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != tt.kind {
				t.Errorf("err = %v, want kind %s", err, tt.kind)
			}
		})
	}
}

func TestNoResponses(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c := newClient(t, openai.Config{BaseURL: "http://" + addr + "/v1"})
		_, err = c.Generate(context.Background(), userRequest("m"))
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindUnavailable || pe.StatusCode != 0 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("http client timeout", func(t *testing.T) {
		srv := providertest.NewOpenAIServer(t)
		srv.Script(providertest.Behavior{Delay: 5 * time.Second}, providertest.Behavior{Text: "a b c", ChunkDelay: 5 * time.Second})
		c := newClient(t, openai.Config{BaseURL: srv.URL(), HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
		_, err := c.Generate(context.Background(), userRequest("m"))
		if k := providers.KindOf(err); k != providers.KindTimeout {
			t.Errorf("before headers: kind %s (%v)", k, err)
		}
		_, err = c.Stream(context.Background(), userRequest("m"), func(providers.Chunk) error { return nil })
		if k := providers.KindOf(err); k != providers.KindTimeout {
			t.Errorf("mid-stream: kind %s (%v)", k, err)
		}
	})
	t.Run("no choices", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"id":"x","object":"chat.completion","model":"m","choices":[]}`)
		}))
		defer srv.Close()
		c := newClient(t, openai.Config{BaseURL: srv.URL + "/v1"})
		if _, err := c.Generate(context.Background(), userRequest("m")); providers.KindOf(err) != providers.KindBadResponse {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("invalid requests never sent", func(t *testing.T) {
		srv := providertest.NewOpenAIServer(t)
		c := newClient(t, openai.Config{BaseURL: srv.URL()})
		for _, req := range []*providers.Request{
			{Messages: []providers.Message{{Role: "user", Content: "x"}}}, // no model
			{Model: "m"}, // no messages
			{Model: "m", Messages: []providers.Message{{Role: "user", Content: "x"}}, MaxTokens: -1},
		} {
			if _, err := c.Generate(context.Background(), req); providers.KindOf(err) != providers.KindInvalidRequest {
				t.Errorf("%+v: err = %v", req, err)
			}
		}
		if srv.Count() != 0 {
			t.Errorf("%d requests sent", srv.Count())
		}
	})
	t.Run("bad base URLs", func(t *testing.T) {
		for _, u := range []string{"ftp://x/v1", "not a url", "http://user:secret@host/v1", "/v1"} {
			_, err := openai.New(openai.Config{BaseURL: u})
			if err == nil {
				t.Errorf("%q accepted", u)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks URL credentials: %v", err)
			}
		}
	})
}

func TestResponseConversion(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",
		"choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"length"}],
		"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_tokens_details":{"cached_tokens":64}}}`)
	}))
	defer srv.Close()
	c := newClient(t, openai.Config{BaseURL: srv.URL + "/v1"})
	resp, err := c.Generate(context.Background(), userRequest("gpt-4o-mini"))
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Response{Text: "hello", FinishReason: "length", Model: "gpt-4o-mini-2024-07-18",
		Usage: providers.Usage{InputTokens: 100, CachedInputTokens: 64, OutputTokens: 5}}
	if *resp != want {
		t.Errorf("resp = %+v, want %+v", *resp, want)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	srv.Script(providertest.Behavior{Status: http.StatusTooManyRequests, RetryAfter: "1"})
	p := providers.Retry(newClient(t, openai.Config{BaseURL: srv.URL()}),
		providers.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxRetryAfter: 5 * time.Second})
	start := time.Now()
	resp, err := p.Generate(context.Background(), userRequest("gpt-4o-mini"))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if elapsed < 950*time.Millisecond {
		t.Errorf("second attempt after %v, want ≥ 1s (Retry-After: 1)", elapsed)
	}
	if srv.Count() != 2 || resp.Attempts != 2 {
		t.Errorf("requests %d attempts %d, want 2 and 2", srv.Count(), resp.Attempts)
	}
}

func TestRetryAfterBeyondCapGivesUp(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	srv.Script(providertest.Behavior{Status: http.StatusTooManyRequests, RetryAfter: "120"})
	p := providers.Retry(newClient(t, openai.Config{BaseURL: srv.URL()}), providers.RetryConfig{MaxAttempts: 3, MaxRetryAfter: 60 * time.Second})
	start := time.Now()
	_, err := p.Generate(context.Background(), userRequest("m"))
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != providers.KindRateLimit || pe.RetryAfter != 120*time.Second || pe.Attempts != 1 {
		t.Fatalf("err = %+v", err)
	}
	if time.Since(start) > 5*time.Second || srv.Count() != 1 {
		t.Errorf("waited or retried: %d requests", srv.Count())
	}
}

func TestServerErrorsRetriedAndBounded(t *testing.T) {
	cfg := providers.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	t.Run("recovers", func(t *testing.T) {
		srv := providertest.NewOpenAIServer(t)
		srv.Script(providertest.Behavior{Status: 500}, providertest.Behavior{Status: 503}, providertest.Behavior{Text: "finally"})
		resp, err := providers.Retry(newClient(t, openai.Config{BaseURL: srv.URL()}), cfg).Generate(context.Background(), userRequest("m"))
		if err != nil || resp.Text != "finally" || resp.Attempts != 3 || srv.Count() != 3 {
			t.Fatalf("resp %+v err %v count %d", resp, err, srv.Count())
		}
	})
	t.Run("bounded", func(t *testing.T) {
		srv := providertest.NewOpenAIServer(t, providertest.WithDefault(providertest.Behavior{Status: 500}))
		_, err := providers.Retry(newClient(t, openai.Config{BaseURL: srv.URL()}), cfg).Generate(context.Background(), userRequest("m"))
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindUnavailable || pe.Attempts != 3 {
			t.Fatalf("err = %+v", err)
		}
		if srv.Count() != 3 {
			t.Errorf("requests = %d, want exactly 3", srv.Count())
		}
	})
	t.Run("client errors not retried", func(t *testing.T) {
		srv := providertest.NewOpenAIServer(t, providertest.WithDefault(providertest.Behavior{Status: 400}))
		providers.Retry(newClient(t, openai.Config{BaseURL: srv.URL()}), cfg).Generate(context.Background(), userRequest("m"))
		if srv.Count() != 1 {
			t.Errorf("requests = %d, want 1", srv.Count())
		}
	})
	t.Run("malformed and cut bodies retried, then an error not a crash", func(t *testing.T) {
		srv := providertest.NewOpenAIServer(t)
		srv.Script(providertest.Behavior{Malformed: true}, providertest.Behavior{CutBody: true}, providertest.Behavior{Malformed: true})
		_, err := providers.Retry(newClient(t, openai.Config{BaseURL: srv.URL()}), cfg).Generate(context.Background(), userRequest("m"))
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindBadResponse || pe.Attempts != 3 {
			t.Fatalf("err = %+v", err)
		}
	})
}

func TestCacheHitsIssueNoRequest(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithResponder(func(r providertest.WireRequest) string { return "re: " + r.Prompt() }))
	store, err := providers.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := providers.Cached(newClient(t, openai.Config{BaseURL: srv.URL()}), store, providers.CacheConfig{Scope: "openai@" + srv.URL()})
	ctx := context.Background()
	req := userRequest("gpt-4o-mini")
	req.Temperature = providers.Float64(0)
	first, err := c.Generate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		resp, err := c.Generate(ctx, req)
		if err != nil || !resp.Cached || resp.Text != first.Text || resp.Model != "gpt-4o-mini" {
			t.Fatalf("resp %+v err %v", resp, err)
		}
	}
	if srv.Count() != 1 {
		t.Errorf("requests = %d after cache hits, want 1", srv.Count())
	}
	// A streamed hit: no request, one chunk.
	var chunks []string
	resp, err := c.(providers.Streamer).Stream(ctx, req, func(ch providers.Chunk) error { chunks = append(chunks, ch.Text); return nil })
	if err != nil || !resp.Cached || len(chunks) != 1 || srv.Count() != 1 {
		t.Errorf("streamed hit: %+v %v chunks %q requests %d", resp, err, chunks, srv.Count())
	}
	// Repeat 1 is a new sample.
	if r, _ := c.Generate(providers.WithRepeat(ctx, 1), req); r.Cached || srv.Count() != 2 {
		t.Errorf("repeat 1: cached %v, requests %d", r.Cached, srv.Count())
	}
	// Errors are not cached.
	srv.Script(providertest.Behavior{Status: 500})
	req2 := userRequest("gpt-4o-mini")
	req2.Messages[0].Content = "other"
	if _, err := c.Generate(ctx, req2); err == nil {
		t.Fatal("want the scripted 500")
	}
	if r, err := c.Generate(ctx, req2); err != nil || r.Cached {
		t.Errorf("after an error: %+v %v", r, err)
	}
	if srv.Count() != 4 {
		t.Errorf("requests = %d, want 4", srv.Count())
	}
	if h, m := c.Stats(); h != 4 || m != 4 {
		t.Errorf("Stats = %d/%d, want 4 hits 4 misses", h, m)
	}
}

func TestLimitOnTheWire(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithDefault(providertest.Behavior{Delay: 20 * time.Millisecond}))
	p := providers.Limit(newClient(t, openai.Config{BaseURL: srv.URL()}), providers.LimitConfig{Concurrency: 3})
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			if _, err := p.Generate(context.Background(), userRequest("m")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if peak := srv.PeakInFlight(); peak > 3 {
		t.Errorf("server saw %d requests in flight, limit 3", peak)
	}
	if srv.Count() != 24 {
		t.Errorf("requests = %d", srv.Count())
	}
}

func TestKeyNeverLeaks(t *testing.T) {
	const key = "sk-SECRET-do-not-print-0123456789"
	srv := providertest.NewOpenAIServer(t)
	cfg := openai.Config{APIKey: key, BaseURL: srv.URL()}
	c := newClient(t, cfg)
	var outputs []string
	outputs = append(outputs, fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v %+v %s", c, c, c))
	for _, b := range []providertest.Behavior{{Status: 401}, {Status: 429, RetryAfter: "1"}, {Status: 502, HTML: true}, {Malformed: true}, {CutBody: true}} {
		srv.Script(b)
		_, err := c.Generate(context.Background(), userRequest("m"))
		outputs = append(outputs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
	}
	for _, o := range outputs {
		if strings.Contains(o, key) || strings.Contains(o, "SECRET") {
			t.Errorf("output leaks the key: %s", o)
		}
	}
	if got := srv.Requests()[0].Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("key not sent: %q", got)
	}
}
