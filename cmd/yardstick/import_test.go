package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func supportResponder(req providertest.WireRequest) string {
	if strings.Contains(req.Messages[0].Content, "GRADE") {
		return "It apologises and offers to resend.\nGRADE: PASS"
	}
	last := req.Messages[len(req.Messages)-1].Content
	switch {
	case strings.Contains(last, "refund"):
		return "Yes, you can get a refund within 14 days."
	case strings.Contains(last, "Customer: Hello"):
		return "Hello! How can I help?"
	case strings.Contains(last, "Hi there"):
		return "Hi! How can I help?" // fails starts-with Hello
	case strings.Contains(last, "JSON"):
		return `{"order": 42}`
	case strings.Contains(last, "angry"):
		return "We apologise that your parcel is late; we will resend it today."
	}
	return "?"
}

// TestImportPromptfoo imports a promptfoo config with 16 assertion types,
// validates the suite written and runs it against the OpenAI fake.
func TestImportPromptfoo(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	srv.SetResponder(supportResponder)
	c := newCLI(t, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()})
	dir := filepath.Join(c.dir, "imported")
	if code := c.run(context.Background(), "import", "promptfoo", "testdata/promptfoo/promptfooconfig.yaml", "-o", dir); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, c.stdout.String(), c.stderr.String())
	}
	out := c.stdout.String()
	for _, want := range []string{
		"wrote " + filepath.Join(dir, "support-replies.yaml") + " (5 cases, 1 suite scorers)",
		"-m openai:gpt-4o-mini -m openai:gpt-4o\n",
		"not mapped (3):",
		"providers[2] anthropic:messages:claude-3-5-sonnet-20241022: no Yardstick provider",
		"tests[0].assert[3] javascript: Yardstick runs no JavaScript",
		"tests[2].assert[3] levenshtein: no edit-distance scorer",
		"tests[2].assert[1] contains-json: the whole answer must be JSON",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	suite := filepath.Join(dir, "support-replies.yaml")
	b, _ := os.ReadFile(suite)
	for _, want := range []string{"Customer: {{.question}}", "type: judge", "type: json-schema", "latency max <= 5000ms", "cost max <= $0.002"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("suite lacks %q:\n%s", want, b)
		}
	}
	// A second import does not overwrite the edited suite.
	if code := c.run(context.Background(), "import", "promptfoo", "testdata/promptfoo/promptfooconfig.yaml", "-o", dir); code != exitUsage || !strings.Contains(c.stderr.String(), "--force") {
		t.Errorf("re-import: exit %d\n%s", code, c.stderr.String())
	}
	run := filepath.Join(c.dir, "run")
	code := c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-m", "openai:gpt-4o", "-q", "--out", run)
	if code != exitOK && code != exitThresholds {
		t.Fatalf("run: exit %d\n%s", code, c.stderr.String())
	}
	pass := map[string]bool{}
	n := 0
	f, err := os.Open(filepath.Join(run, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		pass[r.Target+"/"+r.CaseID] = r.Pass
		if r.CaseID == "tone" && len(r.Scores) > 0 && r.Scores[0].Name != "not-icontains" {
			t.Errorf("suite scorers come first: %+v", r.Scores)
		}
	}
	if n != 10 {
		t.Fatalf("results = %d, want 10 (5 cases × 2 targets)", n)
	}
	for k, p := range pass {
		if want := !strings.HasSuffix(k, "/greeting-2"); p != want {
			t.Errorf("%s: pass = %v, want %v", k, p, want)
		}
	}
}

func TestImportOpenAIEvals(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	srv.SetResponder(capitalResponder)
	c := newCLI(t, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()})
	dir := filepath.Join(c.dir, "imported")
	if code := c.run(context.Background(), "import", "openai-evals", "testdata/promptfoo/samples.jsonl", "-o", dir, "--name", "capitals"); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, c.stdout.String(), c.stderr.String())
	}
	if !strings.Contains(c.stdout.String(), "not mapped (1):") || !strings.Contains(c.stdout.String(), "samples.jsonl:4 sample: its messages' roles [user] differ") {
		t.Errorf("output:\n%s", c.stdout.String())
	}
	run := filepath.Join(c.dir, "run")
	code := c.run(context.Background(), "run", filepath.Join(dir, "capitals.yaml"), "-m", "openai:gpt-4o-mini", "-q", "--out", run)
	if code != exitOK && code != exitThresholds {
		t.Fatalf("run: exit %d\n%s", code, c.stderr.String())
	}
	f, err := os.Open(filepath.Join(run, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]bool{}
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		got[r.CaseID] = r.Pass
	}
	// capitalResponder answers Zurich for Switzerland: wrong for both ideals.
	if len(got) != 3 || !got["s1"] || !got["s2"] || got["s3"] {
		t.Errorf("results = %v", got)
	}
}
