package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// testIdle is how long the tests' queues wait for another call: long enough
// that concurrent calls go in one batch on a loaded machine (-race, shared
// cores). The benchmarks use 5ms.
const testIdle = 50 * time.Millisecond

func newBatch(tb testing.TB, srv *providertest.OpenAIBatchServer) (*batch.Provider, providers.Provider) {
	return newBatchAt(tb, srv, filepath.Join(tb.TempDir(), "batches.jsonl"), testIdle)
}

func newBatchAt(tb testing.TB, srv *providertest.OpenAIBatchServer, state string, idle time.Duration) (*batch.Provider, providers.Provider) {
	c, err := openai.New(openai.Config{APIKey: "sk-test", BaseURL: srv.URL()})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := batch.New(batch.Options{Backend: c.Batches(), Fallback: c, Name: "openai:gpt-4o-mini",
		State: state, Idle: idle, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond,
		Warn: func(msg string) { tb.Errorf("warning: %s", msg) },
		ID:   func(ctx context.Context) (string, bool) { id, ok := ctx.Value(idKey{}).(string); return id, ok }})
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

// TestBatchKilledBeforeTheRecord: the state file as it was when the fake
// created the batch (the process killed before the reply reached it) holds
// only the pending record; a resumed run finds the batch by its tag, paging
// through the organization's newer batches (GET /v1/batches?limit&after),
// and re-attaches: exactly one batch is ever created and no line runs in
// real time.
func TestBatchKilledBeforeTheRecord(t *testing.T) {
	srv := providertest.NewOpenAIBatchServer(t, echo)
	dir := t.TempDir()
	state, killed := filepath.Join(dir, "batches.jsonl"), filepath.Join(dir, "killed.jsonl")
	srv.OnCreate(func() {
		data, err := os.ReadFile(state)
		if err != nil {
			t.Error(err)
		}
		os.WriteFile(killed, data, 0o644)
	})
	p, _ := newBatchAt(t, srv, state, testIdle)
	sendAll(t, p, 20)
	srv.OnCreate(nil)
	if data, _ := os.ReadFile(killed); strings.Contains(string(data), "batch_id") || !strings.Contains(string(data), `"tag":`) {
		t.Fatalf("state at creation: %s; want the pending record alone", data)
	}
	srv.AddBatches(250)

	p2, _ := newBatchAt(t, srv, killed, testIdle)
	if p2.Unsettled() != 1 {
		t.Fatalf("unsettled %d, want 1", p2.Unsettled())
	}
	sendAll(t, p2, 20)
	if srv.Created() != 1 || srv.Count() != 0 || p2.Submitted() != 0 {
		t.Errorf("%d batches created, %d real-time requests, %d submitted on resume; want 1, 0, 0", srv.Created(), srv.Count(), p2.Submitted())
	}
	if srv.Lists() != 3 {
		t.Errorf("%d list pages read, want 3 (251 batches, 100 a page)", srv.Lists())
	}
}

// TestBatchPendingNeverCreated: a pending record whose batch the provider
// never created (killed before the upload finished) is looked up, not found,
// and its lines are submitted once, under a new tag.
func TestBatchPendingNeverCreated(t *testing.T) {
	srv := providertest.NewOpenAIBatchServer(t, echo)
	srv.AddBatches(3)
	state := filepath.Join(t.TempDir(), "batches.jsonl")
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	line, _ := json.Marshal(map[string]any{"target": "openai:gpt-4o-mini", "tag": "yardstick-1764630000-00ff", "custom_ids": ids})
	os.WriteFile(state, append(line, '\n'), 0o644)
	p, _ := newBatchAt(t, srv, state, testIdle)
	sendAll(t, p, 20)
	if srv.Created() != 1 || srv.Count() != 0 || p.Submitted() != 1 || srv.Lists() != 1 {
		t.Errorf("%d batches created, %d real-time, %d submitted, %d list pages; want 1, 0, 1, 1", srv.Created(), srv.Count(), p.Submitted(), srv.Lists())
	}
}

// BenchmarkBatch10k is the batch path's overhead for 10,000 lines against
// the wire fake (upload, create, poll, download, map back), next to
// BenchmarkRealtime10k, the same lines as real-time requests.
func BenchmarkBatch10k(b *testing.B) {
	srv := providertest.NewOpenAIBatchServer(b, echo)
	for b.Loop() {
		p, _ := newBatchAt(b, srv, filepath.Join(b.TempDir(), "batches.jsonl"), 5*time.Millisecond)
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

// TestBatchLineBody: a batch line carries exactly the body the real-time
// path sends, the transport's patch included: temperature 0 (which
// go-openai's omitempty float32 would drop) and top_p 0.7 (which it would
// round to 0.699999988).
func TestBatchLineBody(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string][]byte{} // prompt → body the fake received
	srv := providertest.NewOpenAIBatchServer(t, func(req providertest.WireRequest) string {
		mu.Lock()
		defer mu.Unlock()
		bodies[req.Prompt()] = req.Body
		if req.Temperature == nil || req.TopP == nil {
			return "no sampling parameters"
		}
		return fmt.Sprintf("t=%v p=%v", *req.Temperature, *req.TopP)
	})
	p, c := newBatch(t, srv)
	send := func(p providers.Provider, q string) string {
		ctx := context.WithValue(context.Background(), idKey{}, "line-"+q)
		req := &providers.Request{Model: "gpt-4o-mini", System: "be brief", MaxTokens: 16, Seed: new(int64(7)), Stop: []string{"\n"},
			Temperature: providers.Float64(0), TopP: providers.Float64(0.7), Messages: []providers.Message{{Role: providers.RoleUser, Content: q}}}
		resp, err := p.Generate(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Text
	}
	if got := send(p, "q"); got != "t=0 p=0.7" {
		t.Errorf("batch line answered %q, want t=0 p=0.7", got)
	}
	if got := send(c, "q-rt"); got != "t=0 p=0.7" {
		t.Errorf("real-time answered %q", got)
	}
	if srv.Created() != 1 || srv.Count() != 1 {
		t.Fatalf("%d batches, %d real-time requests; want 1 and 1", srv.Created(), srv.Count())
	}
	batchBody := strings.Replace(string(bodies["q"]), `"content":"q"`, `"content":"q-rt"`, 1)
	if batchBody != string(bodies["q-rt"]) {
		t.Errorf("the batch line's body differs from the real-time body:\nbatch     %s\nreal-time %s", bodies["q"], bodies["q-rt"])
	}
	if !strings.Contains(batchBody, `"temperature":0`) || !strings.Contains(batchBody, `"top_p":0.7`) {
		t.Errorf("batch body without the patch: %s", batchBody)
	}
}

// TestAzureBatch: go-openai with an Azure config makes Azure's batch calls
// ({endpoint}/openai/files and /openai/batches with api-version and
// api-key, endpoint and line url /chat/completions), and each line names
// the deployment; the batch is found again by its tag through Azure's list.
// A model mapped to no global-batch deployment fails validation, shown in
// the state, and its lines run in real time.
func TestAzureBatch(t *testing.T) {
	tests := []struct {
		name        string
		deployments map[string]string
		wantState   string
		realtime    int
	}{
		{name: "deployment mapped", deployments: map[string]string{"gpt-4o-mini": "mini-batch"}, wantState: "completed"},
		{name: "not a batch deployment", wantState: "failed (model_not_found: The provided model deployment 'gpt-4o-mini' does not exist", realtime: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := providertest.NewAzureBatchServer(t, echo, "az-key", "mini-batch")
			c, err := openai.New(openai.Config{Azure: true, APIKey: "az-key", BaseURL: srv.Endpoint(), Deployments: tt.deployments})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var states []string
			statePath := filepath.Join(t.TempDir(), "batches.jsonl")
			p, err := batch.New(batch.Options{Backend: c.Batches(), Fallback: c, Name: "azure:gpt-4o-mini",
				State: statePath, Idle: testIdle, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond,
				ID:       func(ctx context.Context) (string, bool) { id, ok := ctx.Value(idKey{}).(string); return id, ok },
				OnStatus: func(_ string, st batch.Status) { mu.Lock(); states = append(states, st.State); mu.Unlock() },
				Warn:     func(msg string) { t.Errorf("warning: %s", msg) }})
			if err != nil {
				t.Fatal(err)
			}
			sendAll(t, p, 20)
			if srv.Created() != 1 || srv.Count() != tt.realtime {
				t.Errorf("%d batches, %d real-time requests; want 1 and %d", srv.Created(), srv.Count(), tt.realtime)
			}
			if last := states[len(states)-1]; !strings.HasPrefix(last, tt.wantState) {
				t.Errorf("last state %q, want %q…", last, tt.wantState)
			}
			// The tag and batch id recorded: Find gets the one from the other.
			data, _ := os.ReadFile(statePath)
			var rec struct {
				Tag   string `json:"tag"`
				Batch string `json:"batch_id"`
			}
			json.Unmarshal([]byte(strings.Split(strings.TrimSpace(string(data)), "\n")[1]), &rec)
			f := c.Batches().(batch.Finder)
			if id, found, err := f.Find(context.Background(), rec.Tag); err != nil || !found || id != rec.Batch || rec.Batch == "" {
				t.Errorf("Find(%q) = %q, %v, %v; want %q", rec.Tag, id, found, err, rec.Batch)
			}
			if id, found, err := f.Find(context.Background(), "yardstick-1-none"); err != nil || found || id != "" {
				t.Errorf("Find of an unknown tag: %q, %v, %v", id, found, err)
			}
		})
	}
	// Without the key, or the api-version, Azure refuses; the fake too.
	srv := providertest.NewAzureBatchServer(t, echo, "az-key", "mini-batch")
	bad, _ := openai.New(openai.Config{Azure: true, APIKey: "wrong", BaseURL: srv.Endpoint()})
	if _, err := bad.Batches().Submit(context.Background(), "t", []batch.Line{{CustomID: "a", Request: &providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "x"}}}}}); err == nil {
		t.Error("a wrong api-key was accepted")
	}
}

// TestFindStopsAtOlderBatches: Find reads no further than batches created
// an hour before its tag was made (the list is newest first).
func TestFindStopsAtOlderBatches(t *testing.T) {
	srv := providertest.NewOpenAIBatchServer(t, echo)
	srv.AddBatches(250)
	c, err := openai.New(openai.Config{APIKey: "sk-test", BaseURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	f := c.Batches().(batch.Finder)
	later := fmt.Sprintf("yardstick-%d-00", time.Now().Add(2*time.Hour).Unix())
	if _, found, err := f.Find(context.Background(), later); err != nil || found || srv.Lists() != 1 {
		t.Errorf("tag made 2h after every batch: found %v, %v, after %d pages; want 1 page", found, err, srv.Lists())
	}
	if _, found, err := f.Find(context.Background(), "not-a-yardstick-tag"); err != nil || found || srv.Lists() != 1+3 {
		t.Errorf("a tag without a time: found %v, %v, after %d pages in all; want 1+3", found, err, srv.Lists())
	}
}

// TestBatchOutputLargerThanAnAnswer: an output file far larger than the
// target's response cap (which bounds one answer) is read whole: the Batch
// API's files go through the bulk bounds.
func TestBatchOutputLargerThanAnAnswer(t *testing.T) {
	srv := providertest.NewOpenAIBatchServer(t, func(req providertest.WireRequest) string {
		return echo(req) + " " + strings.Repeat("x", 1500)
	})
	c, err := openai.New(openai.Config{APIKey: "sk-test", BaseURL: srv.URL(), Bounds: providers.Bounds{MaxResponseBytes: 4 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	st := batchRoundTrip(t, c, 40, func(id string, resp *providers.Response, err error) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
			return
		}
		got = append(got, id)
	})
	if len(got) != 40 || srv.Count() != 0 {
		t.Errorf("%d of 40 lines read from batch %s, %d real-time requests", len(got), st.ID, srv.Count())
	}
}

// batchRoundTrip submits n lines through c's backend, waits for the batch
// and passes every result to fn.
func batchRoundTrip(t *testing.T, c *openai.Client, n int, fn func(string, *providers.Response, error)) batch.Status {
	t.Helper()
	ctx := context.Background()
	be := c.Batches()
	lines := make([]batch.Line, n)
	for i := range lines {
		lines[i] = batch.Line{CustomID: fmt.Sprintf("id-%d", i), Request: &providers.Request{Model: "gpt-4o-mini",
			Messages: []providers.Message{{Role: providers.RoleUser, Content: fmt.Sprintf("question %d", i)}}}}
	}
	id, err := be.Submit(ctx, "yardstick-test", lines)
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := be.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Done {
			if err := be.Results(ctx, st, fn); err != nil {
				t.Fatal(err)
			}
			return st
		}
		time.Sleep(time.Millisecond)
	}
}
