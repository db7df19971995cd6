package main

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func batchCLI(t *testing.T, mode providertest.BatchMode) (*providertest.OpenAIBatchServer, *cli) {
	srv := providertest.NewOpenAIBatchServer(t, capitalResponder)
	srv.SetMode(mode)
	return srv, newCLI(t, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()})
}

// batchArgs runs tiny.yaml with --batch. --batch-poll 50ms also makes the
// queue wait 50ms for more calls, so the ten lines go in one batch even on
// a loaded machine.
func batchArgs(out string, more ...string) []string {
	return append([]string{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--no-cache", "--batch", "--batch-poll", "50ms", "--format", "none", "--out", out}, more...)
}

// readRun returns the run's results by key.
func readRun(t *testing.T, out string) map[bench.Key]*bench.Result {
	t.Helper()
	f, err := os.Open(filepath.Join(out, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[bench.Key]*bench.Result{}
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		if got[r.Key()] != nil {
			t.Errorf("key %v written twice", r.Key())
		}
		got[r.Key()] = r
	}
	return got
}

// TestBatchRun: one batch for the whole run, lines mapped back by custom id
// although the output file is out of order, error-file lines retried in real
// time, every answer scored as in a real-time run, costs at half price.
func TestBatchRun(t *testing.T) {
	srv, c := batchCLI(t, providertest.BatchMode{Shuffle: true, FailEvery: 4})
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), batchArgs(out)...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != 1 {
		t.Errorf("%d batches created, want 1", srv.Created())
	}
	if n := srv.Count(); n != 2 { // lines 4 and 8 of 10 failed in the batch
		t.Errorf("%d real-time retries, want 2", n)
	}
	got := readRun(t, out)
	if len(got) != 10 {
		t.Fatalf("%d results, want 10", len(got))
	}
	for k, r := range got {
		if r.Error != nil {
			t.Errorf("%v: %v", k, r.Error)
		}
		if r.Pass != (r.Output == r.Expected) {
			t.Errorf("%v: output %q scored pass=%v", k, r.Output, r.Pass)
		}
	}
	if !strings.Contains(c.stderr.String(), "completed, 8 of 10 done, 2 failed") {
		t.Errorf("progress does not show the batch state:\n%s", c.stderr.String())
	}
	// Half price: the same run in real time costs twice as much.
	rt := newCLI(t, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()})
	rtOut := filepath.Join(rt.dir, "rt")
	if code := rt.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--no-cache", "--format", "none", "-q", "--out", rtOut); code != exitOK {
		t.Fatalf("real-time run: exit %d\n%s", code, rt.stderr.String())
	}
	rtRes := readRun(t, rtOut)
	for k, r := range got {
		if r.CostUSD == nil || rtRes[k].CostUSD == nil {
			t.Fatalf("%v: no cost", k)
		}
		if d := *rtRes[k].CostUSD - 2**r.CostUSD; d > 1e-12 || d < -1e-12 {
			t.Errorf("%v: batch cost %g, real-time %g: want half", k, *r.CostUSD, *rtRes[k].CostUSD)
		}
	}
	m, _ := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
	if m == nil || m.Targets[0].Price == nil || m.Targets[0].Price.InputPerM != 0.075 {
		t.Errorf("manifest does not record the batch price: %+v", m.Targets[0].Price)
	}
}

// TestBatchExpiredPartly: a batch that expires with part of its lines done
// keeps those, and the rest go through the normal path.
func TestBatchExpiredPartly(t *testing.T) {
	srv, c := batchCLI(t, providertest.BatchMode{Expire: true, ExpireDone: 6})
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), batchArgs(out)...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != 1 || srv.Count() != 4 {
		t.Errorf("%d batches, %d real-time requests; want 1 and 4", srv.Created(), srv.Count())
	}
	if got := readRun(t, out); len(got) != 10 {
		t.Errorf("%d results, want 10", len(got))
	}
	if !strings.Contains(c.stderr.String(), "expired, 6 of 10 done") {
		t.Errorf("progress does not show the expiry:\n%s", c.stderr.String())
	}
}

// TestBatchInterruptedThenResumed: a run killed after its batch was
// submitted, then resumed, re-attaches to that batch: no second submission
// (counted on the fake), no real-time request, no line lost.
func TestBatchInterruptedThenResumed(t *testing.T) {
	srv, c := batchCLI(t, providertest.BatchMode{Hold: true})
	out := filepath.Join(c.dir, "run")
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	go func() {
		for srv.Created() == 0 || srv.Polls() < 3 {
			time.Sleep(2 * time.Millisecond)
		}
		once.Do(cancel)
	}()
	code := c.run(ctx, batchArgs(out)...)
	once.Do(cancel)
	if code != exitInterrupted {
		t.Fatalf("interrupted run: exit %d, want %d\n%s", code, exitInterrupted, c.stderr.String())
	}
	if st, err := os.Stat(filepath.Join(out, "batches.jsonl")); err != nil || st.Size() == 0 {
		t.Fatalf("no batch state recorded: %v", err)
	}
	srv.Release()
	if code := c.run(context.Background(), batchArgs(out, "--resume")...); code != exitOK {
		t.Fatalf("resumed run: exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != 1 {
		t.Errorf("%d batches created, want 1: the resumed run submitted again", srv.Created())
	}
	if srv.Count() != 0 {
		t.Errorf("%d real-time requests, want 0", srv.Count())
	}
	if !strings.Contains(c.stderr.String(), "re-attaching to 1 submitted batch") {
		t.Errorf("resume does not say it re-attached:\n%s", c.stderr.String())
	}
	if got := readRun(t, out); len(got) != 10 {
		t.Errorf("%d results after resume, want 10", len(got))
	}
}

func TestBatchRefusesBudget(t *testing.T) {
	_, c := batchCLI(t, providertest.BatchMode{})
	if code := c.run(context.Background(), batchArgs(filepath.Join(c.dir, "run"), "--budget", "1")...); code != exitUsage || !strings.Contains(c.stderr.String(), "--budget cannot bound a --batch run") {
		t.Errorf("--batch --budget: exit %d\n%s", code, c.stderr.String())
	}
}

// TestBatchKilledBetweenCreateAndRecord: the run is interrupted while the
// provider's reply to the batch creation is on its way, so no batch id is
// recorded; the resumed run finds the batch by its tag and re-attaches:
// one batch created in all, no real-time request, every line kept.
func TestBatchKilledBetweenCreateAndRecord(t *testing.T) {
	srv, c := batchCLI(t, providertest.BatchMode{})
	out := filepath.Join(c.dir, "run")
	ctx, cancel := context.WithCancel(context.Background())
	srv.OnCreate(func() {
		cancel()
		time.Sleep(20 * time.Millisecond) // the client gives up before the reply
	})
	if code := c.run(ctx, batchArgs(out)...); code != exitInterrupted {
		t.Fatalf("interrupted run: exit %d, want %d\n%s", code, exitInterrupted, c.stderr.String())
	}
	srv.OnCreate(nil)
	state, _ := os.ReadFile(filepath.Join(out, "batches.jsonl"))
	if srv.Created() != 1 || strings.Contains(string(state), "batch_id") {
		t.Fatalf("%d batches created, state %s; want 1 and a pending record alone", srv.Created(), state)
	}
	if code := c.run(context.Background(), batchArgs(out, "--resume")...); code != exitOK {
		t.Fatalf("resumed run: exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != 1 || srv.Count() != 0 {
		t.Errorf("%d batches created, %d real-time requests; want 1 and 0", srv.Created(), srv.Count())
	}
	if !strings.Contains(c.stderr.String(), "1 submission(s) of the interrupted run have no recorded batch id") {
		t.Errorf("resume does not say it looks the submission up:\n%s", c.stderr.String())
	}
	if got := readRun(t, out); len(got) != 10 {
		t.Errorf("%d results after resume, want 10", len(got))
	}
}

// TestBatchBehindTheCache: with the response cache on, a --batch run's
// answers are stored, and a second --batch run is answered from the cache:
// no submission, no real-time request.
func TestBatchBehindTheCache(t *testing.T) {
	srv, c := batchCLI(t, providertest.BatchMode{})
	args := func(out string) []string {
		return []string{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--batch", "--batch-poll", "50ms", "--format", "none", "--out", filepath.Join(c.dir, out)}
	}
	if code := c.run(context.Background(), args("first")...); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() == 0 || !strings.Contains(c.stderr.String(), "cache: 0 hits, 10 misses") {
		t.Fatalf("first run: %d batches\n%s", srv.Created(), c.stderr.String())
	}
	created := srv.Created()
	if code := c.run(context.Background(), args("second")...); code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() != created || srv.Count() != 0 {
		t.Errorf("second run: %d batches created, %d real-time requests; want 0 and 0", srv.Created()-created, srv.Count())
	}
	if !strings.Contains(c.stderr.String(), "cache: 10 hits, 0 misses") {
		t.Errorf("second run not answered from the cache:\n%s", c.stderr.String())
	}
	if got := readRun(t, filepath.Join(c.dir, "second")); len(got) != 10 {
		t.Errorf("%d results, want 10", len(got))
	}
}

// TestBatchAzure: --batch on an Azure target goes through Azure's batch
// API (the fake demands api-key and api-version, /openai/files and
// /openai/batches, lines naming a Global-Batch deployment), the deployment
// named by options.batch_deployment while real-time calls keep theirs.
func TestBatchAzure(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{} // "line" or the real-time deployment → requests
	srv := providertest.NewAzureBatchServer(t, func(r providertest.WireRequest) string {
		mu.Lock()
		defer mu.Unlock()
		seen[cmp.Or(r.Deployment, "line "+r.Model)]++
		return capitalResponder(r)
	}, "az-key", "mini-batch")
	srv.SetMode(providertest.BatchMode{FailEvery: 5}) // two lines retried in real time
	c := newCLI(t, map[string]string{"AZURE_OPENAI_API_KEY": "az-key", "AZURE_OPENAI_ENDPOINT": srv.Endpoint()})
	conf := filepath.Join(c.dir, "yardstick.yaml")
	writeFile(t, conf, "providers:\n  - name: az\n    type: azure\n    model: gpt-4o-mini\n    deployment: mini\n    options: {batch_deployment: mini-batch}\n")
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), "--config", conf, "run", "testdata/tiny.yaml", "-m", "az", "--no-cache", "--batch", "--batch-poll", "50ms", "--format", "none", "--out", out); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Created() == 0 || srv.Count() != 2 || seen["mini"] != 2 || seen["line mini-batch"] != 8 {
		t.Errorf("%d batches, %d real-time requests, answered %v; want 8 batch lines for mini-batch, 2 real-time on mini\n%s", srv.Created(), srv.Count(), seen, c.stderr.String())
	}
	got := readRun(t, out)
	if len(got) != 10 {
		t.Fatalf("%d results, want 10", len(got))
	}
	for k, r := range got {
		if r.Error != nil {
			t.Errorf("%v: %v", k, r.Error)
		}
	}
}
