package providertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/providers"
)

// Harness describes one adapter to RunConformance. See the package doc for
// the full contract.
type Harness struct {
	// Name is the adapter name every *providers.Error must carry.
	Name string
	// Model is the model name put in requests.
	Model string
	// New starts a fresh fake (stopped through t.Cleanup) and returns the
	// bare adapter under test pointed at it, built with the given Bounds
	// (the zero value for most cases), and the fake's controls.
	New func(t *testing.T, b providers.Bounds) (providers.Provider, Fake)
	// Skip maps Case* names the protocol cannot express to the reason.
	Skip map[string]string
}

// Fake is what the conformance kit needs from a fake server.
type Fake interface {
	// Script queues behaviours for the next requests, first in first out.
	Script(b ...Behavior)
	// Requests returns every request received so far, decoded.
	Requests() []WireRequest
	// HugeBytesSent is how many bytes of Behavior.BodyBytes bodies were
	// written.
	HugeBytesSent() int64
}

// Names of the conformance cases, for Harness.Skip.
const (
	CaseText             = "text"
	CaseUsage            = "usage"
	CaseMessages         = "messages"
	CaseTemperatureZero  = "temperature_zero"
	CaseTopPZero         = "top_p_zero"
	CaseSeedZero         = "seed_zero"
	CaseUnsetKnobs       = "unset_knobs"
	CaseMaxTokens        = "max_tokens"
	CaseStop             = "stop"
	CaseJSONSchema       = "json_schema"
	CaseError400         = "error_400"
	CaseError401         = "error_401"
	CaseError404         = "error_404"
	CaseError429         = "error_429"
	CaseError500         = "error_500"
	CaseError503         = "error_503"
	CaseHTMLError        = "html_error"
	CaseMalformed        = "malformed_json"
	CaseCutBody          = "cut_body"
	CaseCancel           = "slow_cancel"
	CaseDeadline         = "slow_deadline"
	CaseStream           = "stream"
	CaseStreamCut        = "stream_cut"
	CaseStreamError      = "stream_error"
	CaseStreamCancel     = "stream_cancel"
	CaseStreamCallbackEr = "stream_callback_error"
	CaseHang             = "hang"
	CaseStallBody        = "stall_body"
	CaseStreamStall      = "stream_stall"
	CaseStreamEndless    = "stream_endless"
	CaseHugeBody         = "huge_body"
	CaseStreamNoFinish   = "stream_no_finish"
	CaseEchoedKey        = "echoed_key"
)

// conformanceCase is one row of the behaviour table.
type conformanceCase struct {
	name   string
	bounds providers.Bounds // the adapter's limits for this case
	run    func(t *testing.T, h Harness, p providers.Provider, f Fake)
}

// RunConformance runs the behaviour table against h's adapter, one subtest
// per case, in parallel.
func RunConformance(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Name == "" || h.Model == "" {
		t.Fatal("providertest: Harness needs Name, Model and New")
	}
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := h.Skip[c.name]; ok {
				t.Skipf("skipped by harness: %s", why)
			}
			t.Parallel()
			p, f := h.New(t, c.bounds)
			c.run(t, h, p, f)
		})
	}
}

func request(h Harness) *providers.Request {
	return &providers.Request{
		Model:    h.Model,
		Messages: []providers.Message{{Role: providers.RoleUser, Content: "What is six times seven?"}},
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// one returns the single request f received, failing the test otherwise.
func one(t *testing.T, f Fake) WireRequest {
	t.Helper()
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("fake received %d requests, want exactly 1", len(reqs))
	}
	return reqs[0]
}

func mustGenerate(t *testing.T, p providers.Provider, req *providers.Request) *providers.Response {
	t.Helper()
	resp, err := p.Generate(ctxFor(t), req)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if resp == nil {
		t.Fatal("Generate returned a nil response and no error")
	}
	return resp
}

// wantError checks that err is a *providers.Error of the adapter with the
// given kind (any temporary kind when kind is "temporary") and status code
// (unchecked when 0).
func wantError(t *testing.T, h Harness, err error, kind providers.Kind, status int) *providers.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	var pe *providers.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is %T, want *providers.Error", err, err)
	}
	if pe.Provider != h.Name {
		t.Errorf("Provider = %q, want %q", pe.Provider, h.Name)
	}
	if kind == "temporary" {
		if !pe.Kind.Temporary() {
			t.Errorf("Kind = %s, want a temporary kind (error: %v)", pe.Kind, err)
		}
	} else if pe.Kind != kind {
		t.Errorf("Kind = %s, want %s (error: %v)", pe.Kind, kind, err)
	}
	if status != 0 && pe.StatusCode != status {
		t.Errorf("StatusCode = %d, want %d", pe.StatusCode, status)
	}
	return pe
}

func streamer(t *testing.T, p providers.Provider) providers.Streamer {
	t.Helper()
	s, ok := p.(providers.Streamer)
	if !ok {
		t.Fatalf("%T does not implement providers.Streamer (skip the stream cases in Harness.Skip if that is intended)", p)
	}
	return s
}

func errorCase(status int, kind providers.Kind, retryAfter string, wantRetry time.Duration) func(t *testing.T, h Harness, p providers.Provider, f Fake) {
	return func(t *testing.T, h Harness, p providers.Provider, f Fake) {
		f.Script(Behavior{Status: status, RetryAfter: retryAfter})
		_, err := p.Generate(ctxFor(t), request(h))
		pe := wantError(t, h, err, kind, status)
		if pe.Message == "" {
			t.Errorf("Message is empty; want the provider's error message")
		}
		if pe.RetryAfter != wantRetry {
			t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, wantRetry)
		}
		one(t, f)
	}
}

func cases() []conformanceCase {
	return []conformanceCase{
		{name: CaseText, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Text: "The answer is 42.", Model: h.Model + "-resolved-001"})
			resp := mustGenerate(t, p, request(h))
			if resp.Text != "The answer is 42." {
				t.Errorf("Text = %q", resp.Text)
			}
			if resp.FinishReason != "stop" {
				t.Errorf("FinishReason = %q, want stop", resp.FinishReason)
			}
			if resp.Model != h.Model+"-resolved-001" {
				t.Errorf("Model = %q, want the model the server reported", resp.Model)
			}
			if resp.Cached || resp.TTFT != 0 {
				t.Errorf("Cached = %v, TTFT = %v on a plain call", resp.Cached, resp.TTFT)
			}
			if w := one(t, f); w.Model != h.Model && w.Deployment == "" {
				t.Errorf("wire model = %q, want %q", w.Model, h.Model)
			}
		}},
		{name: CaseUsage, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			want := providers.Usage{InputTokens: 11, OutputTokens: 7}
			f.Script(Behavior{Text: "fine", Usage: &want})
			if resp := mustGenerate(t, p, request(h)); resp.Usage != want {
				t.Errorf("Usage = %+v, want %+v", resp.Usage, want)
			}
		}},
		{name: CaseMessages, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			req := request(h)
			req.System = "You are terse."
			req.Messages = []providers.Message{
				{Role: providers.RoleUser, Content: "Hi"},
				{Role: providers.RoleAssistant, Content: "Hello."},
				{Role: providers.RoleUser, Content: "Bye"},
			}
			mustGenerate(t, p, req)
			want := append([]providers.Message{{Role: providers.RoleSystem, Content: "You are terse."}}, req.Messages...)
			if got := one(t, f).Messages; !reflect.DeepEqual(got, want) {
				t.Errorf("wire messages = %+v, want %+v", got, want)
			}
		}},
		{name: CaseTemperatureZero, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			req := request(h)
			req.Temperature = providers.Float64(0)
			mustGenerate(t, p, req)
			if w := one(t, f); w.Temperature == nil || *w.Temperature != 0 {
				t.Errorf("temperature on the wire = %v, want 0 (body %s)", ptr(w.Temperature), w.Body)
			}
		}},
		{name: CaseTopPZero, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			req := request(h)
			req.TopP = providers.Float64(0)
			mustGenerate(t, p, req)
			if w := one(t, f); w.TopP == nil || *w.TopP != 0 {
				t.Errorf("top_p on the wire = %v, want 0 (body %s)", ptr(w.TopP), w.Body)
			}
		}},
		{name: CaseSeedZero, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			req := request(h)
			req.Seed = providers.Int64(0)
			mustGenerate(t, p, req)
			if w := one(t, f); w.Seed == nil || *w.Seed != 0 {
				t.Errorf("seed on the wire = %v, want 0 (body %s)", ptr(w.Seed), w.Body)
			}
		}},
		{name: CaseUnsetKnobs, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			mustGenerate(t, p, request(h))
			w := one(t, f)
			if w.Temperature != nil || w.TopP != nil || w.Seed != nil {
				t.Errorf("unset knobs reached the wire: temperature %v top_p %v seed %v (body %s)", ptr(w.Temperature), ptr(w.TopP), ptr(w.Seed), w.Body)
			}
		}},
		{name: CaseMaxTokens, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Text: "one two three four five six"})
			req := request(h)
			req.MaxTokens = 3
			req.Temperature = providers.Float64(0.7)
			resp := mustGenerate(t, p, req)
			w := one(t, f)
			if w.MaxTokens == nil || *w.MaxTokens != 3 {
				t.Errorf("max tokens on the wire = %v, want 3", ptr(w.MaxTokens))
			}
			if w.Temperature == nil || *w.Temperature != 0.7 {
				t.Errorf("temperature on the wire = %v, want exactly 0.7", ptr(w.Temperature))
			}
			if resp.FinishReason != "length" || resp.Text != "one two three" {
				t.Errorf("Text %q FinishReason %q, want the truncated answer and length", resp.Text, resp.FinishReason)
			}
		}},
		{name: CaseStop, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Text: "alpha END beta"})
			req := request(h)
			req.Stop = []string{"END", "###"}
			resp := mustGenerate(t, p, req)
			if w := one(t, f); !reflect.DeepEqual(w.Stop, req.Stop) {
				t.Errorf("stop on the wire = %q, want %q", w.Stop, req.Stop)
			}
			if resp.Text != "alpha " {
				t.Errorf("Text = %q, want %q", resp.Text, "alpha ")
			}
		}},
		{name: CaseJSONSchema, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			schema := `{"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"]}`
			f.Script(Behavior{Text: `{"answer":42}`})
			req := request(h)
			req.JSONSchema = json.RawMessage(schema)
			if resp := mustGenerate(t, p, req); resp.Text != `{"answer":42}` {
				t.Errorf("Text = %q", resp.Text)
			}
			w := one(t, f)
			var got, want any
			json.Unmarshal([]byte(schema), &want)
			if err := json.Unmarshal(w.JSONSchema, &got); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("schema on the wire = %s, want %s", w.JSONSchema, schema)
			}
		}},
		{name: CaseError400, run: errorCase(http.StatusBadRequest, providers.KindInvalidRequest, "", 0)},
		{name: CaseError401, run: errorCase(http.StatusUnauthorized, providers.KindAuth, "", 0)},
		{name: CaseError404, run: errorCase(http.StatusNotFound, providers.KindNotFound, "", 0)},
		{name: CaseError429, run: errorCase(http.StatusTooManyRequests, providers.KindRateLimit, "2", 2*time.Second)},
		{name: CaseError500, run: errorCase(http.StatusInternalServerError, providers.KindUnavailable, "", 0)},
		{name: CaseError503, run: errorCase(http.StatusServiceUnavailable, providers.KindUnavailable, "", 0)},
		{name: CaseHTMLError, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Status: http.StatusBadGateway, HTML: true})
			_, err := p.Generate(ctxFor(t), request(h))
			wantError(t, h, err, providers.KindUnavailable, http.StatusBadGateway)
			if msg := err.Error(); len(msg) > 200 || strings.Contains(msg, "<") {
				t.Errorf("error message is %d bytes or holds markup: %q", len(msg), msg)
			}
		}},
		{name: CaseMalformed, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Malformed: true})
			_, err := p.Generate(ctxFor(t), request(h))
			wantError(t, h, err, providers.KindBadResponse, 0)
		}},
		{name: CaseCutBody, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{CutBody: true, Text: strings.Repeat("long answer ", 50)})
			_, err := p.Generate(ctxFor(t), request(h))
			wantError(t, h, err, "temporary", 0)
		}},
		{name: CaseCancel, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Delay: 30 * time.Second})
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			_, err := p.Generate(ctx, request(h))
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("cancel took %v to return", el)
			}
			wantError(t, h, err, providers.KindCanceled, 0)
		}},
		{name: CaseDeadline, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Delay: 30 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := p.Generate(ctx, request(h))
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("deadline took %v to return", el)
			}
			wantError(t, h, err, providers.KindTimeout, 0)
		}},
		{name: CaseStream, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			want := providers.Usage{InputTokens: 9, OutputTokens: 4}
			f.Script(Behavior{Text: "one two three four", Usage: &want, ChunkDelay: 5 * time.Millisecond, Delay: 10 * time.Millisecond})
			var parts []string
			resp, err := s.Stream(ctxFor(t), request(h), func(c providers.Chunk) error {
				parts = append(parts, c.Text)
				return nil
			})
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			if len(parts) < 2 {
				t.Errorf("got %d chunks, want the answer in several", len(parts))
			}
			if got := strings.Join(parts, ""); got != "one two three four" || resp.Text != got {
				t.Errorf("chunks %q, Text %q", parts, resp.Text)
			}
			if resp.TTFT <= 0 {
				t.Errorf("TTFT = %v, want > 0", resp.TTFT)
			}
			if resp.Usage != want {
				t.Errorf("Usage = %+v, want %+v from the stream", resp.Usage, want)
			}
			if resp.FinishReason != "stop" {
				t.Errorf("FinishReason = %q", resp.FinishReason)
			}
			if !one(t, f).Stream {
				t.Error("request did not ask to stream")
			}
		}},
		{name: CaseStreamCut, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			f.Script(Behavior{Text: "one two three four five six", CutStreamAfter: 2})
			var got strings.Builder
			_, err := s.Stream(ctxFor(t), request(h), func(c providers.Chunk) error {
				got.WriteString(c.Text)
				return nil
			})
			wantError(t, h, err, "temporary", 0)
			if strings.Contains(got.String(), "six") {
				t.Errorf("received %q past the cut", got.String())
			}
		}},
		{name: CaseStreamError, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			f.Script(Behavior{Status: http.StatusTooManyRequests, RetryAfter: "3"})
			_, err := s.Stream(ctxFor(t), request(h), func(providers.Chunk) error { return nil })
			if pe := wantError(t, h, err, providers.KindRateLimit, http.StatusTooManyRequests); pe.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter = %v, want 3s", pe.RetryAfter)
			}
		}},
		{name: CaseStreamCancel, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			f.Script(Behavior{Text: "one two three four", ChunkDelay: 30 * time.Second})
			ctx, cancel := context.WithCancel(context.Background())
			start := time.Now()
			_, err := s.Stream(ctx, request(h), func(providers.Chunk) error {
				time.AfterFunc(50*time.Millisecond, cancel)
				return nil
			})
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("cancel took %v to return", el)
			}
			wantError(t, h, err, providers.KindCanceled, 0)
		}},
		{name: CaseStreamCallbackEr, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			f.Script(Behavior{Text: "one two three four"})
			stop := errors.New("seen enough")
			_, err := s.Stream(ctxFor(t), request(h), func(providers.Chunk) error { return stop })
			if !errors.Is(err, stop) {
				t.Errorf("err = %v, want the callback's error", err)
			}
		}},
		{name: CaseHang, bounds: providers.Bounds{Timeout: 200 * time.Millisecond}, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{Delay: time.Hour}) // accepts the connection, never answers
			start := time.Now()
			_, err := p.Generate(ctxFor(t), request(h))
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("a hung server held the call for %v", el)
			}
			wantTimeout(t, h, err, "timeout")
		}},
		{name: CaseStallBody, bounds: providers.Bounds{IdleTimeout: 200 * time.Millisecond}, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{StallBody: true}) // half a body, then silence
			_, err := p.Generate(ctxFor(t), request(h))
			wantTimeout(t, h, err, "idle_timeout")
		}},
		{name: CaseStreamStall, bounds: providers.Bounds{IdleTimeout: 200 * time.Millisecond}, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			f.Script(Behavior{Text: "one two three four", StallStreamAfter: 1})
			_, err := s.Stream(ctxFor(t), request(h), func(providers.Chunk) error { return nil })
			wantTimeout(t, h, err, "idle_timeout")
		}},
		{name: CaseStreamEndless, bounds: providers.Bounds{MaxDuration: 300 * time.Millisecond}, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			f.Script(Behavior{Text: "on and on", Endless: true, ChunkDelay: 2 * time.Millisecond})
			chunks := 0
			_, err := s.Stream(ctxFor(t), request(h), func(providers.Chunk) error { chunks++; return nil })
			wantTimeout(t, h, err, "max_duration")
			if chunks < 2 {
				t.Errorf("%d chunks before the cap; the stream should have flowed", chunks)
			}
		}},
		{name: CaseHugeBody, bounds: providers.Bounds{MaxResponseBytes: 1 << 20}, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			f.Script(Behavior{BodyBytes: 100 << 20})
			_, err := p.Generate(ctxFor(t), request(h))
			pe := wantError(t, h, err, providers.KindResponseTooLarge, 0)
			if pe.Kind.Temporary() {
				t.Error("response_too_large must not be retried")
			}
			if !strings.Contains(pe.Message, "1 MiB") || !strings.Contains(pe.Message, "xxxx") {
				t.Errorf("Message = %q: want the cap and the body's first bytes", pe.Message)
			}
			// Reading stopped at the cap: the server could write the cap
			// plus what the loopback sockets buffer, not 100 MB.
			if sent := f.HugeBytesSent(); sent > 24<<20 {
				t.Errorf("server wrote %d MiB; the client kept reading past its cap", sent>>20)
			}
		}},
		{name: CaseStreamNoFinish, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			s := streamer(t, p)
			f.Script(Behavior{Text: "one two three four", EndWithoutFinish: true})
			_, err := s.Stream(ctxFor(t), request(h), func(providers.Chunk) error { return nil })
			pe := wantError(t, h, err, providers.KindStreamTruncated, 0)
			if !pe.Kind.Temporary() {
				t.Error("stream_truncated must be retried")
			}
			if !strings.Contains(pe.Message, "finish reason") {
				t.Errorf("Message = %q: want it to say the stream ended without a finish reason", pe.Message)
			}
		}},
		{name: CaseEchoedKey, run: func(t *testing.T, h Harness, p providers.Provider, f Fake) {
			// A first call shows which credentials the adapter sends; they
			// are registered as providers/registry does when it reads a key.
			f.Script(Behavior{}, Behavior{EchoAuth: true})
			mustGenerate(t, p, request(h))
			req := f.Requests()[0]
			var creds []string
			for _, v := range []string{req.Header.Get("Authorization"), req.Header.Get("Api-Key"), req.Header.Get("X-Goog-Api-Key"), req.Query.Get("key")} {
				if v = strings.TrimPrefix(v, "Bearer "); len(v) >= redact.MinLen {
					redact.Register(v)
					creds = append(creds, v)
				}
			}
			_, err := providers.Redacted(p).Generate(ctxFor(t), request(h))
			pe := wantError(t, h, err, providers.KindAuth, 401)
			for _, v := range creds {
				for _, text := range []string{err.Error(), pe.Message, fmt.Sprint(pe.Err)} {
					if strings.Contains(text, v) {
						t.Errorf("the echoed key is in the error: %q", text)
					}
				}
			}
		}},
	}
}

// wantTimeout checks for a KindTimeout error whose message names the
// limit (its yardstick.yaml key).
func wantTimeout(t *testing.T, h Harness, err error, limit string) {
	t.Helper()
	pe := wantError(t, h, err, providers.KindTimeout, 0)
	if !strings.Contains(pe.Message, "("+"timeout: "+limit+")") {
		t.Errorf("Message = %q: want it to name the limit %s", pe.Message, limit)
	}
}

// ptr formats an optional value for messages.
func ptr[T any](p *T) any {
	if p == nil {
		return "absent"
	}
	return *p
}
