package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/providertest"
	"github.com/yardstick-eval/yardstick/suites/builtin"
)

func TestSuitesScorers(t *testing.T) {
	c := newCLI(t, nil)
	if code := c.run(context.Background(), "suites", "scorers"); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	for _, want := range []string{"choice\n", "numeric\n", "judge\n", "not-", "default normalize: trim", "nospace"} {
		if !strings.Contains(c.stdout.String(), want) {
			t.Errorf("suites scorers output lacks %q", want)
		}
	}
	if code := c.run(context.Background(), "suites", "scorers", "numeric", "choice"); code != exitOK || strings.Contains(c.stdout.String(), "icontains") {
		t.Errorf("suites scorers numeric choice: exit %d\n%s", code, c.stdout.String())
	}
	if code := c.run(context.Background(), "suites", "scorers", "numerc"); code != exitUsage || !strings.Contains(c.stderr.String(), `did you mean "numeric"?`) {
		t.Errorf("unknown type: exit %d\n%s", code, c.stderr.String())
	}
}

// TestRunGSM8KFormat runs the built-in GSM8K-format suite end to end against
// the OpenAI fake: the dataset is read as published (question, answer with
// "#### N"), and answers in several styles are read by the answer finder.
func TestRunGSM8KFormat(t *testing.T) {
	data, err := fs.ReadFile(builtin.FS(), "gsm8k-format/test.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{} // question → the number after ####
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct{ Question, Answer string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		_, n, _ := strings.Cut(rec.Answer, "#### ")
		answers[rec.Question] = n
		order = append(order, rec.Question)
	}
	wrong := order[4]
	srv := providertest.NewOpenAIServer(t)
	srv.SetResponder(func(req providertest.WireRequest) string {
		q := req.Messages[len(req.Messages)-1].Content
		n, ok := answers[q]
		switch {
		case !ok:
			return "I cannot see the problem."
		case q == wrong:
			return "Let me think.\n#### 1000"
		case slices.Index(order, q)%3 == 0:
			return "Step by step: the totals add up.\n#### " + n
		case slices.Index(order, q)%3 == 1:
			return "**Final answer: " + n + "** (after 3 steps, 2 checks)"
		default:
			return "Working it out with 7 and 4, the answer is " + n + "."
		}
	})
	c := newCLI(t, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()})
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), "run", "gsm8k-format", "-m", "openai:gpt-4o-mini", "-q", "--out", out); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	f, err := os.Open(filepath.Join(out, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, passed := 0, 0
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r.Pass {
			passed++
		} else if r.Expected != "1000" && !strings.Contains(r.Output, "1000") {
			t.Errorf("%s failed: output %q, expected %q: %s", r.CaseID, r.Output, r.Expected, r.Reason)
		}
	}
	if n != len(order) || passed != len(order)-1 {
		t.Errorf("results %d, passed %d; want %d and %d", n, passed, len(order), len(order)-1)
	}
}
