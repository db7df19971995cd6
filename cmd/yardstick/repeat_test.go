package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestRepeatsAreIndependentAndFlakyCasesAreListed runs every case three
// times with the cache on: each repeat must reach the model (its own cache
// key), and a case whose answer flips across repeats is reported as flaky
// with pass@k.
func TestRepeatsAreIndependentAndFlakyCasesAreListed(t *testing.T) {
	srv, env := fakeOpenAI(t)
	var mu sync.Mutex
	calls := map[string]int{}
	srv.SetResponder(func(req providertest.WireRequest) string {
		mu.Lock()
		defer mu.Unlock()
		id := caseOf(req)
		calls[id]++
		if id == "fr" && calls[id] == 2 { // France is answered wrongly once out of three
			return "Lyon"
		}
		return capitalResponder(req)
	})
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "-c", "1", "--repeat", "3", "--out", out, "--format", "json"); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Count() != 30 {
		t.Errorf("requests = %d, want 30: repeats must not be served from the cache", srv.Count())
	}
	var rep struct {
		Summaries []struct {
			Repeats  int                `json:"repeats"`
			PassAtK  map[string]float64 `json:"pass_at_k"`
			PassAllK float64            `json:"pass_all_k"`
		} `json:"summaries"`
		Flaky []struct {
			CaseID string `json:"case_id"`
			Passed int    `json:"passed"`
			Runs   int    `json:"runs"`
		} `json:"flaky"`
	}
	if err := json.Unmarshal(c.stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, c.stdout.String())
	}
	if len(rep.Flaky) != 1 || rep.Flaky[0].CaseID != "fr" || rep.Flaky[0].Passed != 2 || rep.Flaky[0].Runs != 3 {
		t.Errorf("flaky = %+v, want fr 2/3", rep.Flaky)
	}
	s := rep.Summaries[0]
	// 7 cases always pass, ch and pl never, fr 2 of 3: pass@1 = (7 + 2/3)/10, pass@3 = 8/10, all-3 = 7/10.
	if s.Repeats != 3 || !near(s.PassAtK["1"], (7+2.0/3)/10) || !near(s.PassAtK["3"], 0.8) || !near(s.PassAllK, 0.7) {
		t.Errorf("repeats=%d pass@k=%v all-k=%v", s.Repeats, s.PassAtK, s.PassAllK)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "fr") || !strings.Contains(strings.ToLower(string(md)), "flaky") {
		t.Errorf("report.md does not list the flaky case:\n%s", md)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
