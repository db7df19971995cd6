package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// A server that echoes the Authorization header's key in its 401 body must
// not get the key into any file of the run directory, the cache or the
// output of run, report and providers check.
func TestEchoedKeyReachesNoOutput(t *testing.T) {
	srv, env := fakeOpenAI(t)
	srv.SetDefault(providertest.Behavior{EchoAuth: true})
	key := env["OPENAI_API_KEY"]
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	var output strings.Builder
	code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--out", out)
	output.WriteString(c.stdout.String() + c.stderr.String())
	if code == exitUsage {
		t.Fatalf("run: exit %d\n%s", code, output.String())
	}
	if srv.Count() == 0 || !strings.Contains(srv.Requests()[0].Header.Get("Authorization"), key) {
		t.Fatal("the fake did not receive the key, so it cannot echo it")
	}
	c.run(context.Background(), "report", out)
	output.WriteString(c.stdout.String() + c.stderr.String())
	c.run(context.Background(), "providers", "check", "-m", "openai:gpt-4o-mini")
	check := c.stdout.String() + c.stderr.String()
	output.WriteString(check)
	if !strings.Contains(check, redact.Mask) {
		t.Errorf("providers check does not show the (redacted) echo:\n%s", check)
	}
	// A gateway that echoes the request's headers into a 200 answer: the
	// answer is cached and reported, so it must be scrubbed too.
	srv.SetDefault(providertest.Behavior{})
	srv.SetResponder(func(r providertest.WireRequest) string { return "echo: " + r.Header.Get("Authorization") })
	code = c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--out", filepath.Join(c.dir, "run-200"))
	output.WriteString(c.stdout.String() + c.stderr.String())
	if code == exitUsage {
		t.Fatalf("run: exit %d\n%s", code, output.String())
	}
	if strings.Contains(output.String(), key) {
		t.Errorf("the key is in the command output:\n%s", output.String())
	}

	if data, _ := os.ReadFile(filepath.Join(c.dir, "run-200", resultsName)); !strings.Contains(string(data), "echo: Bearer "+redact.Mask) {
		t.Errorf("the 200 answers do not carry the redacted echo:\n%.400s", data)
	}
	files, masked := 0, false
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if n := strings.Count(string(data), key); n > 0 {
			t.Errorf("%s: %d copies of the key", path, n)
		}
		if filepath.Base(path) == resultsName && strings.Contains(string(data), redact.Mask) {
			masked = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d files written; the run did not produce its reports", files)
	}
	if !masked {
		t.Error("results.jsonl does not carry the redacted echo: the test did not exercise redaction")
	}
}
