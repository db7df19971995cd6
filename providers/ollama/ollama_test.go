package ollama_test

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
	"github.com/yardstick-eval/yardstick/providers/ollama"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

const model = "llama3.2"

func newClient(t *testing.T, cfg ollama.Config, opts ...providertest.OllamaOption) (*ollama.Client, *providertest.OllamaServer) {
	t.Helper()
	srv := providertest.NewOllamaServer(t, opts...)
	cfg.BaseURL, cfg.HTTPClient = srv.URL(), srv.Client()
	c, err := ollama.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestConformance(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		Name:  "ollama",
		Model: model,
		New: func(t *testing.T, b providers.Bounds) (providers.Provider, providertest.Fake) {
			c, srv := newClient(t, ollama.Config{Bounds: b})
			return c, srv
		},
	})
}

func req(prompt string) *providers.Request {
	return &providers.Request{Model: model, Messages: []providers.Message{{Role: providers.RoleUser, Content: prompt}}}
}

// TestWireBody reads the request bodies api.Client actually sends.
func TestWireBody(t *testing.T) {
	tests := []struct {
		name       string
		cfg        ollama.Config
		req        providers.Request
		stream     bool
		wantOpts   string
		wantStream bool
		wantExtra  map[string]string // top-level fields, as JSON
	}{
		{
			name:     "temperature zero reaches the wire",
			req:      providers.Request{Temperature: providers.Float64(0)},
			wantOpts: `{"temperature":0}`,
		},
		{
			name:     "unset knobs are absent",
			wantOpts: `{}`,
		},
		{
			name: "every knob, streaming, keep-alive, format",
			cfg:  ollama.Config{KeepAlive: 30 * time.Minute},
			req: providers.Request{Temperature: providers.Float64(0.3), TopP: providers.Float64(0), Seed: providers.Int64(0), MaxTokens: 128,
				Stop: []string{"###"}, JSONSchema: json.RawMessage(`{"type":"object"}`)},
			stream:     true,
			wantOpts:   `{"num_predict":128,"seed":0,"stop":["###"],"temperature":0.3,"top_p":0}`,
			wantStream: true,
			wantExtra:  map[string]string{"format": `{"type":"object"}`, "keep_alive": `"30m0s"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t, tt.cfg)
			r := tt.req
			r.Model = model
			r.Messages = []providers.Message{{Role: providers.RoleUser, Content: "hi"}}
			var err error
			if tt.stream {
				_, err = c.Stream(context.Background(), &r, func(providers.Chunk) error { return nil })
			} else {
				_, err = c.Generate(context.Background(), &r)
			}
			if err != nil {
				t.Fatal(err)
			}
			w := srv.Requests()[0]
			var body map[string]json.RawMessage
			if err := json.Unmarshal(w.Body, &body); err != nil {
				t.Fatal(err)
			}
			if got := string(body["options"]); got != tt.wantOpts {
				t.Errorf("options = %s, want %s", got, tt.wantOpts)
			}
			if got := string(body["stream"]); got != map[bool]string{true: "true", false: "false"}[tt.wantStream] {
				t.Errorf("stream = %s, want %v (Generate must send an explicit false)", got, tt.wantStream)
			}
			for k, want := range tt.wantExtra {
				if got := string(body[k]); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

func TestTimings(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "generate", true: "stream"}[stream], func(t *testing.T) {
			c, srv := newClient(t, ollama.Config{})
			u := providers.Usage{InputTokens: 20, OutputTokens: 5}
			srv.Script(providertest.Behavior{Text: "a b c d e", Usage: &u})
			var tm ollama.Timings
			ctx := ollama.WithTimings(context.Background(), &tm)
			var resp *providers.Response
			var err error
			if stream {
				resp, err = c.Stream(ctx, req("q"), func(providers.Chunk) error { return nil })
			} else {
				resp, err = c.Generate(ctx, req("q"))
			}
			if err != nil {
				t.Fatal(err)
			}
			want := ollama.Timings{
				Load:            providertest.OllamaLoadDuration,
				PromptEval:      20 * providertest.OllamaPromptEvalPerToken,
				Eval:            5 * providertest.OllamaEvalPerToken,
				PromptEvalCount: 20,
				EvalCount:       5,
			}
			want.Total = want.Load + want.PromptEval + want.Eval
			if tm != want {
				t.Errorf("Timings = %+v\nwant %+v", tm, want)
			}
			if resp.Usage != u {
				t.Errorf("Usage = %+v", resp.Usage)
			}
			if stream != (resp.TTFT > 0) {
				t.Errorf("TTFT = %v with stream=%v", resp.TTFT, stream)
			}
		})
	}
	t.Run("failed call leaves timings alone", func(t *testing.T) {
		c, srv := newClient(t, ollama.Config{})
		srv.Script(providertest.Behavior{Status: 500})
		tm := ollama.Timings{EvalCount: -1}
		if _, err := c.Generate(ollama.WithTimings(context.Background(), &tm), req("q")); err == nil {
			t.Fatal("want an error")
		}
		if tm.EvalCount != -1 {
			t.Errorf("timings written on failure: %+v", tm)
		}
	})
}

func TestModelNotFound(t *testing.T) {
	c, _ := newClient(t, ollama.Config{}, providertest.WithOllamaModels("llama3.2"))
	r := req("q")
	r.Model = "llama9"
	_, err := c.Generate(context.Background(), r)
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != providers.KindNotFound || pe.StatusCode != 404 || pe.Message != "model 'llama9' not found" {
		t.Fatalf("err = %v, want not_found 404 with Ollama's message", err)
	}
	if _, err := c.Generate(context.Background(), req("q")); err != nil {
		t.Errorf("known model: %v", err)
	}
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		name string
		b    providertest.Behavior
		want string
	}{
		{"stop", providertest.Behavior{Text: "x"}, "stop"},
		{"length", providertest.Behavior{Text: "x", FinishReason: "length"}, "length"},
		{"unload passes through", providertest.Behavior{Text: "x", FinishReason: "unload"}, "unload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newClient(t, ollama.Config{})
			srv.Script(tt.b)
			resp, err := c.Generate(context.Background(), req("q"))
			if err != nil {
				t.Fatal(err)
			}
			if resp.FinishReason != tt.want {
				t.Errorf("FinishReason = %q, want %q", resp.FinishReason, tt.want)
			}
		})
	}
}

// rawServer answers every request with status and body.
func rawServer(t *testing.T, status int, contentType, body string, header http.Header) *ollama.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := ollama.New(ollama.Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRawBodies covers answers the scripted fake does not produce, where
// api.Client loses information the adapter recovers from the exchange.
func TestRawBodies(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		ctype     string
		body      string
		header    http.Header
		stream    bool
		want      providers.Kind
		wantCode  int
		wantRetry time.Duration
	}{
		// api.Client returns nil for an error status with an empty body.
		{"503 with empty body", 503, "", "", http.Header{"Retry-After": {"4"}}, false, providers.KindUnavailable, 503, 4 * time.Second},
		{"429 with empty body", 429, "", "", http.Header{"Retry-After": {"1"}}, true, providers.KindRateLimit, 429, time.Second},
		// Ollama reports a failure mid-stream as an error object in a 200 stream.
		{"error event in a stream", 200, "application/x-ndjson",
			`{"model":"m","message":{"role":"assistant","content":"par"},"done":false}` + "\n" + `{"error":"llama runner process has terminated"}` + "\n",
			nil, true, providers.KindBadResponse, 200, 0},
		// A stream that stops without done:true and without a read error.
		{"stream without done", 200, "application/x-ndjson",
			`{"model":"m","message":{"role":"assistant","content":"par"},"done":false}` + "\n", nil, true, providers.KindStreamTruncated, 200, 0},
		{"wrong JSON type", 200, "application/json", `{"model":"m","message":"oops","done":true}`, nil, false, providers.KindBadResponse, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawServer(t, tt.status, tt.ctype, tt.body, tt.header)
			var err error
			if tt.stream {
				_, err = c.Stream(context.Background(), req("q"), func(providers.Chunk) error { return nil })
			} else {
				_, err = c.Generate(context.Background(), req("q"))
			}
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *providers.Error", err)
			}
			if pe.Kind != tt.want || pe.StatusCode != tt.wantCode || pe.RetryAfter != tt.wantRetry || pe.Provider != "ollama" {
				t.Errorf("got %s %d %v %q, want %s %d %v", pe.Kind, pe.StatusCode, pe.RetryAfter, pe.Provider, tt.want, tt.wantCode, tt.wantRetry)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := ollama.New(ollama.Config{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Generate(context.Background(), req("q"))
	if k := providers.KindOf(err); k != providers.KindUnavailable {
		t.Errorf("err = %v, want unavailable", err)
	}
}

func TestHeaders(t *testing.T) {
	c, srv := newClient(t, ollama.Config{Headers: http.Header{"authorization": {"Bearer proxy-token"}, "X-Team": {"evals"}}})
	if _, err := c.Generate(context.Background(), req("q")); err != nil {
		t.Fatal(err)
	}
	h := srv.Requests()[0].Header
	if h.Get("Authorization") != "Bearer proxy-token" || h.Get("X-Team") != "evals" {
		t.Errorf("headers = %v", h)
	}
}

func TestModelDefaultAndResponder(t *testing.T) {
	c, srv := newClient(t, ollama.Config{Model: "qwen2.5:0.5b"}, providertest.WithOllamaResponder(func(r providertest.WireRequest) string {
		return "echo " + strings.ToLower(r.Prompt())
	}))
	resp, err := c.Generate(context.Background(), &providers.Request{Messages: []providers.Message{{Role: "user", Content: "HELLO"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "echo hello" || resp.Model != "qwen2.5:0.5b" || srv.Requests()[0].Model != "qwen2.5:0.5b" {
		t.Errorf("resp = %+v, wire model %q", resp, srv.Requests()[0].Model)
	}
}
