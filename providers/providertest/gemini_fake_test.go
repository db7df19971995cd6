package providertest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// fakePost sends body to url with headers and returns the response, closed
// at cleanup.
func fakePost(t *testing.T, url, body string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const geminiBody = `{"contents":[{"role":"user","parts":[{"text":"hello there"}]},{"role":"model","parts":[{"text":"hi"}]},{"role":"user","parts":[{"text":"bye now"}]}],` +
	`"systemInstruction":{"role":"user","parts":[{"text":"be terse"}]},` +
	`"generationConfig":{"temperature":0,"maxOutputTokens":50,"stopSequences":["END"],"responseMimeType":"application/json","responseJsonSchema":{"type":"object"}}}`

func TestGeminiFakeGenerate(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.WithGeminiResponder(func(r providertest.WireRequest) string {
		return "echo: " + r.Prompt()
	}))
	resp := fakePost(t, srv.URL()+"/v1beta/models/gemini-2.5-flash:generateContent", geminiBody, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d type %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var body struct {
		Candidates []struct {
			Content struct {
				Role  string
				Parts []struct{ Text string }
			}
			FinishReason string
		}
		UsageMetadata struct {
			PromptTokenCount, CandidatesTokenCount, TotalTokenCount int
		}
		ModelVersion string
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Candidates) != 1 || body.Candidates[0].Content.Role != "model" || body.Candidates[0].Content.Parts[0].Text != "echo: bye now" ||
		body.Candidates[0].FinishReason != "STOP" || body.ModelVersion != "gemini-2.5-flash" {
		t.Errorf("body = %+v", body)
	}
	// "be terse" + "hello there" + "hi" + "bye now" = 27 characters → 7 tokens.
	if u := body.UsageMetadata; u.PromptTokenCount != 7 || u.CandidatesTokenCount != 3 || u.TotalTokenCount != 10 {
		t.Errorf("usage = %+v", u)
	}
	w := srv.Requests()[0]
	wantMsgs := []providers.Message{{Role: "system", Content: "be terse"}, {Role: "user", Content: "hello there"}, {Role: "assistant", Content: "hi"}, {Role: "user", Content: "bye now"}}
	if w.Model != "gemini-2.5-flash" || w.Stream || w.Temperature == nil || *w.Temperature != 0 || w.TopP != nil || w.Seed != nil ||
		w.MaxTokens == nil || *w.MaxTokens != 50 || !reflect.DeepEqual(w.Stop, []string{"END"}) ||
		!reflect.DeepEqual(w.Messages, wantMsgs) || string(w.JSONSchema) != `{"type":"object"}` {
		t.Errorf("decoded request = %+v", w)
	}
	if srv.Count() != 1 {
		t.Errorf("Count = %d", srv.Count())
	}
}

func TestGeminiFakePaths(t *testing.T) {
	tests := []struct {
		path      string
		wantModel string
		wantCode  int
	}{
		{"/v1beta/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash", 200},
		{"/v1/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash", 200},
		{"/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash", 200},
		{"/v1beta1/publishers/google/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash", 200},
		{"/v1beta/models/gemini-2.0-flash:countTokens", "", 404},
		{"/v1beta/projects/p/locations/l/models/x:generateContent", "", 404},
		{"/v1beta/chat/completions", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			srv := providertest.NewGeminiServer(t)
			resp := fakePost(t, srv.URL()+tt.path, `{"contents":[{"parts":[{"text":"x"}]}]}`, nil)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantCode, readAll(t, resp.Body))
			}
			if got := srv.Requests()[0].Model; got != tt.wantModel {
				t.Errorf("model = %q, want %q", got, tt.wantModel)
			}
			if tt.wantCode == 404 {
				var e struct {
					Error struct {
						Code   int
						Status string
					}
				}
				json.NewDecoder(resp.Body).Decode(&e)
				if e.Error.Code != 404 || e.Error.Status != "NOT_FOUND" {
					t.Errorf("error body = %+v", e)
				}
			}
		})
	}
}

func TestGeminiFakeStream(t *testing.T) {
	srv := providertest.NewGeminiServer(t)
	u := providers.Usage{InputTokens: 12, CachedInputTokens: 4, OutputTokens: 3}
	srv.Script(providertest.Behavior{Text: "a b c", Model: "gemini-x-001", Usage: &u})
	resp := fakePost(t, srv.URL()+"/v1beta/models/gemini-x:streamGenerateContent?alt=sse", `{"contents":[{"parts":[{"text":"x"}]}]}`, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	raw := readAll(t, resp.Body)
	events := strings.Split(strings.TrimSuffix(raw, "\r\n\r\n"), "\r\n\r\n")
	if len(events) != 4 {
		t.Fatalf("want 3 text events and a final one, got %q", raw)
	}
	var text strings.Builder
	for i, e := range events {
		if !strings.HasPrefix(e, "data: ") {
			t.Fatalf("event %d without data: prefix: %q", i, e)
		}
		var ch struct {
			Candidates []struct {
				Content struct {
					Parts []struct{ Text string }
				}
				FinishReason string
			}
			UsageMetadata map[string]any
			ModelVersion  string
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(e, "data: ")), &ch); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		text.WriteString(ch.Candidates[0].Content.Parts[0].Text)
		final := i == len(events)-1
		if final != (ch.Candidates[0].FinishReason == "STOP") || ch.ModelVersion != "gemini-x-001" {
			t.Errorf("event %d: %s", i, e)
		}
		delete(ch.UsageMetadata, "promptTokensDetails")
		wantUsage := map[string]any{"promptTokenCount": 12.0, "totalTokenCount": 12.0, "cachedContentTokenCount": 4.0}
		if final {
			wantUsage["candidatesTokenCount"], wantUsage["totalTokenCount"] = 3.0, 15.0
		}
		if !reflect.DeepEqual(ch.UsageMetadata, wantUsage) {
			t.Errorf("event %d usage = %v, want %v", i, ch.UsageMetadata, wantUsage)
		}
	}
	if text.String() != "a b c" {
		t.Errorf("text = %q", text.String())
	}
	if !srv.Requests()[0].Stream {
		t.Error("request not recorded as streaming")
	}
}

func TestGeminiFakeErrors(t *testing.T) {
	tests := []struct {
		name        string
		b           providertest.Behavior
		wantCode    int
		wantStatus  string
		wantType    string // of the body
		wantHeader  string // Retry-After
		wantDetails []string
	}{
		{"429 with RetryInfo", providertest.Behavior{Status: 429, RetryAfter: "7"}, 429, "RESOURCE_EXHAUSTED", "application/json", "7",
			[]string{"type.googleapis.com/google.rpc.QuotaFailure", "type.googleapis.com/google.rpc.RetryInfo"}},
		{"404", providertest.Behavior{Status: 404}, 404, "NOT_FOUND", "application/json", "", nil},
		{"503", providertest.Behavior{Status: 503}, 503, "UNAVAILABLE", "application/json", "", nil},
		{"status override", providertest.Behavior{Status: 400, ErrorCode: "FAILED_PRECONDITION", ErrorMessage: "User location is not supported"}, 400, "FAILED_PRECONDITION", "application/json", "", nil},
		{"HTML page", providertest.Behavior{Status: 502, HTML: true}, 502, "", "text/html", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewGeminiServer(t)
			srv.Script(tt.b)
			resp := fakePost(t, srv.URL()+"/v1beta/models/m:generateContent", `{"contents":[{"parts":[{"text":"x"}]}]}`, nil)
			if resp.StatusCode != tt.wantCode || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) || resp.Header.Get("Retry-After") != tt.wantHeader {
				t.Fatalf("status %d type %q Retry-After %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"))
			}
			if tt.b.HTML {
				if body := readAll(t, resp.Body); !strings.Contains(body, "<html>") {
					t.Errorf("body = %q", body)
				}
				return
			}
			var e struct {
				Error struct {
					Code    int
					Message string
					Status  string
					Details []map[string]any
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if e.Error.Code != tt.wantCode || e.Error.Status != tt.wantStatus || e.Error.Message == "" {
				t.Errorf("error = %+v", e.Error)
			}
			if tt.b.ErrorMessage != "" && e.Error.Message != tt.b.ErrorMessage {
				t.Errorf("message = %q", e.Error.Message)
			}
			var types []string
			for _, d := range e.Error.Details {
				types = append(types, d["@type"].(string))
				if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo" && d["retryDelay"] != tt.wantHeader+"s" {
					t.Errorf("retryDelay = %v", d["retryDelay"])
				}
			}
			if !reflect.DeepEqual(types, tt.wantDetails) {
				t.Errorf("details = %v, want %v", types, tt.wantDetails)
			}
		})
	}
}

func TestGeminiFakeAPIKey(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		header     map[string]string
		wantCode   int
		wantStatus string
	}{
		{"good key", "/v1beta/models/m:generateContent", map[string]string{"x-goog-api-key": "k"}, 200, ""},
		{"key in query", "/v1beta/models/m:generateContent?key=k", nil, 200, ""},
		{"missing key", "/v1beta/models/m:generateContent", nil, 403, "PERMISSION_DENIED"},
		{"wrong key", "/v1beta/models/m:generateContent", map[string]string{"x-goog-api-key": "nope"}, 400, "INVALID_ARGUMENT"},
		{"vertex bearer", "/v1beta1/projects/p/locations/l/publishers/google/models/m:generateContent", map[string]string{"Authorization": "Bearer k"}, 200, ""},
		{"vertex without token", "/v1beta1/projects/p/locations/l/publishers/google/models/m:generateContent", map[string]string{"x-goog-api-key": "k"}, 401, "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewGeminiServer(t, providertest.WithGeminiAPIKey("k"))
			resp := fakePost(t, srv.URL()+tt.path, `{"contents":[{"parts":[{"text":"x"}]}]}`, tt.header)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if tt.wantStatus != "" {
				body := readAll(t, resp.Body)
				if !strings.Contains(body, `"status":"`+tt.wantStatus+`"`) {
					t.Errorf("body = %s", body)
				}
				if tt.name == "wrong key" && !strings.Contains(body, "API_KEY_INVALID") {
					t.Errorf("wrong key without ErrorInfo API_KEY_INVALID: %s", body)
				}
			}
		})
	}
}

func TestGeminiFakeMalformedAndBlocked(t *testing.T) {
	srv := providertest.NewGeminiServer(t)
	srv.Script(providertest.Behavior{Malformed: true}, providertest.Behavior{FinishReason: providertest.GeminiPromptBlocked},
		providertest.Behavior{Text: "never", FinishReason: "content_filter"})
	body := `{"contents":[{"parts":[{"text":"x"}]}]}`

	resp := fakePost(t, srv.URL()+"/v1beta/models/m:generateContent", body, nil)
	if raw := readAll(t, resp.Body); json.Valid([]byte(raw)) {
		t.Errorf("malformed body is valid JSON: %s", raw)
	}

	resp = fakePost(t, srv.URL()+"/v1beta/models/m:generateContent", body, nil)
	var blocked struct {
		Candidates     []any
		PromptFeedback struct{ BlockReason string }
	}
	json.NewDecoder(resp.Body).Decode(&blocked)
	if resp.StatusCode != 200 || len(blocked.Candidates) != 0 || blocked.PromptFeedback.BlockReason != "SAFETY" {
		t.Errorf("blocked = %+v", blocked)
	}

	resp = fakePost(t, srv.URL()+"/v1beta/models/m:generateContent", body, nil)
	var filtered struct {
		Candidates []struct {
			Content      *struct{}
			FinishReason string
		}
	}
	json.NewDecoder(resp.Body).Decode(&filtered)
	if len(filtered.Candidates) != 1 || filtered.Candidates[0].Content != nil || filtered.Candidates[0].FinishReason != "SAFETY" {
		t.Errorf("filtered = %+v", filtered)
	}
}
