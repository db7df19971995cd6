package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/yardstick-eval/yardstick/providers"
)

func TestNormFinish(t *testing.T) {
	tests := []struct {
		in   genai.FinishReason
		want string
	}{
		{"", ""},
		{genai.FinishReasonStop, "stop"},
		{genai.FinishReasonMaxTokens, "length"},
		{genai.FinishReasonSafety, "content_filter"},
		{genai.FinishReasonRecitation, "content_filter"},
		{genai.FinishReasonBlocklist, "content_filter"},
		{genai.FinishReasonProhibitedContent, "content_filter"},
		{genai.FinishReasonSPII, "content_filter"},
		{genai.FinishReasonLanguage, "language"},
		{genai.FinishReasonOther, "other"},
		{genai.FinishReasonMalformedFunctionCall, "malformed_function_call"},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			if got := normFinish(tt.in); got != tt.want {
				t.Errorf("normFinish(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestToUsage(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want providers.Usage
	}{
		{"nil", `null`, providers.Usage{}},
		{"plain", `{"promptTokenCount":12,"candidatesTokenCount":5,"totalTokenCount":17}`,
			providers.Usage{InputTokens: 12, OutputTokens: 5}},
		{"cached part of prompt", `{"promptTokenCount":1000,"cachedContentTokenCount":800,"candidatesTokenCount":5}`,
			providers.Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 5}},
		{"thoughts count as output", `{"promptTokenCount":10,"candidatesTokenCount":5,"thoughtsTokenCount":40,"totalTokenCount":55}`,
			providers.Usage{InputTokens: 10, OutputTokens: 45}},
		{"tool use prompt counts as input", `{"promptTokenCount":10,"toolUsePromptTokenCount":7,"candidatesTokenCount":1}`,
			providers.Usage{InputTokens: 17, OutputTokens: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u *genai.GenerateContentResponseUsageMetadata
			if err := json.Unmarshal([]byte(tt.in), &u); err != nil {
				t.Fatal(err)
			}
			if got := toUsage(u); got != tt.want {
				t.Errorf("toUsage = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestToContents(t *testing.T) {
	req := &providers.Request{
		System: "sys",
		Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: "more sys"},
			{Role: providers.RoleUser, Content: "q1"},
			{Role: providers.RoleAssistant, Content: "a1"},
			{Role: providers.RoleUser, Content: "q2"},
		},
	}
	contents, system, err := toContents(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(contents)
	want := `[{"parts":[{"text":"q1"}],"role":"user"},{"parts":[{"text":"a1"}],"role":"model"},{"parts":[{"text":"q2"}],"role":"user"}]`
	if string(got) != want {
		t.Errorf("contents = %s\nwant %s", got, want)
	}
	if len(system.Parts) != 2 || system.Parts[0].Text != "sys" || system.Parts[1].Text != "more sys" {
		t.Errorf("system = %+v", system)
	}

	bad := []struct {
		name string
		req  *providers.Request
	}{
		{"unknown role", &providers.Request{Messages: []providers.Message{{Role: "tool", Content: "x"}}}},
		{"only system", &providers.Request{Messages: []providers.Message{{Role: "system", Content: "x"}}}},
		{"empty", &providers.Request{}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := toContents(tt.req)
			if providers.KindOf(err) != providers.KindInvalidRequest {
				t.Errorf("err = %v, want invalid_request", err)
			}
		})
	}
}

func TestToConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		req  providers.Request
	}{
		{"seed beyond int32", providers.Request{Seed: providers.Int64(1 << 40)}},
		{"negative max tokens", providers.Request{MaxTokens: -1}},
		{"schema not JSON", providers.Request{JSONSchema: json.RawMessage(`{"type":`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := toConfig(&tt.req, nil)
			if providers.KindOf(err) != providers.KindInvalidRequest {
				t.Errorf("err = %v, want invalid_request", err)
			}
		})
	}
}

func TestFromAPIError(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		header     string // Retry-After
		wantKind   providers.Kind
		wantCode   int
		wantRetry  time.Duration
		wantPrefix string
	}{
		{"rate limit with RetryInfo", `{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}`,
			"", providers.KindRateLimit, 429, 13 * time.Second, "quota"},
		{"fractional retryDelay", `{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.500s"}]}`,
			"", providers.KindRateLimit, 429, 1500 * time.Millisecond, ""},
		{"header larger than RetryInfo", `{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1s"}]}`,
			"3", providers.KindRateLimit, 429, 3 * time.Second, ""},
		{"header only", `{"code":503,"status":"UNAVAILABLE","message":"overloaded"}`,
			"2", providers.KindUnavailable, 503, 2 * time.Second, "overloaded"},
		{"invalid argument", `{"code":400,"status":"INVALID_ARGUMENT","message":"bad"}`,
			"", providers.KindInvalidRequest, 400, 0, "bad"},
		{"bad api key is auth", `{"code":400,"status":"INVALID_ARGUMENT","message":"API key not valid","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}`,
			"", providers.KindAuth, 400, 0, "API key"},
		{"not found", `{"code":404,"status":"NOT_FOUND"}`, "", providers.KindNotFound, 404, 0, ""},
		{"permission denied", `{"code":403,"status":"PERMISSION_DENIED"}`, "", providers.KindAuth, 403, 0, ""},
		{"unauthenticated", `{"code":401,"status":"UNAUTHENTICATED"}`, "", providers.KindAuth, 401, 0, ""},
		{"deadline", `{"code":504,"status":"DEADLINE_EXCEEDED"}`, "", providers.KindTimeout, 504, 0, ""},
		{"internal", `{"code":500,"status":"INTERNAL"}`, "", providers.KindUnavailable, 500, 0, ""},
		{"status wins over code", `{"code":400,"status":"RESOURCE_EXHAUSTED"}`, "", providers.KindRateLimit, 400, 0, ""},
		{"HTML page: code, and no markup in the message", `{"code":502,"status":"502 Bad Gateway","message":"<html>bad gateway</html>"}`,
			"", providers.KindUnavailable, 502, 0, "Bad Gateway (text/html error body)"},
		{"no status, no code: from the exchange", `{"message":"x"}`, "", providers.KindRateLimit, 429, 0, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae genai.APIError
			if err := json.Unmarshal([]byte(tt.body), &ae); err != nil {
				t.Fatal(err)
			}
			x := &exchange{status: ae.Code, retryAfter: tt.header, mediaType: "application/json"}
			if ae.Status == "502 Bad Gateway" {
				x.mediaType = "text/html"
			}
			if ae.Code == 0 {
				x.status = 429
			}
			pe := fromAPIError(ae, x)
			if pe.Kind != tt.wantKind || pe.StatusCode != tt.wantCode || pe.RetryAfter != tt.wantRetry {
				t.Errorf("got kind=%s code=%d retry=%v, want %s %d %v", pe.Kind, pe.StatusCode, pe.RetryAfter, tt.wantKind, tt.wantCode, tt.wantRetry)
			}
			if len(pe.Message) < len(tt.wantPrefix) || pe.Message[:len(tt.wantPrefix)] != tt.wantPrefix {
				t.Errorf("message = %q, want prefix %q", pe.Message, tt.wantPrefix)
			}
			var got genai.APIError
			if !errors.As(pe, &got) || got.Code != ae.Code {
				t.Errorf("Err chain lost the genai.APIError: %#v", pe.Err)
			}
		})
	}
}

func TestFromErrorTransport(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		want   providers.Kind
	}{
		{"caller canceled", canceled, fmt.Errorf("doRequest: %w", context.Canceled), 0, providers.KindCanceled},
		{"malformed JSON", context.Background(), fmt.Errorf("deserialize: %w", &json.SyntaxError{}), 200, providers.KindBadResponse},
		{"body cut", context.Background(), io.ErrUnexpectedEOF, 200, providers.KindBadResponse},
		{"closed before response", context.Background(), fmt.Errorf("doRequest: %w", io.EOF), 0, providers.KindUnavailable},
		{"APIError by value", context.Background(), fmt.Errorf("wrapped: %w", genai.APIError{Code: 404, Status: "NOT_FOUND"}), 404, providers.KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fromError(tt.ctx, tt.err, &exchange{status: tt.status})
			if got := providers.KindOf(err); got != tt.want {
				t.Errorf("kind = %s, want %s (%v)", got, tt.want, err)
			}
			if !errors.Is(err, tt.err) && !errors.Is(err, errors.Unwrap(tt.err)) {
				var ae genai.APIError
				if !errors.As(err, &ae) {
					t.Errorf("underlying error lost: %v", err)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"-1", 0},
		{"soon", 0},
		{now.Add(30 * time.Second).Format(timeFormatHTTP), 30 * time.Second},
		{now.Add(-30 * time.Second).Format(timeFormatHTTP), 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

const timeFormatHTTP = "Mon, 02 Jan 2006 15:04:05 GMT"
