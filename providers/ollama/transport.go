package ollama

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/internal/httpguard"
	"github.com/yardstick-eval/yardstick/providers/internal/httprec"
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

// Record implements httprec.Recorder: it notes the response and wraps its
// body to note read errors.
func (x *exchange) Record(resp *http.Response) {
	x.mu.Lock()
	x.status, x.retryAfter, x.mediaType = httprec.Summary(resp)
	x.mu.Unlock()
	resp.Body = &recordingBody{ReadCloser: resp.Body, x: x}
}

// nonJSON returns the media type of a response body that is neither JSON
// nor NDJSON (an HTML page from a proxy, say), or "" otherwise.
func (x *exchange) nonJSON() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return httprec.NonJSON(x.status, x.mediaType, "application/x-ndjson")
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
	return x.status, httprec.ParseRetryAfter(x.retryAfter, time.Now()), x.readErr
}

// withExchange returns ctx carrying x for the transport to fill in.
func withExchange(ctx context.Context, x *exchange) context.Context {
	return httprec.WithRecorder(ctx, x)
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
// nil) whose transport adds headers, records exchanges and enforces b. c
// itself is not modified.
func withRecording(c *http.Client, headers http.Header, b providers.Bounds) *http.Client {
	return httprec.Client(c, headers, func(base http.RoundTripper) http.RoundTripper { return httpguard.Wrap(base, b) })
}
