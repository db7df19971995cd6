package main

import (
	"context"
	"encoding/json"
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

// After an outage, --resume keeps the errored cases and says how many;
// --retry-errors runs exactly those again, results.jsonl keeps both records,
// and the reports read the last one.
func TestRetryErrors(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	bad := providertest.Behavior{Status: 400, ErrorMessage: "outage"} // invalid_request: not retried
	srv.Script(bad, bad, bad)
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "-c", "1", "--no-thresholds", "--out", out); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, c.stderr.String())
	}
	failed := map[string]bool{}
	for _, r := range readAll(t, filepath.Join(out, resultsName)) {
		if r.Error != nil {
			failed[r.CaseID] = true
		}
	}
	if len(failed) != 3 {
		t.Fatalf("first run: %d errors, want 3", len(failed))
	}

	// --resume keeps them, and both the resume line and the progress line say so.
	before := srv.Count()
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--no-cache", "--resume", "--format", "none", "--out", out); code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, c.stderr.String())
	}
	for _, want := range []string{"10 results kept, 3 of them errors (--retry-errors runs them again)", "10 resumed (3 errors kept)"} {
		if !strings.Contains(c.stderr.String(), want) {
			t.Errorf("resume output lacks %q:\n%s", want, c.stderr.String())
		}
	}
	if srv.Count() != before {
		t.Errorf("resume sent %d requests, want 0", srv.Count()-before)
	}

	// --retry-errors (implying --resume) asks for exactly the three again.
	before = srv.Count()
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--no-cache", "--retry-errors", "--format", "none", "--out", out); code != exitOK {
		t.Fatalf("retry-errors: exit %d\n%s", code, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "running again the 3 whose last record is an error") {
		t.Errorf("retry line missing:\n%s", c.stderr.String())
	}
	asked := map[string]int{}
	for _, r := range srv.Requests()[before:] {
		asked[caseOf(r)]++
	}
	if len(asked) != 3 {
		t.Errorf("retry asked for %v, want the 3 failed cases %v", asked, failed)
	}
	for id, n := range asked {
		if !failed[id] || n != 1 {
			t.Errorf("case %s asked %d times (failed before: %v)", id, n, failed[id])
		}
	}
	all := readAll(t, filepath.Join(out, resultsName))
	if len(all) != 13 {
		t.Errorf("results.jsonl holds %d records, want 13 (history kept)", len(all))
	}
	m, err := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
	if err != nil || m.Resumed == nil || m.Resumed.Errors != 3 || !m.Resumed.RetryErrors {
		t.Errorf("manifest resume record %+v (%v), want 3 errors retried", m.Resumed, err)
	}
	var sum struct {
		Summaries []struct {
			N      int `json:"n"`
			Passed int `json:"passed"`
			Errors int `json:"errors"`
		} `json:"summaries"`
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil || len(sum.Summaries) != 1 {
		t.Fatalf("summary.json: %v\n%s", err, data)
	}
	if s := sum.Summaries[0]; s.N != 10 || s.Errors != 0 {
		t.Errorf("summary after the retry: n=%d errors=%d, want n=10 errors=0 (the last record of each key)", s.N, s.Errors)
	}
	// A second --retry-errors has nothing left to do.
	before = srv.Count()
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--retry-errors", "--format", "none", "--out", out); code != exitOK || srv.Count() != before {
		t.Errorf("second retry: exit %d, %d requests\n%s", code, srv.Count()-before, c.stderr.String())
	}
}

func readAll(t *testing.T, path string) []*bench.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all []*bench.Result
	for r, err := range bench.ReadResults(f, path) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	return all
}

// A suite whose dataset escapes its folder and the working directory is
// refused with exit 2 before any call, unless --allow-outside-paths.
func TestOutsidePathsRefused(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	secret := filepath.Join(c.dir, "secret.jsonl") // outside the working directory (the package folder)
	writeFile(t, secret, `{"id": "k", "country": "France", "expected": "Paris"}`+"\n")
	suite := filepath.Join(c.dir, "suites", "evil.yaml")
	os.MkdirAll(filepath.Dir(suite), 0o755)
	writeFile(t, suite, "name: evil\nprompt: {user: \"What is the capital of {{.country}}?\"}\ncases: {file: ../secret.jsonl}\n")
	code := c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--out", filepath.Join(c.dir, "r1"))
	if code != exitUsage || !strings.Contains(c.stderr.String(), "evil.yaml:3: cases.file: path \"../secret.jsonl\" resolves to") || srv.Count() != 0 {
		t.Fatalf("escaping dataset: exit %d, %d requests\n%s", code, srv.Count(), c.stderr.String())
	}
	if code := c.run(context.Background(), "suites", "validate", suite); code != exitUsage {
		t.Errorf("suites validate: exit %d, want %d", code, exitUsage)
	}
	code = c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--no-thresholds", "--allow-outside-paths", "--out", filepath.Join(c.dir, "r2"))
	if code != exitOK || srv.Count() != 1 {
		t.Errorf("--allow-outside-paths: exit %d, %d requests\n%s", code, srv.Count(), c.stderr.String())
	}
}
