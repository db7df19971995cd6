package registry_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

func TestViperConfigBoundsAndBreaker(t *testing.T) {
	yaml := `
providers:
  - name: local
    type: llamacpp
    model: qwen
    timeout: 30s
    idle_timeout: 5s
    max_duration: 2m
    max_response_bytes: 1048576
    breaker: {threshold: 3, cooldown: 10s}
    options: {structured_output: json_object}
`
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader(yaml)); err != nil {
		t.Fatal(err)
	}
	var cfgs []registry.Config
	if err := v.UnmarshalKey("providers", &cfgs); err != nil {
		t.Fatal(err)
	}
	c := cfgs[0]
	want := providers.Bounds{Timeout: 30 * time.Second, IdleTimeout: 5 * time.Second, MaxDuration: 2 * time.Minute, MaxResponseBytes: 1 << 20}
	if c.Bounds() != want || c.Breaker != (registry.Breaker{Threshold: 3, Cooldown: 10 * time.Second}) {
		t.Errorf("config = %+v", c)
	}
	if _, err := registry.Build(c, registry.Options{Getenv: env(nil)}); err != nil {
		t.Fatal(err)
	}
	c.Options = map[string]string{"structured_output": "grammar"}
	if _, err := registry.Build(c, registry.Options{Getenv: env(nil)}); err == nil || !strings.Contains(err.Error(), "options.structured_output") {
		t.Errorf("bad structured_output: err = %v", err)
	}
}

// countingClient counts the TCP connections its transport tries to open.
func countingClient(dials *atomic.Int64) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 2 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

// Against a closed port, 2,000 cases make about Threshold connection
// attempts: the breaker opens and the rest fail fast with circuit_open,
// whose message names the refused connection.
func TestClosedPortOpensTheCircuit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	var dials atomic.Int64
	b, err := registry.Build(registry.Config{Type: "llamacpp", Model: "m", BaseURL: "http://" + addr + "/v1"}, registry.Options{
		Getenv:     env(nil),
		HTTPClient: countingClient(&dials),
		Retry:      providers.RetryConfig{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	const cases, workers = 2000, 8
	work := make(chan struct{})
	var wg sync.WaitGroup
	var open atomic.Int64
	var sample atomic.Value
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				_, err := b.Provider.Generate(context.Background(), &providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
				if providers.KindOf(err) == providers.KindCircuitOpen {
					open.Add(1)
					sample.Store(err.Error())
				}
			}
		}()
	}
	for range cases {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	if n := dials.Load(); n > providers.DefaultBreakerThreshold+workers {
		t.Errorf("%d connection attempts for %d cases; want about %d", n, cases, providers.DefaultBreakerThreshold)
	}
	if open.Load() < cases-workers {
		t.Errorf("%d of %d cases failed with circuit_open", open.Load(), cases)
	}
	if msg, _ := sample.Load().(string); !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "llamacpp") {
		t.Errorf("circuit_open message %q does not name the cause", msg)
	}
}

// A target's timeout from the config reaches its adapter: a server that
// never answers is a timeout after that long, retried, not a hang.
func TestConfiguredTimeoutEndsAHang(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithDefault(providertest.Behavior{Delay: time.Hour}))
	b, err := registry.Build(registry.Config{Type: "vllm", Model: "m", BaseURL: srv.URL(), Timeout: 100 * time.Millisecond}, registry.Options{
		Getenv: env(nil),
		Retry:  providers.RetryConfig{MaxAttempts: 2, BaseDelay: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Provider.Generate(context.Background(), &providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
	var pe *providers.Error
	if providers.KindOf(err) != providers.KindTimeout || !errors.As(err, &pe) || pe.Attempts != 2 {
		t.Fatalf("err = %v (%+v), want a timeout after 2 attempts", err, pe)
	}
	if srv.Count() != 2 {
		t.Errorf("requests = %d, want 2", srv.Count())
	}
}

func asError(err error, pe **providers.Error) bool { return errors.As(err, pe) }
