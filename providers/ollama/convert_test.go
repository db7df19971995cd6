package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/envconfig"

	"github.com/yardstick-eval/yardstick/providers"
)

func TestToChatRequestWire(t *testing.T) {
	tests := []struct {
		name string
		req  providers.Request
		want string // the JSON api.Client sends
	}{
		{
			name: "unset knobs are absent",
			req:  providers.Request{Messages: []providers.Message{{Role: "user", Content: "hi"}}},
			want: `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{}}`,
		},
		{
			name: "temperature zero and every knob",
			req: providers.Request{
				System:      "be brief",
				Messages:    []providers.Message{{Role: "user", Content: "q"}, {Role: "assistant", Content: "a"}, {Content: "q2"}},
				Temperature: providers.Float64(0),
				TopP:        providers.Float64(0.5),
				Seed:        providers.Int64(42),
				MaxTokens:   16,
				Stop:        []string{"\n\n", "END"},
				JSONSchema:  json.RawMessage(`{"type":"object"}`),
			},
			want: `{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"q2"}],"stream":false,"format":{"type":"object"},"options":{"num_predict":16,"seed":42,"stop":["\n\n","END"],"temperature":0,"top_p":0.5}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, err := toChatRequest(&tt.req, "m", false, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(cr)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("wire =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestToChatRequestRejects(t *testing.T) {
	tests := []struct {
		name string
		req  providers.Request
	}{
		{"no messages", providers.Request{}},
		{"only system", providers.Request{Messages: []providers.Message{{Role: "system", Content: "x"}}}},
		{"unknown role", providers.Request{Messages: []providers.Message{{Role: "tool", Content: "x"}}}},
		{"negative max tokens", providers.Request{MaxTokens: -2, Messages: []providers.Message{{Role: "user", Content: "x"}}}},
		{"schema not JSON", providers.Request{JSONSchema: json.RawMessage(`{`), Messages: []providers.Message{{Role: "user", Content: "x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := toChatRequest(&tt.req, "m", true, nil)
			if providers.KindOf(err) != providers.KindInvalidRequest {
				t.Errorf("err = %v, want invalid_request", err)
			}
		})
	}
}

func TestFromError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	sentinel := errors.New("caller says stop")
	tests := []struct {
		name      string
		ctx       context.Context
		err       error
		x         *exchange
		want      providers.Kind
		wantCode  int
		wantRetry time.Duration
	}{
		{"model not found", context.Background(), api.StatusError{StatusCode: 404, ErrorMessage: "model 'nope' not found"}, &exchange{status: 404}, providers.KindNotFound, 404, 0},
		{"rate limited with Retry-After", context.Background(), api.StatusError{StatusCode: 429, ErrorMessage: "busy"}, &exchange{status: 429, retryAfter: "2"}, providers.KindRateLimit, 429, 2 * time.Second},
		{"server error", context.Background(), api.StatusError{StatusCode: 500, ErrorMessage: "runner crashed"}, &exchange{status: 500}, providers.KindUnavailable, 500, 0},
		{"bad request", context.Background(), api.StatusError{StatusCode: 400, ErrorMessage: "invalid options"}, &exchange{status: 400}, providers.KindInvalidRequest, 400, 0},
		{"authorization", context.Background(), api.AuthorizationError{StatusCode: 401, SigninURL: "https://ollama.com/connect"}, &exchange{status: 401}, providers.KindAuth, 401, 0},
		{"malformed line after 200", context.Background(), errors.New("{not json"), &exchange{status: 200}, providers.KindBadResponse, 200, 0},
		{"closed before response", context.Background(), fmt.Errorf("Post: %w", io.EOF), &exchange{}, providers.KindUnavailable, 0, 0},
		{"canceled", canceled, fmt.Errorf("read: %w", context.Canceled), &exchange{status: 200}, providers.KindCanceled, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fromError(tt.ctx, tt.err, tt.x)
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("not a *providers.Error: %v", err)
			}
			if pe.Kind != tt.want || pe.StatusCode != tt.wantCode || pe.RetryAfter != tt.wantRetry {
				t.Errorf("got kind=%s code=%d retry=%v, want %s %d %v", pe.Kind, pe.StatusCode, pe.RetryAfter, tt.want, tt.wantCode, tt.wantRetry)
			}
		})
	}
	t.Run("callback error returned unchanged", func(t *testing.T) {
		err := fromError(context.Background(), callbackError{sentinel}, &exchange{status: 200})
		if err != sentinel {
			t.Errorf("err = %v, want the callback's own error", err)
		}
	})
}

func TestIncomplete(t *testing.T) {
	tests := []struct {
		name     string
		x        *exchange
		want     providers.Kind
		wantCode int
	}{
		{"empty error body", &exchange{status: 503, retryAfter: "1"}, providers.KindUnavailable, 503},
		{"cut stream", &exchange{status: 200, readErr: io.ErrUnexpectedEOF}, providers.KindBadResponse, 200},
		{"stopped without done", &exchange{status: 200}, providers.KindStreamTruncated, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := incomplete(context.Background(), tt.x, 2)
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != tt.want || pe.StatusCode != tt.wantCode {
				t.Errorf("got %v, want kind %s code %d", err, tt.want, tt.wantCode)
			}
		})
	}
}

func TestTimingsDerived(t *testing.T) {
	tm := toTimings(api.Metrics{TotalDuration: 3 * time.Second, LoadDuration: time.Second, PromptEvalDuration: 500 * time.Millisecond,
		EvalDuration: 2 * time.Second, PromptEvalCount: 10, EvalCount: 50})
	if got := tm.ServerTTFT(); got != 1500*time.Millisecond {
		t.Errorf("ServerTTFT = %v", got)
	}
	if got := tm.OutputTokensPerSecond(); got != 25 {
		t.Errorf("OutputTokensPerSecond = %v", got)
	}
	if got := (Timings{}).OutputTokensPerSecond(); got != 0 {
		t.Errorf("zero timings: %v", got)
	}
}

func TestNewBaseURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:11434", true},
		{"https://ollama.example.com/prefix/", true},
		{"127.0.0.1:11434", false},
		{"ftp://x", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := New(Config{BaseURL: tt.url})
			if (err == nil) != tt.ok {
				t.Errorf("New(%q) err = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
	t.Run("HostURL matches envconfig.Host", func(t *testing.T) {
		for _, v := range []string{"", "0.0.0.0", "10.1.2.3:9999", "example.com", "example.com:8080", "http://example.com",
			"https://example.com", "https://example.com:8443/ollama", "[::1]:11434", "::1", "ollama.com", " 'localhost:1234' ", "host:badport"} {
			t.Setenv("OLLAMA_HOST", v)
			if got, want := HostURL(v), envconfig.Host().String(); got != want {
				t.Errorf("HostURL(%q) = %q, envconfig.Host() = %q", v, got, want)
			}
		}
	})
	t.Run("OLLAMA_HOST", func(t *testing.T) {
		t.Setenv("OLLAMA_HOST", "10.1.2.3:9999")
		if got := DefaultConfig().BaseURL; got != "http://10.1.2.3:9999" {
			t.Errorf("DefaultConfig().BaseURL = %q", got)
		}
		t.Setenv("OLLAMA_HOST", "")
		if got := DefaultConfig().BaseURL; got != "http://127.0.0.1:11434" {
			t.Errorf("default BaseURL = %q", got)
		}
	})
}
