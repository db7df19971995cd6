package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	goopenai "github.com/sashabaranov/go-openai"
)

// callState is the per-call holder shared, through the request's ctx,
// between a Client method and the transport: the body fields to write, and
// what the transport saw of the response.
type callState struct {
	patch map[string]any // body fields set verbatim on the wire

	mu      sync.Mutex
	sent    bool        // a request reached the base transport
	status  int         // last response status
	header  http.Header // last response headers
	sendErr error       // transport error with no response
	head    []byte      // the body's first headLen bytes
	read    int64       // body bytes read
	eof     bool        // the body was read to its clean end
	readErr error       // first error reading the body, other than io.EOF
}

// headLen is how much of a response body is kept to explain failures: a
// malformed 200, a stream that ended with only the server's words.
const headLen = 4 << 10

func (s *callState) record(resp *http.Response, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = true
	if resp != nil {
		s.status, s.header, s.sendErr = resp.StatusCode, resp.Header, nil
		s.head, s.read, s.eof, s.readErr = nil, 0, false, nil
		resp.Body = &watchedBody{ReadCloser: resp.Body, s: s}
	} else {
		s.sendErr = err
	}
}

// watchedBody notes what was read of a response body.
type watchedBody struct {
	io.ReadCloser
	s *callState
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	s := b.s
	s.mu.Lock()
	if len(s.head) < headLen {
		s.head = append(s.head, p[:min(n, headLen-len(s.head))]...)
	}
	s.read += int64(n)
	switch {
	case err == io.EOF:
		s.eof = true
	case err != nil && s.readErr == nil:
		s.readErr = err
	}
	s.mu.Unlock()
	return n, err
}

type callSnapshot struct {
	sent    bool
	status  int
	header  http.Header
	sendErr error
	head    string
	read    int64
	eof     bool
	readErr error
}

func (s *callState) snapshot() callSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return callSnapshot{sent: s.sent, status: s.status, header: s.header, sendErr: s.sendErr,
		head: string(s.head), read: s.read, eof: s.eof, readErr: s.readErr}
}

type callKey struct{}

func withCall(ctx context.Context, s *callState) context.Context {
	return context.WithValue(ctx, callKey{}, s)
}

// transport wraps the HTTP client's RoundTripper. For requests made by a
// Client method it writes the call's patch into the JSON body and records
// the response status and headers; it adds the configured extra headers to
// every request.
type transport struct {
	base    http.RoundTripper
	headers map[string]string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	cs, _ := req.Context().Value(callKey{}).(*callState)
	if cs == nil && len(t.headers) == 0 {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request.
	out := req.Clone(req.Context())
	for k, v := range t.headers {
		out.Header.Set(k, v)
	}
	if cs != nil && len(cs.patch) > 0 && req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body, err = patchJSON(body, cs.patch)
		if err != nil {
			return nil, err
		}
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := t.base.RoundTrip(out)
	if cs != nil {
		cs.record(resp, err)
	}
	return resp, err
}

// chatBody returns the body a chat completion request carries on the wire:
// go-openai's JSON encoding of creq with the patch written over it. The
// real-time path produces the same bytes in two steps (go-openai encodes,
// the transport calls patchJSON); batch lines, which go-openai never
// patches, are built with it.
func chatBody(creq goopenai.ChatCompletionRequest, patch map[string]any) ([]byte, error) {
	if err := goopenai.NewReasoningValidator().Validate(creq); err != nil {
		return nil, err // as CreateChatCompletion refuses it
	}
	body, err := json.Marshal(creq)
	if err != nil || len(patch) == 0 {
		return body, err
	}
	return patchJSON(body, patch)
}

// patchJSON sets the top-level fields of the JSON object body to the
// values in patch.
func patchJSON(body []byte, patch map[string]any) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %w", err)
	}
	for k, v := range patch {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("request field %s: %w", k, err)
		}
		obj[k] = b
	}
	return json.Marshal(obj)
}

// redactURL returns raw without user info and query, for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
