package httprec

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorded struct {
	mu                    sync.Mutex
	calls                 int
	status                int
	retryAfter, mediaType string
}

func (r *recorded) Record(resp *http.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.status, r.retryAfter, r.mediaType = Summary(resp)
}

func TestClientRecordsAndAddsHeaders(t *testing.T) {
	var gotHeader http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Clone()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>bad gateway</html>")
	}))
	defer srv.Close()

	orig := srv.Client()
	origTransport := orig.Transport
	var wrapped bool
	c := Client(orig, http.Header{"x-extra": {"a", "b"}}, func(base http.RoundTripper) http.RoundTripper {
		wrapped = true
		return base
	})
	if orig.Transport != origTransport {
		t.Fatal("Client modified the client it was given")
	}
	if !wrapped {
		t.Fatal("wrap was not called")
	}

	tests := []struct {
		name      string
		recorder  bool
		wantCalls int
	}{
		{"with a recorder in the context", true, 1},
		{"without a recorder", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorded{}
			ctx := context.Background()
			if tt.recorder {
				ctx = WithRecorder(ctx, rec)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := gotHeader.Values("X-Extra"); strings.Join(got, ",") != "a,b" {
				t.Errorf("server saw X-Extra %q, want [a b]", got)
			}
			if len(req.Header) != 0 {
				t.Errorf("caller's request was modified: %v", req.Header)
			}
			if rec.calls != tt.wantCalls {
				t.Fatalf("Record called %d times, want %d", rec.calls, tt.wantCalls)
			}
			if tt.recorder && (rec.status != 502 || rec.retryAfter != "3" || rec.mediaType != "text/html") {
				t.Errorf("recorded (%d, %q, %q), want (502, \"3\", \"text/html\")", rec.status, rec.retryAfter, rec.mediaType)
			}
		})
	}
}

func TestNonJSON(t *testing.T) {
	tests := []struct {
		status    int
		mediaType string
		streams   []string
		want      string
	}{
		{0, "text/html", nil, ""},
		{200, "application/json", nil, ""},
		{200, "application/problem+json", nil, ""},
		{200, "text/event-stream", []string{"text/event-stream"}, ""},
		{200, "text/event-stream", []string{"application/x-ndjson"}, "text/event-stream"},
		{200, "application/x-ndjson", []string{"application/x-ndjson"}, ""},
		{502, "text/html", nil, "text/html"},
		{502, "", nil, "untyped"},
	}
	for _, tt := range tests {
		t.Run(tt.mediaType, func(t *testing.T) {
			if got := NonJSON(tt.status, tt.mediaType, tt.streams...); got != tt.want {
				t.Errorf("NonJSON(%d, %q, %q) = %q, want %q", tt.status, tt.mediaType, tt.streams, got, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 27, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"absent", "", 0},
		{"whole seconds", "120", 2 * time.Minute},
		{"fractional seconds", "1.25", 1250 * time.Millisecond},
		{"zero", "0", 0},
		{"negative", "-3", 0},
		{"garbage", "later please", 0},
		{"HTTP date ahead", "Wed, 21 Oct 2015 07:28:00 GMT", time.Minute},
		{"HTTP date now", "Wed, 21 Oct 2015 07:27:00 GMT", 0},
		{"HTTP date past", "Wed, 21 Oct 2015 07:00:00 GMT", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
