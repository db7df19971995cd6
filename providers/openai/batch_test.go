package openai_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/batch"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

type idKey struct{}

func echo(req providertest.WireRequest) string {
	return "re: " + req.Messages[len(req.Messages)-1].Content
}

// sendAll sends n requests at once through p, each with its own custom id,
// and checks every answer is its own.
func sendAll(tb testing.TB, p providers.Provider, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := fmt.Sprintf("question %d", i)
			ctx := context.WithValue(context.Background(), idKey{}, fmt.Sprintf("id-%d", i))
			resp, err := p.Generate(ctx, &providers.Request{Model: "gpt-4o-mini", Messages: []providers.Message{{Role: providers.RoleUser, Content: q}}})
			switch {
			case err != nil:
				errs <- err
			case resp.Text != "re: "+q:
				errs <- fmt.Errorf("line %d answered %q", i, resp.Text)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

func newBatch(tb testing.TB, srv *providertest.OpenAIBatchServer) (*batch.Provider, providers.Provider) {
	c, err := openai.New(openai.Config{APIKey: "sk-test", BaseURL: srv.URL()})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := batch.New(batch.Options{Backend: c.Batches(), Fallback: c, Name: "openai:gpt-4o-mini",
		State: filepath.Join(tb.TempDir(), "batches.jsonl"), Idle: 5 * time.Millisecond, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond,
		ID: func(ctx context.Context) (string, bool) { id, ok := ctx.Value(idKey{}).(string); return id, ok }})
	if err != nil {
		tb.Fatal(err)
	}
	return p, c
}

// TestBatchesThroughTheSDK: 300 concurrent calls become one batch through
// go-openai's Files + Batches calls, and each gets its own line back from an
// output file written in reverse order.
func TestBatchesThroughTheSDK(t *testing.T) {
	srv := providertest.NewOpenAIBatchServer(t, echo)
	srv.SetMode(providertest.BatchMode{Shuffle: true})
	p, _ := newBatch(t, srv)
	sendAll(t, p, 300)
	if srv.Created() != 1 || srv.Count() != 0 || p.Submitted() != 1 {
		t.Errorf("%d batches, %d real-time requests; want 1 and 0", srv.Created(), srv.Count())
	}
}

// BenchmarkBatch10k is the batch path's overhead for 10,000 lines against
// the wire fake (upload, create, poll, download, map back), next to
// BenchmarkRealtime10k, the same lines as real-time requests.
func BenchmarkBatch10k(b *testing.B) {
	srv := providertest.NewOpenAIBatchServer(b, echo)
	for b.Loop() {
		p, _ := newBatch(b, srv)
		sendAll(b, p, 10000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/line")
}

func BenchmarkRealtime10k(b *testing.B) {
	srv := providertest.NewOpenAIBatchServer(b, echo)
	c, err := openai.New(openai.Config{APIKey: "sk-test", BaseURL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	lim := providers.Limit(c, providers.LimitConfig{Name: "openai", Concurrency: 64})
	for b.Loop() {
		sendAll(b, lim, 10000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/line")
}
