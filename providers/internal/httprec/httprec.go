// Package httprec lets a provider adapter see what its SDK's HTTP client
// hides from it about one exchange: the response's status and headers (an
// SDK error often keeps only the body) and errors reading the body. The
// adapter puts a Recorder in the call's context with WithRecorder and gives
// the SDK a client from Client; Transport hands every response to the
// Recorder found in its request's context.
//
// It does not interpret what is recorded (turning a status into an error
// kind is the adapter's business), and it does not retry, log or time
// requests.
package httprec

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Recorder receives the response to a request whose context carries it. It
// may replace resp.Body, for example to note read errors. It must be safe
// for concurrent use.
type Recorder interface {
	Record(resp *http.Response)
}

type recorderKey struct{}

// WithRecorder returns ctx carrying r for Transport to fill in. SDKs derive
// their request contexts from the caller's, so the value reaches Transport.
func WithRecorder(ctx context.Context, r Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// Transport adds Header to every request (replacing values of the same
// keys, which must be canonical), sends it with Base, and hands the
// response, when there is one, to the Recorder in the request's context.
type Transport struct {
	Base   http.RoundTripper
	Header http.Header
}

// RoundTrip implements http.RoundTripper. It clones req before adding
// headers, so the caller's request is not modified.
func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.Header) > 0 {
		req = req.Clone(req.Context())
		for k, vs := range t.Header {
			req.Header[k] = append([]string(nil), vs...)
		}
	}
	resp, err := t.Base.RoundTrip(req)
	if resp != nil {
		if r, ok := req.Context().Value(recorderKey{}).(Recorder); ok {
			r.Record(resp)
		}
	}
	return resp, err
}

// Client returns a shallow copy of c (or of a zero client when c is nil)
// whose transport is a Transport adding header (keys canonicalised, values
// copied) in front of c's transport (http.DefaultTransport when c has
// none), itself wrapped by wrap when wrap is not nil. c is not modified.
func Client(c *http.Client, header http.Header, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if wrap != nil {
		base = wrap(base)
	}
	h := http.Header{}
	for k, vs := range header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	cp.Transport = Transport{Base: base, Header: h}
	return &cp
}

// Summary returns what adapters keep of a response: its status, its raw
// Retry-After header and the media type of its body (from Content-Type,
// without parameters; "" when absent or unparseable).
func Summary(resp *http.Response) (status int, retryAfter, mediaType string) {
	mediaType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode, resp.Header.Get("Retry-After"), mediaType
}

// NonJSON returns mediaType when a response with that status and media type
// carries a body that is not JSON (an HTML page from a proxy, say):
// "untyped" when the media type is empty, and "" when no response arrived
// (status 0) or the type is application/json, a +json type or one of
// streamTypes (for example text/event-stream).
func NonJSON(status int, mediaType string, streamTypes ...string) string {
	if status == 0 || mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") {
		return ""
	}
	for _, st := range streamTypes {
		if mediaType == st {
			return ""
		}
	}
	if mediaType == "" {
		return "untyped"
	}
	return mediaType
}

// ParseRetryAfter parses an HTTP Retry-After value: delay seconds or an
// HTTP date, measured from now. It returns 0 when v is empty, malformed or
// in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
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
