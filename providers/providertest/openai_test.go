package providertest_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func post(t *testing.T, url, body string, header map[string]string) *http.Response {
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

func TestFakeChatCompletion(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithResponder(func(r providertest.WireRequest) string {
		return "echo: " + r.Prompt()
	}))
	resp := post(t, srv.URL()+"/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"s"},{"role":"user","content":"hello there"}],"temperature":0,"stop":"END","max_tokens":50}`, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d type %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var body struct {
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []struct {
			Message      struct{ Role, Content string } `json:"message"`
			FinishReason string                         `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Object != "chat.completion" || body.Model != "gpt-4o-mini" || len(body.Choices) != 1 ||
		body.Choices[0].Message.Content != "echo: hello there" || body.Choices[0].Message.Role != "assistant" ||
		body.Choices[0].FinishReason != "stop" {
		t.Errorf("body = %+v", body)
	}
	if body.Usage.PromptTokens != 3 || body.Usage.CompletionTokens != 3 || body.Usage.TotalTokens != 6 {
		t.Errorf("usage = %+v", body.Usage)
	}
	w := srv.Requests()[0]
	if w.Temperature == nil || *w.Temperature != 0 || w.TopP != nil || !reflect.DeepEqual(w.Stop, []string{"END"}) ||
		w.MaxTokens == nil || *w.MaxTokens != 50 || len(w.Messages) != 2 || w.Prompt() != "hello there" {
		t.Errorf("decoded request = %+v", w)
	}
}

func TestFakeStreaming(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	srv.Script(providertest.Behavior{Text: "a b c", Model: "m-2024"})
	resp := post(t, srv.URL()+"/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}`, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var events []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "data: ") {
			t.Fatalf("line without data: prefix: %q", line)
		}
		events = append(events, strings.TrimPrefix(line, "data: "))
	}
	// role chunk, 3 content chunks, finish chunk, usage chunk, [DONE]
	if len(events) != 7 || events[6] != "[DONE]" {
		t.Fatalf("events = %q", events)
	}
	var text strings.Builder
	for i, e := range events[:6] {
		var ch struct {
			Object  string `json:"object"`
			Model   string `json:"model"`
			Choices []struct {
				Delta        struct{ Content string } `json:"delta"`
				FinishReason *string                  `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(e), &ch); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ch.Object != "chat.completion.chunk" || ch.Model != "m-2024" {
			t.Errorf("event %d: %s", i, e)
		}
		switch i {
		case 4:
			if len(ch.Choices) != 1 || ch.Choices[0].FinishReason == nil || *ch.Choices[0].FinishReason != "stop" {
				t.Errorf("finish event: %s", e)
			}
		case 5:
			if len(ch.Choices) != 0 || ch.Usage == nil || ch.Usage.CompletionTokens != 3 {
				t.Errorf("usage event: %s", e)
			}
		default:
			if ch.Usage != nil {
				t.Errorf("event %d has usage: %s", i, e)
			}
			text.WriteString(ch.Choices[0].Delta.Content)
		}
	}
	if text.String() != "a b c" {
		t.Errorf("streamed text %q", text.String())
	}
}

func TestFakeErrorsAndRouting(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithAPIKey("k"))
	tests := []struct {
		name   string
		path   string
		header map[string]string
		script *providertest.Behavior
		status int
		code   string
	}{
		{"missing key", "/v1/chat/completions", nil, nil, 401, "invalid_api_key"},
		{"wrong path", "/v1/completions", map[string]string{"Authorization": "Bearer k"}, nil, 404, ""},
		{"azure without api-version", "/openai/deployments/d/chat/completions", map[string]string{"api-key": "k"}, nil, 404, "404"},
		{"azure ok", "/openai/deployments/d/chat/completions?api-version=2024-10-21", map[string]string{"api-key": "k"}, nil, 200, ""},
		{"scripted 429", "/v1/chat/completions", map[string]string{"Authorization": "Bearer k"}, &providertest.Behavior{Status: 429, RetryAfter: "1"}, 429, "rate_limit_exceeded"},
		{"scripted context length", "/v1/chat/completions", map[string]string{"Authorization": "Bearer k"}, &providertest.Behavior{Status: 400, ErrorCode: "context_length_exceeded"}, 400, "context_length_exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.script != nil {
				srv.Script(*tt.script)
			}
			resp := post(t, srv.Endpoint()+tt.path, `{"model":"m","messages":[{"role":"user","content":"x"}]}`, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 {
				return
			}
			var e struct {
				Error struct {
					Message string  `json:"message"`
					Type    *string `json:"type"`
					Param   *string `json:"param"`
					Code    *string `json:"code"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Message == "" {
				t.Fatalf("error body: %+v %v", e, err)
			}
			if got := ""; e.Error.Code != nil {
				got = *e.Error.Code
				if got != tt.code {
					t.Errorf("code %q, want %q", got, tt.code)
				}
			} else if tt.code != "" {
				t.Errorf("code null, want %q", tt.code)
			}
			if tt.script != nil && tt.script.RetryAfter != "" && resp.Header.Get("Retry-After") != tt.script.RetryAfter {
				t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
			}
		})
	}
	if srv.Count() != len(tests) || len(srv.Requests()) != len(tests) {
		t.Errorf("count %d recorded %d, want %d", srv.Count(), len(srv.Requests()), len(tests))
	}
	if d := srv.Requests()[3].Deployment; d != "d" {
		t.Errorf("deployment = %q", d)
	}
}

func TestFakeBrokenBodies(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`

	srv.Script(providertest.Behavior{HTML: true, Status: 503})
	resp := post(t, srv.URL()+"/chat/completions", body, nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "<html>") {
		t.Errorf("HTML page: %d %s", resp.StatusCode, b)
	}

	srv.Script(providertest.Behavior{Malformed: true})
	resp = post(t, srv.URL()+"/chat/completions", body, nil)
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Valid(b) {
		t.Errorf("malformed: %d %s", resp.StatusCode, b)
	}

	srv.Script(providertest.Behavior{CutBody: true})
	resp = post(t, srv.URL()+"/chat/completions", body, nil)
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut body read: %v, want unexpected EOF", err)
	}

	srv.Script(providertest.Behavior{Text: "a b c d", CutStreamAfter: 2})
	resp = post(t, srv.URL()+"/chat/completions", `{"model":"m","messages":[],"stream":true}`, nil)
	b, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(string(b), "[DONE]") || strings.Contains(string(b), `"content":"c`) {
		t.Errorf("cut stream: %v %q", err, b)
	}

	srv.Script(providertest.Behavior{Delay: 150 * time.Millisecond})
	start := time.Now()
	post(t, srv.URL()+"/chat/completions", body, nil)
	if time.Since(start) < 150*time.Millisecond {
		t.Error("Delay not applied")
	}
}

func TestFakeAppliesStopAndMaxTokens(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	srv.Script(providertest.Behavior{Text: "one two STOP three"}, providertest.Behavior{Text: "one two three four"},
		providertest.Behavior{Text: "x", Usage: &providers.Usage{InputTokens: 5, OutputTokens: 6}})
	read := func(body string) (string, string, int) {
		resp := post(t, srv.URL()+"/chat/completions", body, nil)
		var r struct {
			Choices []struct {
				Message      struct{ Content string } `json:"message"`
				FinishReason string                   `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		return r.Choices[0].Message.Content, r.Choices[0].FinishReason, r.Usage.PromptTokens
	}
	if text, fin, _ := read(`{"model":"m","messages":[],"stop":["STOP"]}`); text != "one two " || fin != "stop" {
		t.Errorf("stop: %q %q", text, fin)
	}
	if text, fin, _ := read(`{"model":"m","messages":[],"max_completion_tokens":2}`); text != "one two" || fin != "length" {
		t.Errorf("max tokens: %q %q", text, fin)
	}
	if _, _, in := read(`{"model":"m","messages":[]}`); in != 5 {
		t.Errorf("scripted usage: %d", in)
	}
}

func TestWithoutRecording(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithoutRecording())
	post(t, srv.URL()+"/chat/completions", `{"model":"m","messages":[]}`, nil)
	if srv.Count() != 1 || srv.Requests() != nil {
		t.Errorf("count %d requests %v", srv.Count(), srv.Requests())
	}
}
