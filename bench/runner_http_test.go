package bench_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// The runner end to end over real HTTP: the real OpenAI adapter
// (providers/openai, on go-openai) against the fake of the OpenAI chat
// completions wire protocol (providers/providertest), so the numbers include
// JSON encoding, HTTP over loopback and the fake server.

// httpProvider is an openai.Client for baseURL whose transport keeps conns
// idle connections per host (the default of 2 would churn connections at
// high concurrency).
type httpProvider struct {
	*openai.Client
	tr *http.Transport
}

func newHTTPProvider(tb testing.TB, baseURL string, conns int) *httpProvider {
	tb.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	tr.MaxIdleConns = conns
	c, err := openai.New(openai.Config{BaseURL: baseURL, APIKey: "test-key", HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		tb.Fatal(err)
	}
	return &httpProvider{Client: c, tr: tr}
}

func (p *httpProvider) close() { p.tr.CloseIdleConnections() }

type echoScorer struct{}

func (echoScorer) Score(_ context.Context, c *bench.Case, r *providers.Response) (bench.Score, error) {
	pass := r.Text == c.Expected
	v := 0.0
	if pass {
		v = 1
	}
	return bench.Score{Value: v, Pass: pass}, nil
}

func httpCases(n int) iter.Seq2[*bench.Case, error] {
	return func(yield func(*bench.Case, error) bool) {
		for i := range n {
			q := "question " + strconv.Itoa(i)
			c := &bench.Case{Suite: "http", ID: strconv.Itoa(i), Expected: "answer to " + q, Scorer: echoScorer{},
				Request: providers.Request{System: "be brief", Messages: []providers.Message{{Role: providers.RoleUser, Content: q}},
					Temperature: providers.Float64(0), MaxTokens: 8}}
			if !yield(c, nil) {
				return
			}
		}
	}
}

func echo(req providertest.WireRequest) string { return "answer to " + req.Prompt() }

func TestRunnerOverHTTP(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithResponder(echo))
	p := newHTTPProvider(t, srv.URL(), 16)
	defer p.close()
	targets := []bench.Target{
		{Name: "a", Model: "model-a", Provider: p, Price: &providers.Price{InputPerM: 1, OutputPerM: 2}},
		{Name: "b", Model: "model-b", Provider: p},
	}
	const n = 300
	seen := map[bench.Key]bool{}
	sink := bench.SinkFunc(func(r *bench.Result) error {
		if seen[r.Key()] {
			t.Errorf("key %v twice", r.Key())
		}
		seen[r.Key()] = true
		if r.Error != nil || !r.Pass || r.ResolvedModel != r.Model || r.Usage.OutputTokens == 0 {
			t.Errorf("result %+v", r)
		}
		return nil
	})
	if err := bench.New(bench.Config{Concurrency: 16}).Run(context.Background(), httpCases(n), targets, sink); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2*n || srv.Count() != 2*n {
		t.Errorf("%d results, %d requests on the wire; want %d each", len(seen), srv.Count(), 2*n)
	}
	for _, r := range srv.Requests()[:5] {
		if r.Temperature == nil || *r.Temperature != 0 {
			t.Errorf("request %s: temperature %v on the wire, want 0", r.Body, r.Temperature)
		}
	}
}

// BenchmarkRunnerHTTP measures results per second at zero latency through
// HTTP: runner, client, loopback TCP and the fake server share the machine's
// cores (target: ≥ 3,000 cases/s on 2 cores). The stream=true case uses the
// adapter's Streamer (server-sent events) and checks every result has a TTFT.
//
//	go test -run '^$' -bench RunnerHTTP -benchtime 3x ./bench/
func BenchmarkRunnerHTTP(b *testing.B) {
	const cases = 5000
	for _, tc := range []struct {
		conc   int
		stream bool
	}{{8, false}, {64, false}, {64, true}} {
		conc := tc.conc
		b.Run(fmt.Sprintf("concurrency=%d/stream=%v", conc, tc.stream), func(b *testing.B) {
			srv := providertest.NewOpenAIServer(b, providertest.WithResponder(echo), providertest.WithoutRecording())
			p := newHTTPProvider(b, srv.URL(), conc)
			defer p.close()
			targets := []bench.Target{{Name: "fake", Model: "gpt-fake", Provider: p, Price: &providers.Price{InputPerM: 1, OutputPerM: 2}, Stream: tc.stream}}
			var total time.Duration
			for b.Loop() {
				passed := 0
				sink := bench.SinkFunc(func(r *bench.Result) error {
					if r.Pass && (r.TTFT > 0) == tc.stream {
						passed++
					}
					return nil
				})
				start := time.Now()
				if err := bench.New(bench.Config{Concurrency: conc}).Run(context.Background(), httpCases(cases), targets, sink); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				if passed != cases {
					b.Fatalf("%d of %d passed", passed, cases)
				}
			}
			b.ReportMetric(float64(cases*b.N)/total.Seconds(), "cases/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
