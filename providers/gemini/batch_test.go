package gemini_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/batch"
	"github.com/yardstick-eval/yardstick/providers/gemini"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

type idKey struct{}

func echo(req providertest.WireRequest) string { return "re: " + req.Prompt() }

func newBatchClient(tb testing.TB, srv *providertest.GeminiBatchServer, inline int64) *gemini.Client {
	tb.Helper()
	c, err := gemini.New(context.Background(), gemini.Config{APIKey: "test-key", BaseURL: srv.URL(), HTTPClient: srv.Client(), BatchInline: inline})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// newGeminiBatch returns the batch decorator over a Gemini client of srv,
// and the statuses it polled.
func newGeminiBatch(tb testing.TB, srv *providertest.GeminiBatchServer, inline int64) (*batch.Provider, *statuses) {
	c := newBatchClient(tb, srv, inline)
	seen := &statuses{}
	p, err := batch.New(batch.Options{Backend: c.Batches(), Fallback: c, Name: "gemini:" + model,
		State: filepath.Join(tb.TempDir(), "batches.jsonl"), Idle: 5 * time.Millisecond, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond,
		ID:       func(ctx context.Context) (string, bool) { id, ok := ctx.Value(idKey{}).(string); return id, ok },
		OnStatus: seen.add})
	if err != nil {
		tb.Fatal(err)
	}
	return p, seen
}

type statuses struct {
	mu   sync.Mutex
	list []batch.Status
}

func (s *statuses) add(_ string, st batch.Status) {
	s.mu.Lock()
	s.list = append(s.list, st)
	s.mu.Unlock()
}

func (s *statuses) last() batch.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) == 0 {
		return batch.Status{}
	}
	return s.list[len(s.list)-1]
}

// sendAll sends n requests at once through p, each with its own custom id
// "id-i", and checks every answer is its own.
func sendAll(tb testing.TB, p providers.Provider, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := fmt.Sprintf("question %d", i)
			ctx := context.WithValue(context.Background(), idKey{}, fmt.Sprintf("id-%d", i))
			resp, err := p.Generate(ctx, req(q))
			switch {
			case err != nil:
				errs <- err
			case resp.Text != "re: "+q:
				errs <- fmt.Errorf("line %d answered %q", i, resp.Text)
			case resp.Usage.InputTokens == 0 || resp.Usage.OutputTokens == 0 || resp.FinishReason != "stop" || resp.Model != model:
				errs <- fmt.Errorf("line %d: usage %+v, finish %q, model %q", i, resp.Usage, resp.FinishReason, resp.Model)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Error(err)
	}
}

// TestBatchFile: concurrent calls become one batch read from an uploaded
// JSONL file; the output file comes back in reverse order and every line is
// mapped back by its key; nothing goes real time.
func TestBatchFile(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	srv.SetMode(providertest.GeminiBatchMode{Reverse: true})
	p, seen := newGeminiBatch(t, srv, 0)
	sendAll(t, p, 40)
	if srv.Created() != 1 || srv.Uploads() != 1 || srv.Count() != 0 || p.Submitted() != 1 {
		t.Errorf("%d batches, %d uploads, %d real-time requests; want 1, 1, 0", srv.Created(), srv.Uploads(), srv.Count())
	}
	if srv.Inline("batches/1") {
		t.Error("the batch was sent inline, want a file")
	}
	st := seen.last()
	if st.State != "JOB_STATE_SUCCEEDED" || !st.Done || st.Total != 40 || st.Completed != 40 || st.Failed != 0 {
		t.Errorf("last status %+v", st)
	}
}

// TestBatchInline: a small batch goes inline; its responses, reversed, are
// mapped by their metadata key. When the API drops the metadata, no
// response is mapped by position: every line goes real time, each still
// answered with its own text.
func TestBatchInline(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	srv.SetMode(providertest.GeminiBatchMode{Reverse: true})
	p, _ := newGeminiBatch(t, srv, 1<<20)
	sendAll(t, p, 12)
	if srv.Created() != 1 || srv.Uploads() != 0 || srv.Count() != 0 || !srv.Inline("batches/1") {
		t.Errorf("%d batches, %d uploads, %d real-time requests, inline %v; want 1, 0, 0, true", srv.Created(), srv.Uploads(), srv.Count(), srv.Inline("batches/1"))
	}

	srv.SetMode(providertest.GeminiBatchMode{Reverse: true, DropMetadata: true})
	p, _ = newGeminiBatch(t, srv, 1<<20)
	sendAll(t, p, 12)
	if srv.Created() != 2 || srv.Count() != 12 {
		t.Errorf("without metadata: %d batches, %d real-time requests; want 2 and 12", srv.Created(), srv.Count())
	}
}

// TestBatchInlineLimit: lines over Config.BatchInline bytes go up as a file.
func TestBatchInlineLimit(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	p, _ := newGeminiBatch(t, srv, 2000)
	sendAll(t, p, 50) // ~100 bytes a line
	if srv.Created() != 1 || srv.Uploads() != 1 || srv.Inline("batches/1") {
		t.Errorf("%d batches, %d uploads, inline %v; want a file batch", srv.Created(), srv.Uploads(), srv.Inline("batches/1"))
	}
}

// TestBatchExpiredPartly: a batch that expires with 6 of its 10 lines done
// keeps those; the other 4 go through the real-time path.
func TestBatchExpiredPartly(t *testing.T) {
	for _, inline := range []int64{0, 1 << 20} {
		srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
		srv.SetMode(providertest.GeminiBatchMode{Expire: true, ExpireDone: 6, Reverse: true})
		p, seen := newGeminiBatch(t, srv, inline)
		sendAll(t, p, 10)
		if srv.Created() != 1 || srv.Count() != 4 {
			t.Errorf("inline %d: %d batches, %d real-time requests; want 1 and 4", inline, srv.Created(), srv.Count())
		}
		if st := seen.last(); st.State != "JOB_STATE_EXPIRED" || !st.Done || st.Completed != 6 || st.Total != 10 {
			t.Errorf("inline %d: last status %+v", inline, st)
		}
	}
}

// TestBatchFailed: a batch that fails as a whole leaves every line to the
// real-time path, and its status says why.
func TestBatchFailed(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	srv.SetMode(providertest.GeminiBatchMode{Fail: "quota exceeded for batch jobs"})
	p, seen := newGeminiBatch(t, srv, 0)
	sendAll(t, p, 5)
	if srv.Count() != 5 {
		t.Errorf("%d real-time requests, want 5", srv.Count())
	}
	if st := seen.last(); st.State != "JOB_STATE_FAILED (quota exceeded for batch jobs)" || !st.Done {
		t.Errorf("last status %+v", st)
	}
}

// TestBatchLineErrors: lines with an error in the output are reported as
// classified errors under their keys, and retried in real time.
func TestBatchLineErrors(t *testing.T) {
	for _, inline := range []int64{0, 1 << 20} {
		srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
		srv.SetMode(providertest.GeminiBatchMode{FailEvery: 3, Reverse: true})
		c := newBatchClient(t, srv, inline)
		b := c.Batches()
		lines := make([]batch.Line, 7)
		for i := range lines {
			lines[i] = batch.Line{CustomID: fmt.Sprintf("k%d", i), Request: req(fmt.Sprintf("q%d", i))}
		}
		ctx := context.Background()
		id, err := b.Submit(ctx, "tag-1", lines)
		if err != nil {
			t.Fatal(err)
		}
		var st batch.Status
		for !st.Done {
			if st, err = b.Status(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if st.Total != 7 || st.Completed != 5 || st.Failed != 2 {
			t.Errorf("inline %d: status %+v", inline, st)
		}
		got := map[string]string{}
		err = b.Results(ctx, st, func(key string, resp *providers.Response, lineErr error) {
			if _, dup := got[key]; dup {
				t.Errorf("key %s twice", key)
			}
			switch {
			case lineErr != nil:
				var pe *providers.Error
				if !errors.As(lineErr, &pe) || pe.Kind != providers.KindUnavailable || pe.StatusCode != 500 || pe.Provider != "gemini" {
					t.Errorf("inline %d: %s: line error %#v", inline, key, lineErr)
				}
				got[key] = "error"
			default:
				got[key] = resp.Text
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"k0": "re: q0", "k1": "re: q1", "k2": "error", "k3": "re: q3", "k4": "re: q4", "k5": "error", "k6": "re: q6"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("inline %d: results %v, want %v", inline, got, want)
		}
	}
	// Through the decorator, the two failed lines go real time.
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	srv.SetMode(providertest.GeminiBatchMode{FailEvery: 3})
	p, _ := newGeminiBatch(t, srv, 0)
	sendAll(t, p, 7)
	if srv.Count() != 2 {
		t.Errorf("%d real-time retries, want 2", srv.Count())
	}
}

// TestBatchFind: Find pages through the batch list (two a page, newest
// first) to the batch whose display name is the tag.
func TestBatchFind(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	c := newBatchClient(t, srv, 0)
	f, ok := c.Batches().(batch.Finder)
	if !ok {
		t.Fatal("the Gemini backend is not a batch.Finder")
	}
	ctx := context.Background()
	ids := map[string]string{}
	for i := range 5 {
		tag := fmt.Sprintf("yardstick-tag-%d", i)
		id, err := c.Batches().Submit(ctx, tag, []batch.Line{{CustomID: "a", Request: req("x")}})
		if err != nil {
			t.Fatal(err)
		}
		ids[tag] = id
	}
	before := srv.Lists()
	id, found, err := f.Find(ctx, "yardstick-tag-0") // the oldest: on the third page
	if err != nil || !found || id != ids["yardstick-tag-0"] {
		t.Errorf("Find(oldest) = %q, %v, %v; want %q", id, found, err, ids["yardstick-tag-0"])
	}
	if n := srv.Lists() - before; n != 3 {
		t.Errorf("Find read %d pages, want 3", n)
	}
	if id, found, err := f.Find(ctx, "yardstick-tag-3"); err != nil || !found || id != ids["yardstick-tag-3"] {
		t.Errorf("Find(tag-3) = %q, %v, %v", id, found, err)
	}
	if id, found, err := f.Find(ctx, "yardstick-never"); err != nil || found || id != "" {
		t.Errorf("Find(unknown) = %q, %v, %v; want not found", id, found, err)
	}
	bad, err := gemini.New(ctx, gemini.Config{APIKey: "wrong", BaseURL: srv.URL(), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bad.Batches().(batch.Finder).Find(ctx, "x"); providers.KindOf(err) != providers.KindAuth {
		t.Errorf("Find with a bad key: %v, want an auth error", err)
	}
}

// TestBatchTransientFailures: 503s on the upload, the create, the polls and
// the download are retried (each call is idempotent, or the create was
// refused), and a create whose answer was lost is found by its tag, not
// made twice: one batch, no line sent in real time.
func TestBatchTransientFailures(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	srv.SetMode(providertest.GeminiBatchMode{Unavailable: 2})
	p, _ := newGeminiBatch(t, srv, 0)
	sendAll(t, p, 5)
	if srv.Created() != 1 || srv.Count() != 0 {
		t.Errorf("after 503s: %d batches, %d real-time requests; want 1 and 0", srv.Created(), srv.Count())
	}

	srv = providertest.NewGeminiBatchServer(t, "test-key", echo)
	c := newBatchClient(t, srv, 0)
	ctx := context.Background()
	srv.SetMode(providertest.GeminiBatchMode{DropCreate: 1})
	id, err := c.Batches().Submit(ctx, "tag-lost", []batch.Line{{CustomID: "a", Request: req("x")}})
	if err != nil || id != "batches/2" || srv.Created() != 1 || srv.Lists() == 0 {
		t.Errorf("lost create answer: %q, %v; %d batches, %d list pages; want batches/2, one batch, found by listing", id, err, srv.Created(), srv.Lists())
	}
	// Each call gives up after four attempts.
	srv.SetMode(providertest.GeminiBatchMode{Unavailable: 4})
	if _, err := c.Batches().Status(ctx, id); providers.KindOf(err) != providers.KindUnavailable {
		t.Errorf("four 503s: %v, want unavailable", err)
	}
	if st, err := c.Batches().Status(ctx, id); err != nil || st.ID != id {
		t.Errorf("after the outage: %+v, %v", st, err)
	}
}

// TestBatchLinesAreRealTimeRequests: a batch line carries what the
// real-time request carries (temperature 0, top-p, seed, max tokens, stop
// sequences, system instruction, JSON schema, an image), byte for byte.
func TestBatchLinesAreRealTimeRequests(t *testing.T) {
	full := &providers.Request{
		Model:  model,
		System: "Answer in one word.",
		Messages: []providers.Message{
			{Role: providers.RoleUser, Content: "What is drawn?", Images: []providers.Image{{MIMEType: "image/png", Data: providertest.PNG(3, 3)}}},
			{Role: providers.RoleAssistant, Content: "A square."},
			{Role: providers.RoleUser, Content: "And its colour?"},
		},
		Temperature: providers.Float64(0), TopP: providers.Float64(0.5), Seed: providers.Int64(7), MaxTokens: 32, Stop: []string{"END"},
		JSONSchema: json.RawMessage(`{"type":"object","properties":{"colour":{"type":"string"}}}`),
	}
	for _, inline := range []int64{0, 1 << 20} {
		srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
		c := newBatchClient(t, srv, inline)
		if _, err := c.Generate(context.Background(), full); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Batches().Submit(context.Background(), "t", []batch.Line{{CustomID: "only", Request: full}}); err != nil {
			t.Fatal(err)
		}
		rt, bl := srv.Requests()[0], srv.Lines()[0]
		var a, b map[string]any
		json.Unmarshal(rt.Body, &a)
		json.Unmarshal(bl.Body, &b)
		delete(b, "model") // the batch line names its model; the real-time path has it in the URL
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("inline %d: batch line\n%s\nreal-time request\n%s", inline, jb, ja)
		}
		if bl.Temperature == nil || *bl.Temperature != 0 || bl.MaxTokens == nil || *bl.MaxTokens != 32 || len(bl.Messages[1].Images) != 1 || len(bl.JSONSchema) == 0 {
			t.Errorf("inline %d: decoded line %+v", inline, bl)
		}
	}
}

// TestBatchLargeUpload: an input file over genai's 8 MiB upload chunk goes
// up in several chunks of the resumable protocol, and comes back whole.
func TestBatchLargeUpload(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	c := newBatchClient(t, srv, 1<<20)
	lines := make([]batch.Line, 2)
	for i := range lines {
		img := bytes.Repeat([]byte{byte(i + 1)}, 31<<17) // 3.875 MiB, over 5 MiB of base64 each
		lines[i] = batch.Line{CustomID: fmt.Sprint(i), Request: &providers.Request{Model: model, Messages: []providers.Message{
			{Role: providers.RoleUser, Content: "describe", Images: []providers.Image{{MIMEType: "image/png", Data: img}}}}}}
	}
	if _, err := c.Batches().Submit(context.Background(), "big", lines); err != nil {
		t.Fatal(err)
	}
	if srv.Uploads() != 1 || srv.Chunks() != 2 {
		t.Errorf("%d uploads in %d chunks, want 1 in 2", srv.Uploads(), srv.Chunks())
	}
	for i, l := range srv.Lines() {
		if im := l.Messages[0].Images; len(im) != 1 || len(im[0].Data) != 31<<17 || im[0].Data[0] != byte(i+1) {
			t.Errorf("line %d: image lost on the way", i)
		}
	}
}

// TestBatchRefusals: a line the real-time path refuses, or one for another
// model, is left out of the batch (the decorator sends it the normal way);
// a batch with no line left is refused before anything is sent.
func TestBatchRefusals(t *testing.T) {
	srv := providertest.NewGeminiBatchServer(t, "test-key", echo)
	c := newBatchClient(t, srv, 0)
	ctx := context.Background()
	empty := &providers.Request{Model: model}
	_, err := c.Batches().Submit(ctx, "t", []batch.Line{{CustomID: "a", Request: empty}})
	if providers.KindOf(err) != providers.KindInvalidRequest || srv.Created() != 0 || srv.Uploads() != 0 {
		t.Errorf("no valid line: %v; %d batches, %d uploads", err, srv.Created(), srv.Uploads())
	}
	other := req("y")
	other.Model = "gemini-2.5-pro"
	seed := req("z")
	seed.Seed = providers.Int64(1 << 40)
	id, err := c.Batches().Submit(ctx, "t", []batch.Line{{CustomID: "a", Request: empty}, {CustomID: "b", Request: req("x")}, {CustomID: "c", Request: other}, {CustomID: "d", Request: seed}})
	if err != nil || srv.Created() != 1 || len(srv.Lines()) != 1 || srv.Lines()[0].Prompt() != "x" {
		t.Fatalf("mixed lines: %q, %v; %d batches, lines %+v", id, err, srv.Created(), srv.Lines())
	}
	if _, err := c.Batches().Status(ctx, "batches/404"); providers.KindOf(err) != providers.KindNotFound {
		t.Errorf("status of an unknown batch: %v, want not_found", err)
	}
	// Through the decorator: the refused lines fail as in real time, the
	// other model's line is answered in real time, nothing is lost.
	srv2 := providertest.NewGeminiBatchServer(t, "test-key", echo)
	p, _ := newGeminiBatch(t, srv2, 0)
	var wg sync.WaitGroup
	got := make([]error, 3)
	texts := make([]string, 3)
	for i, r := range []*providers.Request{req("x"), other, seed} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := p.Generate(context.WithValue(ctx, idKey{}, fmt.Sprint(i)), r)
			got[i] = err
			if resp != nil {
				texts[i] = resp.Text
			}
		}()
	}
	wg.Wait()
	if got[0] != nil || texts[0] != "re: x" || got[1] != nil || texts[1] != "re: y" || providers.KindOf(got[2]) != providers.KindInvalidRequest {
		t.Errorf("answers %q, errors %v", texts, got)
	}
	if srv2.Created() != 1 || srv2.Count() != 1 {
		t.Errorf("%d batches, %d real-time requests; want 1 and 1", srv2.Created(), srv2.Count())
	}
}

func TestBatchesVertex(t *testing.T) {
	c, _ := newVertex(t)
	if c.Batches() != nil {
		t.Error("Vertex AI has a Batch Mode backend; want nil (batch prediction reads Cloud Storage or BigQuery)")
	}
}

// BenchmarkBatch10k is the batch path's overhead for 10,000 lines against
// the wire fake (encode, upload, create, poll, download, map back), next to
// BenchmarkRealtime10k, the same lines as real-time requests.
//
//	go test -run '^$' -bench 10k ./providers/gemini/
func BenchmarkBatch10k(b *testing.B) {
	srv := providertest.NewGeminiBatchServer(b, "test-key", echo)
	for b.Loop() {
		p, _ := newGeminiBatch(b, srv, 0)
		sendAll(b, p, 10000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/line")
}

func BenchmarkRealtime10k(b *testing.B) {
	srv := providertest.NewGeminiBatchServer(b, "test-key", echo)
	lim := providers.Limit(newBatchClient(b, srv, 0), providers.LimitConfig{Name: "gemini", Concurrency: 64})
	for b.Loop() {
		sendAll(b, lim, 10000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/line")
}
