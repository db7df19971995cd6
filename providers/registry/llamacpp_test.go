package registry_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

// llamacpp builds the llamacpp scheme against a fake, with fast retries.
func llamacpp(t *testing.T, cfg registry.Config, opts registry.Options) (providers.Provider, *providertest.OpenAIServer) {
	t.Helper()
	srv := providertest.NewOpenAIServer(t)
	cfg.Type, cfg.Model, cfg.BaseURL = "llamacpp", "qwen2.5-0.5b", srv.URL()
	opts.Getenv = env(nil)
	opts.Retry = providers.RetryConfig{BaseDelay: 1, MaxDelay: 2}
	b, err := registry.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b.Provider, srv
}

func ask() *providers.Request {
	return &providers.Request{Model: "qwen2.5-0.5b", Messages: []providers.Message{{Role: "user", Content: "Name the capital of France in one word."}}}
}

func stream(p providers.Provider) (*providers.Response, error) {
	var text strings.Builder
	resp, err := p.(providers.Streamer).Stream(context.Background(), ask(), func(c providers.Chunk) error {
		if c.Restart {
			text.Reset()
		}
		text.WriteString(c.Text)
		return nil
	})
	if resp != nil && resp.Text != text.String() {
		return nil, &providers.Error{Kind: providers.KindUnknown, Message: "assembled " + text.String() + ", response " + resp.Text}
	}
	return resp, err
}

// Item 10: llama.cpp ends a running stream with [DONE] and no finish reason
// when another request arrives. That is stream_truncated, retried (even
// after chunks were delivered) until a whole answer comes.
func TestLlamaCppInterruptedStreamIsRetried(t *testing.T) {
	p, srv := llamacpp(t, registry.Config{}, registry.Options{})
	srv.Script(providertest.Behavior{Text: "Paris is the", EndWithoutFinish: true}, providertest.Behavior{Text: "Par", EndWithoutFinish: true}, providertest.Behavior{Text: "Paris"})
	resp, err := stream(p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "Paris" || resp.Attempts != 3 || srv.Count() != 3 {
		t.Errorf("text %q after %d attempts, %d requests", resp.Text, resp.Attempts, srv.Count())
	}

	// When every attempt is cut, the kind and the hint reach the result.
	srv.SetDefault(providertest.Behavior{Text: "Paris is", EndWithoutFinish: true})
	_, err = stream(p)
	var pe *providers.Error
	if providers.KindOf(err) != providers.KindStreamTruncated || !asError(err, &pe) || !strings.Contains(pe.Message, "interrupt_requests") || pe.Attempts != 4 {
		t.Errorf("err = %v (attempts %d)", err, pe.Attempts)
	}
}

// Item 11: a server that ignores stream_options.include_usage leaves no
// usage; tokens are counted locally, marked estimated, with one warning per
// target however many calls.
func TestLlamaCppNoStreamUsageIsEstimated(t *testing.T) {
	var mu sync.Mutex
	warnings := map[string]int{}
	opts := registry.Options{OnEstimatedUsage: func(target, method string) {
		mu.Lock()
		defer mu.Unlock()
		warnings[target+" ("+method+")"]++
	}}
	p, srv := llamacpp(t, registry.Config{Name: "local-qwen"}, opts)
	srv.SetDefault(providertest.Behavior{Text: "Paris, the capital of France.", NoStreamUsage: true})
	for range 3 {
		resp, err := stream(p)
		if err != nil {
			t.Fatal(err)
		}
		if u := resp.Usage; !u.Estimated || u.InputTokens < 5 || u.OutputTokens < 3 {
			t.Errorf("usage = %+v, want locally counted, estimated", u)
		}
	}
	if len(warnings) != 1 || warnings["local-qwen (approx bytes/4)"] != 1 {
		t.Errorf("warnings = %v, want one for the target", warnings)
	}
	// A server that reports usage keeps its own counts.
	srv.SetDefault(providertest.Behavior{Text: "Paris", Usage: &providers.Usage{InputTokens: 21, OutputTokens: 2}})
	resp, err := stream(p)
	if err != nil || resp.Usage != (providers.Usage{InputTokens: 21, OutputTokens: 2}) {
		t.Errorf("reported usage: %+v, %v", resp, err)
	}
}

// Item 13: llama-cpp-python answers response_format json_schema with HTTP
// 500. That is invalid_request, not retried, and the message names the
// option; options.structured_output picks a mode the server takes.
func TestLlamaCppUnsupportedStructuredOutput(t *testing.T) {
	schema := []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)
	p, srv := llamacpp(t, registry.Config{}, registry.Options{})
	srv.Script(providertest.Behavior{Status: 500, ErrorType: "server_error", ErrorMessage: "Unsupported response_format type: json_schema"})
	req := ask()
	req.JSONSchema = schema
	_, err := p.Generate(context.Background(), req)
	var pe *providers.Error
	if providers.KindOf(err) != providers.KindInvalidRequest || !asError(err, &pe) || !strings.Contains(pe.Message, "options.structured_output") {
		t.Fatalf("err = %v", err)
	}
	if srv.Count() != 1 {
		t.Errorf("%d requests: an unsupported feature must not be retried", srv.Count())
	}

	for mode, want := range map[string]string{"json_object": `"response_format":{"type":"json_object"}`, "none": ""} {
		p, srv := llamacpp(t, registry.Config{Options: map[string]string{"structured_output": mode}}, registry.Options{})
		if _, err := p.Generate(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		body := string(srv.Requests()[0].Body)
		if want != "" && !strings.Contains(body, want) || want == "" && strings.Contains(body, "response_format") || strings.Contains(body, "json_schema") {
			t.Errorf("structured_output %s: body %s", mode, body)
		}
	}
}

// Item 14: a streamed prompt over the context length answered 200 with only
// the server's words is context_length; a 401 whose application/json body
// is text says what it said; a malformed 200 names the real cause.
func TestLlamaCppErrorTexts(t *testing.T) {
	over := `error: {"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}` + "\n\n"
	tests := []struct {
		name   string
		b      providertest.Behavior
		stream bool
		kind   providers.Kind
		words  []string
	}{
		{"empty stream with llama.cpp's error event", providertest.Behavior{RawStream: over}, true, providers.KindContextLength, []string{"exceeds the available context size"}},
		{"empty stream with an error data event", providertest.Behavior{RawStream: `data: {"error":{"message":"Requested tokens (5000) exceed context window of 4096","type":"invalid_request_error"}}` + "\n\n"}, true, providers.KindContextLength, []string{"exceed context window"}},
		{"401 with a plain-text application/json body", providertest.Behavior{Status: 401, RawBody: "Invalid API Key: check your key"}, false, providers.KindAuth, []string{"not JSON", `"Invalid API Key: check your key"`}},
		{"malformed 200", providertest.Behavior{RawBody: `{"id":"chatcmpl-1","choices":[{"message":{"content":"Par`}, false, providers.KindBadResponse, []string{"malformed JSON", "ends inside a JSON value", `"{\"id\":\"chatcmpl-1\"`}},
		{"200 with garbage", providertest.Behavior{RawBody: `<<not json>>`}, false, providers.KindBadResponse, []string{"malformed JSON", "<<not json>>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, srv := llamacpp(t, registry.Config{Retry: registry.Retry{MaxAttempts: 1}}, registry.Options{})
			srv.Script(tt.b)
			var err error
			if tt.stream {
				_, err = stream(p)
			} else {
				_, err = p.Generate(context.Background(), ask())
			}
			var pe *providers.Error
			if providers.KindOf(err) != tt.kind || !asError(err, &pe) {
				t.Fatalf("err = %v, want %s", err, tt.kind)
			}
			for _, w := range tt.words {
				if !strings.Contains(pe.Message, w) {
					t.Errorf("message %q lacks %q", pe.Message, w)
				}
			}
			if strings.Contains(pe.Message, "connection closed") {
				t.Errorf("message %q blames the connection", pe.Message)
			}
		})
	}
}

// Item 10 as it happened: llama-cpp-python (interrupt_requests on) at
// concurrency 4 ends running streams whenever another request waits. The
// first cut streams are stream_truncated; the target is then sent one
// request at a time (one warning), the retries succeed, and every case gets
// its whole answer. Configured at concurrency 1 from the start, no request
// is wasted.
func TestLlamaCppInterruptRequestsUnderConcurrency(t *testing.T) {
	var warned []string
	run := func(limit int) (ok int, kinds map[providers.Kind]int, msg string, requests int) {
		srv := providertest.NewOpenAIServer(t, providertest.WithInterruptRequests(),
			providertest.WithDefault(providertest.Behavior{Text: "Paris is the capital of France", ChunkDelay: time.Millisecond}))
		b, err := registry.Build(registry.Config{Type: "llamacpp", Model: "m", BaseURL: srv.URL(), Limits: registry.Limits{Concurrency: limit}}, registry.Options{
			Getenv:       env(nil),
			Retry:        providers.RetryConfig{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond},
			OnSerialized: func(target string) { warned = append(warned, target) },
		})
		if err != nil {
			t.Fatal(err)
		}
		kinds = map[providers.Kind]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					resp, err := stream(b.Provider)
					mu.Lock()
					if err == nil && resp.Text == "Paris is the capital of France" {
						ok++
					} else if err != nil {
						kinds[providers.KindOf(err)]++
						msg = err.Error()
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return ok, kinds, msg, srv.Count()
	}

	ok, kinds, msg, n := run(0)
	t.Logf("concurrency 4: %d of 40 whole answers in %d requests; failures %v", ok, n, kinds)
	if ok != 40 || len(kinds) != 0 {
		t.Errorf("concurrency 4: %d of 40 whole answers; failures %v (%s)", ok, kinds, msg)
	}
	if len(warned) != 1 {
		t.Errorf("warnings %v, want one for the target", warned)
	}
	ok, kinds, _, requests := run(1)
	if ok != 40 || len(kinds) != 0 || requests != 40 {
		t.Errorf("concurrency 1: %d ok, failures %v, %d requests; want 40 ok in 40 requests", ok, kinds, requests)
	}
}
