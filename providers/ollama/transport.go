package ollama

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// exchange records what the ollama api client does not expose for one call:
// the HTTP status and Retry-After header (lost when an error body is empty),
// and the first error reading the body (api.Client's NDJSON loop ignores
// scanner errors, so a cut stream otherwise looks like a clean end).
type exchange struct {
	mu         sync.Mutex
	status     int
	retryAfter string
	mediaType  string // of the body, from Content-Type
	readErr    error
}

func (x *exchange) record(resp *http.Response) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.status = resp.StatusCode
	x.retryAfter = resp.Header.Get("Retry-After")
	x.mediaType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
}

// nonJSON returns the media type of a response body that is neither JSON
// nor NDJSON (an HTML page from a proxy, say), or "" otherwise.
func (x *exchange) nonJSON() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	mt := x.mediaType
	if x.status == 0 || mt == "application/json" || mt == "application/x-ndjson" || strings.HasSuffix(mt, "+json") {
		return ""
	}
	if mt == "" {
		return "untyped"
	}
	return mt
}

func (x *exchange) readFailed(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.readErr == nil {
		x.readErr = err
	}
}

// snapshot returns the status (0 when no response arrived), the parsed
// Retry-After hint and the body read error, if any.
func (x *exchange) snapshot() (status int, retryAfter time.Duration, readErr error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.status, parseRetryAfter(x.retryAfter, time.Now()), x.readErr
}

type exchangeKey struct{}

func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// recordingTransport adds fixed headers and fills in the *exchange in each
// request's context.
type recordingTransport struct {
	base    http.RoundTripper
	headers http.Header
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.headers) > 0 {
		req = req.Clone(req.Context())
		for k, vs := range t.headers {
			req.Header[k] = append([]string(nil), vs...)
		}
	}
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if x, ok := req.Context().Value(exchangeKey{}).(*exchange); ok {
			x.record(resp)
			resp.Body = &recordingBody{ReadCloser: resp.Body, x: x}
		}
	}
	return resp, err
}

// recordingBody notes the first read error other than io.EOF.
type recordingBody struct {
	io.ReadCloser
	x *exchange
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.x.readFailed(err)
	}
	return n, err
}

// withRecording returns a shallow copy of c (or of a zero client when c is
// nil) whose transport adds headers and records exchanges. c itself is not
// modified.
func withRecording(c *http.Client, headers http.Header) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	h := http.Header{}
	for k, vs := range headers {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	cp.Transport = recordingTransport{base: base, headers: h}
	return &cp
}

// parseRetryAfter parses an HTTP Retry-After value: delay seconds or an
// HTTP date. It returns 0 when v is empty, malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
