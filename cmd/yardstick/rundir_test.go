package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// A second `run --resume` into a run directory that is still being written
// is refused with exit 2 before any call, and the first run's results stay
// exactly one per unit.
func TestConcurrentWriterIsRefused(t *testing.T) {
	srv, env := fakeOpenAI(t)
	first, second := newCLI(t, env), newCLI(t, env)
	out := filepath.Join(first.dir, "run")
	srv.SetDefault(providertest.Behavior{Delay: 40 * time.Millisecond})

	done := make(chan int, 1)
	go func() {
		done <- first.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "-c", "1", "--out", out)
	}()
	for srv.Count() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	before := srv.Count()
	code := second.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--resume", "--out", out)
	if code != exitUsage || !strings.Contains(second.stderr.String(), "is in use") || !strings.Contains(second.stderr.String(), "pid ") {
		t.Errorf("second writer: exit %d, want %d naming the holder\n%s", code, exitUsage, second.stderr.String())
	}
	if code := <-done; code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, first.stderr.String())
	}
	// The refused run sent nothing: the first sent 10, one per case.
	if n := srv.Count(); n != 10 {
		t.Errorf("%d requests in all (%d before the second run), want 10", n, before)
	}
	f, err := os.Open(filepath.Join(out, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[bench.Key]bool{}
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[r.Key()] {
			t.Errorf("duplicate result for %v", r.Key())
		}
		seen[r.Key()] = true
	}
	if len(seen) != 10 {
		t.Errorf("%d results, want 10", len(seen))
	}
	if _, err := os.Stat(filepath.Join(out, "run.lock")); !os.IsNotExist(err) {
		t.Errorf("lock file left after the run: %v", err)
	}
	// Once the first run ended, resuming is allowed (and has nothing to do).
	if code := second.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--resume", "--out", out); code != exitOK {
		t.Errorf("resume after the first run ended: exit %d\n%s", code, second.stderr.String())
	}
}
