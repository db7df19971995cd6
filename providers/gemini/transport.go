package gemini

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"

	"github.com/yardstick-eval/yardstick/providers"
)

// exchange records what genai does not expose for one call: whether an HTTP
// response arrived, its status, its Retry-After header and whether its body
// is JSON. genai's APIError carries the status code and body but drops the
// headers.
type exchange struct {
	mu         sync.Mutex
	status     int
	retryAfter string
	mediaType  string // of the body, from Content-Type
}

func (x *exchange) record(resp *http.Response) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.status = resp.StatusCode
	x.retryAfter = resp.Header.Get("Retry-After")
	x.mediaType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
}

// snapshot returns the recorded status (0 when no response arrived) and the
// parsed Retry-After hint.
func (x *exchange) snapshot() (status int, retryAfter time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.status, parseRetryAfter(x.retryAfter, time.Now())
}

// nonJSON returns the media type of a response body that is not JSON (an
// HTML page from a proxy, say), or "" when the body was JSON, event-stream
// or no response arrived.
func (x *exchange) nonJSON() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	mt := x.mediaType
	if x.status == 0 || mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/event-stream" {
		return ""
	}
	if mt == "" {
		return "untyped"
	}
	return mt
}

type exchangeKey struct{}

// withExchange returns ctx carrying x so the transport can fill it in.
func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// recordingTransport fills in the *exchange found in each request's context
// and adds fixed headers. genai derives its request context from the
// caller's, so the value survives.
type recordingTransport struct {
	base http.RoundTripper
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if x, ok := req.Context().Value(exchangeKey{}).(*exchange); ok {
			x.record(resp)
		}
	}
	return resp, err
}

// adcTransport authenticates requests with Application Default Credentials
// found on first use, so that New makes no network call (without an ADC
// file, detection probes the GCE metadata server). A detection failure is
// remembered and returned, as KindAuth, by every request.
type adcTransport struct {
	base http.RoundTripper
	name string

	once         sync.Once
	rt           http.RoundTripper
	quotaProject string
	err          error
}

func (t *adcTransport) init() {
	creds, err := credentials.DetectDefault(&credentials.DetectOptions{
		Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"},
	})
	if err != nil {
		t.err = &providers.Error{Kind: providers.KindAuth, Provider: t.name,
			Message: "no Application Default Credentials for Vertex AI: run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS", Err: err}
		return
	}
	hc := &http.Client{Transport: t.base}
	if err := httptransport.AddAuthorizationMiddleware(hc, creds); err != nil {
		t.err = &providers.Error{Kind: providers.KindAuth, Provider: t.name, Err: err}
		return
	}
	t.rt = hc.Transport
	// genai sends the credentials' quota project when it builds the client
	// itself; do the same.
	if qp, err := creds.QuotaProjectID(context.Background()); err == nil {
		t.quotaProject = qp
	}
}

func (t *adcTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.once.Do(t.init)
	if t.err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, t.err
	}
	if t.quotaProject != "" && req.Header.Get("X-Goog-User-Project") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("X-Goog-User-Project", t.quotaProject)
	}
	return t.rt.RoundTrip(req)
}

// transportFor returns a shallow copy of c (or of a zero client when c is
// nil) whose transport records exchanges and, when adc is set,
// authenticates with Application Default Credentials. c is not modified.
func transportFor(c *http.Client, adc bool, name string) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if adc {
		base = &adcTransport{base: base, name: name}
	}
	cp.Transport = recordingTransport{base: base}
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
