package httpguard

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

func serve(t testing.TB, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(t testing.TB, url string, b providers.Bounds) (*http.Response, error) {
	t.Helper()
	c := &http.Client{Transport: Wrap(nil, b)}
	return c.Get(url)
}

func TestNormalExchangeUntouched(t *testing.T) {
	url := serve(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	resp, err := get(t, url, providers.Bounds{Timeout: time.Second, IdleTimeout: time.Second, MaxDuration: time.Second, MaxResponseBytes: 11})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != `{"ok":true}` {
		t.Fatalf("body %q, err %v: a body exactly at the cap must pass", body, err)
	}
}

func TestReadStopsAtTheCap(t *testing.T) {
	const huge = 100 << 20
	var written int64
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		piece := []byte(strings.Repeat("y", 32<<10))
		for written < huge {
			n, err := w.Write(piece)
			written += int64(n)
			if err != nil {
				return
			}
		}
	})
	resp, err := get(t, url, providers.Bounds{MaxResponseBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != providers.KindResponseTooLarge {
		t.Fatalf("err = %v, want response_too_large", err)
	}
	if len(body) != 1<<20 {
		t.Errorf("read %d bytes, want exactly the 1 MiB cap", len(body))
	}
	if !strings.Contains(pe.Message, "1 MiB") || !strings.Contains(pe.Message, `"yyyy`) {
		t.Errorf("message %q", pe.Message)
	}
	// Reads after the cap keep failing the same way.
	if _, err := resp.Body.Read(make([]byte, 10)); !errors.As(err, &pe) {
		t.Errorf("read after cap: %v", err)
	}
}

func TestTimeoutsNameTheirLimit(t *testing.T) {
	block := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	trickle := func(w http.ResponseWriter, r *http.Request) {
		for r.Context().Err() == nil {
			w.Write([]byte("."))
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	}
	stall := func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("half"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	tests := []struct {
		name  string
		h     http.HandlerFunc
		b     providers.Bounds
		limit string
	}{
		{"no headers", block, providers.Bounds{Timeout: 50 * time.Millisecond}, "timeout: timeout"},
		{"silent body", stall, providers.Bounds{IdleTimeout: 50 * time.Millisecond}, "timeout: idle_timeout"},
		{"endless body", trickle, providers.Bounds{IdleTimeout: time.Second, MaxDuration: 100 * time.Millisecond}, "timeout: max_duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := get(t, serve(t, tt.h), tt.b)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != providers.KindTimeout || !strings.Contains(pe.Message, tt.limit) {
				t.Fatalf("err = %v, want a timeout naming %q", err, tt.limit)
			}
		})
	}
}

func TestBoundsDefaults(t *testing.T) {
	d := providers.Bounds{}.WithDefaults()
	if d.Timeout != 120*time.Second || d.IdleTimeout != 60*time.Second || d.MaxDuration != 10*time.Minute || d.MaxResponseBytes != 8<<20 {
		t.Errorf("defaults = %+v", d)
	}
	off := providers.Bounds{Timeout: -1, IdleTimeout: -1, MaxDuration: -1, MaxResponseBytes: -1}.WithDefaults()
	if off != (providers.Bounds{}) {
		t.Errorf("negative fields should turn limits off: %+v", off)
	}
}

// BenchmarkHugeBody measures what reading a 100 MB answer costs under the
// default 8 MiB cap: allocations stay near the cap, not the body size.
func BenchmarkHugeBody(b *testing.B) {
	url := serve(b, func(w http.ResponseWriter, r *http.Request) {
		piece := []byte(strings.Repeat("z", 64<<10))
		for i := 0; i < 1600 && r.Context().Err() == nil; i++ {
			if _, err := w.Write(piece); err != nil {
				return
			}
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		resp, err := get(b, url, providers.Bounds{})
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.ReportMetric(float64(len(body))/(1<<20), "MiB-read/op")
	}
}
