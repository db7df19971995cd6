package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// A 2 MB rendered prompt is refused before any call, naming the case; the
// cap is a flag and an app config setting.
func TestPromptSizeCap(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	suite := filepath.Join(c.dir, "big.yaml")
	writeFile(t, suite, "name: big\nprompt: {user: \"Summarise: {{.text}}\"}\ncases: {file: d.jsonl}\n")
	writeFile(t, filepath.Join(c.dir, "d.jsonl"), `{"id": "small", "text": "hi"}`+"\n"+`{"id": "huge", "text": "`+strings.Repeat("x", 2<<20)+`"}`+"\n")

	code := c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--out", filepath.Join(c.dir, "r1"))
	want := `d.jsonl:2: case "huge": prompt: rendered prompt is 2097163 bytes, over the 1048576-byte limit`
	if code != exitUsage || !strings.Contains(c.stderr.String(), want) || srv.Count() != 0 {
		t.Fatalf("2 MB prompt: exit %d, %d requests\n%s\nwant %q", code, srv.Count(), c.stderr.String(), want)
	}
	if code := c.run(context.Background(), "suites", "validate", suite); code != exitUsage || !strings.Contains(c.stderr.String(), want) {
		t.Errorf("suites validate: exit %d\n%s", code, c.stderr.String())
	}
	// Raised by the flag: runs.
	code = c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--no-thresholds", "--max-prompt-bytes", "20000000", "--out", filepath.Join(c.dir, "r2"))
	if code != exitOK || srv.Count() != 2 {
		t.Errorf("--max-prompt-bytes 20000000: exit %d, %d requests\n%s", code, srv.Count(), c.stderr.String())
	}
	// Lowered by the app config: even the small case is over 5 bytes.
	cfg := filepath.Join(c.dir, "yardstick.yaml")
	writeFile(t, cfg, "run:\n  max_prompt_bytes: 5\n")
	if code := c.run(context.Background(), "--config", cfg, "suites", "validate", suite); code != exitUsage || !strings.Contains(c.stderr.String(), `case "small": prompt: rendered prompt is 13 bytes, over the 5-byte limit`) {
		t.Errorf("run.max_prompt_bytes: 5: exit %d\n%s", code, c.stderr.String())
	}
}

// A server's error text and model name reach the terminal without escape
// sequences or bidi controls.
func TestTerminalOutputIsNeutralised(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	srv.SetDefault(providertest.Behavior{Status: 400, ErrorMessage: "bad \x1b[2J\x1b[31mrequest \u202eevil"})
	c.run(context.Background(), "providers", "check", "-m", "openai:gpt-4o-mini")
	out := c.stdout.String() + c.stderr.String()
	if !strings.Contains(out, "request") {
		t.Fatalf("the server's message is not shown:\n%s", out)
	}
	for _, bad := range []string{"\x1b", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q reached the terminal:\n%q", bad, out)
		}
	}
}
