package providertest_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

type ollamaChat struct {
	Model   string `json:"model"`
	Message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"message"`
	Done               bool          `json:"done"`
	DoneReason         string        `json:"done_reason"`
	TotalDuration      time.Duration `json:"total_duration"`
	LoadDuration       time.Duration `json:"load_duration"`
	PromptEvalCount    int           `json:"prompt_eval_count"`
	PromptEvalDuration time.Duration `json:"prompt_eval_duration"`
	EvalCount          int           `json:"eval_count"`
	EvalDuration       time.Duration `json:"eval_duration"`
}

func TestOllamaFakeChat(t *testing.T) {
	srv := providertest.NewOllamaServer(t, providertest.WithOllamaResponder(func(r providertest.WireRequest) string {
		return "echo: " + r.Prompt()
	}))
	resp := fakePost(t, srv.URL()+"/api/chat",
		`{"model":"llama3.2","messages":[{"role":"system","content":"s"},{"role":"user","content":"hello there"}],"stream":false,`+
			`"format":{"type":"object"},"options":{"temperature":0,"seed":0,"num_predict":50,"stop":["END"]}}`, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d type %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var c ollamaChat
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	// "s" + "hello there" = 12 characters → 3 tokens; "echo: hello there" = 3 words.
	want := ollamaChat{Model: "llama3.2", Done: true, DoneReason: "stop", PromptEvalCount: 3, EvalCount: 3,
		LoadDuration: providertest.OllamaLoadDuration, PromptEvalDuration: 3 * providertest.OllamaPromptEvalPerToken, EvalDuration: 3 * providertest.OllamaEvalPerToken}
	want.Message.Role, want.Message.Content = "assistant", "echo: hello there"
	want.TotalDuration = want.LoadDuration + want.PromptEvalDuration + want.EvalDuration
	if c != want {
		t.Errorf("response = %+v\nwant %+v", c, want)
	}
	w := srv.Requests()[0]
	if w.Model != "llama3.2" || w.Stream || w.Temperature == nil || *w.Temperature != 0 || w.Seed == nil || *w.Seed != 0 || w.TopP != nil ||
		w.MaxTokens == nil || *w.MaxTokens != 50 || !reflect.DeepEqual(w.Stop, []string{"END"}) || string(w.JSONSchema) != `{"type":"object"}` ||
		!reflect.DeepEqual(w.Messages, []providers.Message{{Role: "system", Content: "s"}, {Role: "user", Content: "hello there"}}) {
		t.Errorf("decoded request = %+v", w)
	}
}

func TestOllamaFakeStream(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"stream absent means true", `{"model":"m","messages":[{"role":"user","content":"x"}]}`},
		{"stream true", `{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewOllamaServer(t)
			u := providers.Usage{InputTokens: 5, OutputTokens: 3}
			srv.Script(providertest.Behavior{Text: "a b c", Usage: &u, FinishReason: "length"})
			resp := fakePost(t, srv.URL()+"/api/chat", tt.body, nil)
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
				t.Fatalf("content type %q", ct)
			}
			sc := bufio.NewScanner(resp.Body)
			var lines []ollamaChat
			for sc.Scan() {
				var c ollamaChat
				if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				lines = append(lines, c)
			}
			if len(lines) != 4 {
				t.Fatalf("got %d lines, want 3 chunks and a done line", len(lines))
			}
			var text strings.Builder
			for _, l := range lines[:3] {
				if l.Done || l.EvalCount != 0 {
					t.Errorf("chunk = %+v", l)
				}
				text.WriteString(l.Message.Content)
			}
			last := lines[3]
			if text.String() != "a b c" || !last.Done || last.DoneReason != "length" || last.PromptEvalCount != 5 || last.EvalCount != 3 || last.Message.Content != "" {
				t.Errorf("text %q, last %+v", text.String(), last)
			}
			if !srv.Requests()[0].Stream {
				t.Error("not recorded as streaming")
			}
		})
	}
}

func TestOllamaFakeErrors(t *testing.T) {
	tests := []struct {
		name     string
		opts     []providertest.OllamaOption
		b        providertest.Behavior
		path     string
		body     string
		wantCode int
		wantBody string
	}{
		{"unknown model", []providertest.OllamaOption{providertest.WithOllamaModels("llama3.2")}, providertest.Behavior{}, "/api/chat",
			`{"model":"mistral","messages":[]}`, 404, `{"error":"model 'mistral' not found"}` + "\n"},
		{"scripted 404", nil, providertest.Behavior{Status: 404}, "/api/chat", `{"model":"phi3","messages":[]}`, 404, `{"error":"model 'phi3' not found"}` + "\n"},
		{"scripted 500 with message", nil, providertest.Behavior{Status: 500, ErrorMessage: "out of memory"}, "/api/chat", `{"model":"m"}`, 500, `{"error":"out of memory"}` + "\n"},
		{"missing model", nil, providertest.Behavior{}, "/api/chat", `{"messages":[]}`, 400, `{"error":"model is required"}` + "\n"},
		{"bad JSON", nil, providertest.Behavior{}, "/api/chat", `{`, 400, ""},
		{"unknown path", nil, providertest.Behavior{}, "/api/generate2", `{}`, 404, "404 page not found"},
		{"malformed", nil, providertest.Behavior{Malformed: true}, "/api/chat", `{"model":"m","stream":false}`, 200, `{"model": "m", "message": oops}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewOllamaServer(t, tt.opts...)
			srv.Script(tt.b)
			resp := fakePost(t, srv.URL()+tt.path, tt.body, nil)
			body := readAll(t, resp.Body)
			if resp.StatusCode != tt.wantCode || (tt.wantBody != "" && body != tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantCode, tt.wantBody)
			}
		})
	}
	t.Run("version", func(t *testing.T) {
		srv := providertest.NewOllamaServer(t)
		resp, err := http.Get(srv.URL() + "/api/version")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if body := readAll(t, resp.Body); resp.StatusCode != 200 || body != `{"version":"0.17.4"}` {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
	})
}
