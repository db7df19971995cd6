package gemini

import (
	"context"
	"net/http"
	"sync"
	"time"

	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/internal/httpguard"
	"github.com/yardstick-eval/yardstick/providers/internal/httprec"
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

// Record implements httprec.Recorder.
func (x *exchange) Record(resp *http.Response) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.status, x.retryAfter, x.mediaType = httprec.Summary(resp)
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
	return httprec.NonJSON(x.status, x.mediaType, "text/event-stream")
}

// withExchange returns ctx carrying x so the transport can fill it in.
// genai derives its request context from the caller's, so the value
// survives.
func withExchange(ctx context.Context, x *exchange) context.Context {
	return httprec.WithRecorder(ctx, x)
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
// authenticates with Application Default Credentials, under the limits b.
// c is not modified.
func transportFor(c *http.Client, adc bool, name string, b providers.Bounds) *http.Client {
	wrap := func(base http.RoundTripper) http.RoundTripper {
		g := httpguard.Wrap(base, b)
		if adc {
			return &adcTransport{base: g, name: name}
		}
		return g
	}
	return httprec.Client(c, nil, wrap)
}

// parseRetryAfter parses an HTTP Retry-After value: delay seconds or an
// HTTP date. It returns 0 when v is empty, malformed or in the past.
var parseRetryAfter = httprec.ParseRetryAfter
