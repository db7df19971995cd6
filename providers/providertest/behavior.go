package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/yardstick-eval/yardstick/providers"
)

// Behavior scripts how a fake answers one request. The zero value is a
// normal, successful answer.
type Behavior struct {
	// Text is the answer. Empty: the fake's Responder decides, or "ok".
	Text string
	// Model is the model reported as having answered. Empty: the requested
	// model (OpenAI; Azure: the deployment name).
	Model string
	// FinishReason overrides the finish reason reported ("stop", "length";
	// fakes translate to their protocol's spelling).
	FinishReason string
	// Usage overrides the token counts reported. Nil: input tokens are the
	// prompt's characters divided by 4 (rounded up), output tokens the
	// answer's whitespace-separated words.
	Usage *providers.Usage

	// Status, when not 2xx, makes the fake reply with its protocol's error
	// body for that status.
	Status int
	// ErrorCode and ErrorMessage override the error body's code (OpenAI
	// error.code, Gemini error.status, …) and message. ErrorType overrides
	// OpenAI's error.type.
	ErrorCode, ErrorType, ErrorMessage string
	// RetryAfter is sent as the Retry-After header, whatever the status.
	RetryAfter string
	// Header holds extra response headers.
	Header http.Header
	// HTML replies with a proxy's HTML error page (status Status, 502 when
	// Status is 0) instead of a JSON body.
	HTML bool
	// Malformed replies 200 with a body that is not valid JSON.
	Malformed bool
	// CutBody sends the headers and half of a normal body, then drops the
	// connection. For a streamed answer it drops the connection after half
	// of the content chunks (at least one).
	CutBody bool
	// CutStreamAfter, when > 0, drops a streamed answer's connection after
	// that many content chunks.
	CutStreamAfter int

	// Delay is waited before answering; it ends early when the client goes
	// away. A server that accepts the connection and never answers is
	// Delay: time.Hour.
	Delay time.Duration
	// ChunkDelay is waited between streamed chunks.
	ChunkDelay time.Duration

	// EchoAuth makes the error body's message repeat the request's
	// credentials (Authorization, api-key and x-goog-api-key headers, the
	// key query parameter), as some gateways and proxies do. Status
	// defaults to 401.
	EchoAuth bool
	// RawBody is sent as the whole body, with Status (200 when 0) and the
	// Content-Type from Header (application/json when absent): a 401 whose
	// "application/json" body is plain text, a malformed 200.
	RawBody string
	// BodyBytes, when > 0, answers 200 with a body of that many bytes (a
	// JSON string of x's, written in pieces as it is read): a server
	// sending far more than any answer needs.
	BodyBytes int64
	// StallBody sends the 200 headers and half of a normal body, then
	// stays silent, connection open, until the client goes away.
	StallBody bool
	// StallStreamAfter, when > 0, stops a streamed answer after that many
	// content chunks and stays silent, connection open, until the client
	// goes away.
	StallStreamAfter int
	// Endless streams content chunks (every ChunkDelay, 1ms when unset)
	// until the client goes away; the stream never finishes.
	Endless bool
	// EndWithoutFinish ends a streamed answer cleanly (OpenAI: data:
	// [DONE]) after its content, with no finish reason, as llama.cpp's
	// server does to a waiting stream when another request arrives.
	EndWithoutFinish bool
	// NoStreamUsage ignores a request for usage in the stream (OpenAI
	// stream_options.include_usage), as some OpenAI-compatible servers do.
	NoStreamUsage bool
	// RawStream answers a streamed request 200 with exactly this event
	// stream (OpenAI), e.g. llama.cpp's `error: {...}` event for a prompt
	// over the context length.
	RawStream string
}

// echoCredentials returns the request's credentials as a gateway that
// echoes them would print them.
func echoCredentials(r *http.Request) string {
	var parts []string
	for _, h := range []string{"Authorization", "Api-Key", "X-Goog-Api-Key"} {
		if v := r.Header.Get(h); v != "" {
			parts = append(parts, h+": "+v)
		}
	}
	if k := r.URL.Query().Get("key"); k != "" {
		parts = append(parts, "key="+k)
	}
	return "invalid credentials (" + strings.Join(parts, ", ") + ")"
}

// WireRequest is one request as a fake received it: the raw HTTP parts and a
// protocol-neutral decoding of the body. Pointer fields are nil when the
// field was absent from the body.
type WireRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte // raw JSON body

	Model       string // model requested (OpenAI body "model"; Azure: see Deployment)
	Deployment  string // Azure OpenAI deployment from the path
	Messages    []providers.Message
	Temperature *float64
	TopP        *float64
	Seed        *int64
	MaxTokens   *int // OpenAI: max_completion_tokens, else max_tokens
	Stop        []string
	Stream      bool
	// StreamUsage reports that the request asked for usage in the stream
	// (OpenAI stream_options.include_usage).
	StreamUsage bool
	// JSONSchema is the output schema requested, as sent.
	JSONSchema json.RawMessage
}

// Prompt returns the text of the last user message, for Responders.
func (r WireRequest) Prompt() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == providers.RoleUser {
			return r.Messages[i].Content
		}
	}
	return ""
}

// Responder computes an answer from the request, for fakes reused by other
// packages' tests (for example a classifier suite answered by keyword). It
// must be safe for concurrent use.
type Responder func(req WireRequest) string

// recorder is the bookkeeping every fake shares: the script, the recorded
// requests and the counters. It is embedded in fake (which gives every fake
// Script, SetDefault, SetResponder, Requests, Count and PeakInFlight), and
// fake.serve, per request, calls enter, records the decoded WireRequest,
// pops next, then answers with answer and usage. The helpers below (wait,
// writeHeaders, writeHTML, cutBody, hijackAndClose, chunks) implement the
// protocol-neutral Behavior fields for every fake in this package.
type recorder struct {
	mu        sync.Mutex
	script    []Behavior
	def       Behavior
	responder Responder
	requests  []WireRequest
	noRecord  bool

	count    atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64
	hugeSent atomic.Int64
}

// next pops the next scripted behaviour.
func (r *recorder) next() Behavior {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.script) == 0 {
		return r.def
	}
	b := r.script[0]
	r.script = r.script[1:]
	return b
}

func (r *recorder) record(w WireRequest) {
	if r.noRecord {
		return
	}
	r.mu.Lock()
	r.requests = append(r.requests, w)
	r.mu.Unlock()
}

// enter counts a request in flight and returns the matching exit.
func (r *recorder) enter() func() {
	r.count.Add(1)
	n := r.inFlight.Add(1)
	for {
		old := r.peak.Load()
		if n <= old || r.peak.CompareAndSwap(old, n) {
			break
		}
	}
	return func() { r.inFlight.Add(-1) }
}

// Script queues behaviours for the next requests, first in first out.
func (r *recorder) Script(b ...Behavior) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.script = append(r.script, b...)
}

// SetDefault sets the behaviour for requests beyond the script.
func (r *recorder) SetDefault(b Behavior) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.def = b
}

// SetResponder sets the function that answers requests whose behaviour has
// no Text.
func (r *recorder) SetResponder(f Responder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.responder = f
}

// Requests returns a copy of every request received so far, in arrival
// order (nil when recording is off).
func (r *recorder) Requests() []WireRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]WireRequest(nil), r.requests...)
}

// Count returns the number of requests received, recorded or not.
func (r *recorder) Count() int { return int(r.count.Load()) }

// HugeBytesSent is how many bytes of Behavior.BodyBytes bodies the server
// managed to write: a client that stops reading at its cap keeps it near
// the cap (plus what the sockets buffer).
func (r *recorder) HugeBytesSent() int64 { return r.hugeSent.Load() }

// PeakInFlight returns the most requests that were being handled at once.
func (r *recorder) PeakInFlight() int { return int(r.peak.Load()) }

// answer returns the text for a successful reply, with stop sequences and
// the max-tokens cap applied, and the finish reason.
func (r *recorder) answer(b Behavior, req WireRequest) (text, finish string) {
	text = b.Text
	if text == "" {
		r.mu.Lock()
		f := r.responder
		r.mu.Unlock()
		if f != nil {
			text = f(req)
		} else {
			text = "ok"
		}
	}
	finish = "stop"
	for _, s := range req.Stop {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 {
			text = text[:i]
		}
	}
	if req.MaxTokens != nil && *req.MaxTokens > 0 {
		if words := strings.Fields(text); len(words) > *req.MaxTokens {
			text = strings.Join(words[:*req.MaxTokens], " ")
			finish = "length"
		}
	}
	if b.FinishReason != "" {
		finish = b.FinishReason
	}
	return text, finish
}

// usage returns the token counts to report.
func usage(b Behavior, req WireRequest, text string) providers.Usage {
	if b.Usage != nil {
		return *b.Usage
	}
	n := 0
	for _, m := range req.Messages {
		n += utf8.RuneCountInString(m.Content)
	}
	return providers.Usage{InputTokens: (n + 3) / 4, OutputTokens: len(strings.Fields(text))}
}

// chunks splits text into streaming pieces of one word each, keeping the
// whitespace, so that concatenating them gives text back.
func chunks(text string) []string {
	var out []string
	start := 0
	inSpace := false
	for i, c := range text {
		sp := c == ' ' || c == '\n' || c == '\t'
		if !sp && inSpace && i > start {
			out = append(out, text[start:i])
			start = i
		}
		inSpace = sp
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// wait sleeps for d or until the client goes away; it reports whether the
// full delay passed.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// writeHeaders sets the behaviour's extra headers.
func writeHeaders(w http.ResponseWriter, b Behavior) {
	for k, vs := range b.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if b.RetryAfter != "" {
		w.Header().Set("Retry-After", b.RetryAfter)
	}
}

// HTMLPage is the error page the fakes send for Behavior.HTML, shaped like
// a reverse proxy's.
func HTMLPage(status int) string {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return "<!DOCTYPE html>\n<html>\n<head><title>" + text + "</title></head>\n<body>\n<center><h1>" + text +
		"</h1></center>\n<hr><center>nginx</center>\n" + strings.Repeat("<!-- padding to defeat friendly error pages -->\n", 12) +
		"</body>\n</html>\n"
}

// writeHTML writes an HTML error page.
func writeHTML(w http.ResponseWriter, status int) {
	if status == 0 {
		status = http.StatusBadGateway
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, HTMLPage(status))
}

// cutBody hijacks the connection, writes a 200 response header announcing
// the full body, writes half of it, and closes the connection.
func cutBody(w http.ResponseWriter, contentType string, body []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, len(body))
	buf.Write(body[:len(body)/2])
	buf.Flush()
}

// hijackAndClose drops a response that is already under way (for example a
// chunked stream) without terminating it.
func hijackAndClose(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.Flush()
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
