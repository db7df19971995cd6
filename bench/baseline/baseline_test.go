package baseline

import (
	"bytes"
	"errors"
	"flag"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/bench"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr[T any](v T) *T { return &v }

func testMeta() Meta {
	return Meta{
		Created:   time.Date(2025, 6, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600)),
		Yardstick: "v0.4.0",
		Suites: []bench.SuiteInfo{
			{Name: "customer-support", Version: "1.2", Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
			{Name: "math", Version: "0.3", Hash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"},
		},
		Requests: []bench.SentParams{
			{Target: "openai:gpt-4o-mini", Suite: "customer-support", Requests: 5,
				Params: bench.RequestParams{Model: "gpt-4o-mini", MaxTokens: 512, Temperature: ptr(0.0)}},
			{Target: "openai:gpt-4o-mini", Suite: "math", Requests: 3,
				Params: bench.RequestParams{Model: "gpt-4o-mini", MaxTokens: 64, Temperature: ptr(0.0), Seed: ptr(int64(7))}},
			{Target: "ollama:llama3.2", Suite: "customer-support", Requests: 10,
				Params: bench.RequestParams{Model: "llama3.2", Temperature: ptr(0.7)}},
			{Target: "ollama:llama3.2", Suite: "customer-support", Requests: 5,
				Params: bench.RequestParams{Model: "llama3.2", Temperature: ptr(0.7), Stop: []string{"\n\n"}}},
		},
	}
}

func runResults(t *testing.T) iter.Seq2[*bench.Result, error] {
	t.Helper()
	data, err := os.ReadFile("testdata/run.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return bench.ReadResults(bytes.NewReader(data), "testdata/run.jsonl")
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestGolden builds one baseline per target of a two-target, two-suite run
// with repeats, errors and an ID that needs escaping, and compares each file
// with its golden copy; then reads each back and checks the round trip.
func TestGolden(t *testing.T) {
	bs, err := Build(runResults(t), testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Target != "ollama:llama3.2" || bs[1].Target != "openai:gpt-4o-mini" {
		t.Fatalf("targets: %d", len(bs))
	}
	for _, b := range bs {
		name := FileName(b.Target)
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := b.Write(&buf); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden", buf.Bytes())

			back, err := Read(bytes.NewReader(buf.Bytes()), name)
			if err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := back.Write(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Bytes(), buf.Bytes()) {
				t.Errorf("Read → Write is not the identity:\n%s", again.Bytes())
			}
			if back.Target != b.Target || back.Model != b.Model || back.ResolvedModel != b.ResolvedModel ||
				!back.Created.Equal(b.Created) || back.Yardstick != b.Yardstick || len(back.Suites) != len(b.Suites) {
				t.Errorf("header: got %+v, want %+v", back, b)
			}
			for i, s := range back.Suites {
				w := b.Suites[i]
				if s.Name != w.Name || s.Version != w.Version || s.Hash != w.Hash || s.Settings != w.Settings || len(s.Cases) != len(w.Cases) {
					t.Errorf("suite %d: got %+v, want %+v", i, s, w)
					continue
				}
				for j, c := range s.Cases {
					wc := w.Cases[j]
					if c.ID != wc.ID || c.Repeats != wc.Repeats || c.Passed != wc.Passed || c.Errors != wc.Errors ||
						c.PromptHash != wc.PromptHash || math.Abs(c.Score-wc.Score) > 0.00005 {
						t.Errorf("case %s: got %+v, want %+v", wc.ID, c, wc)
					}
				}
			}
		})
	}
}

// TestResultsMatchRun checks that a baseline's Results summarise like the run
// it was made from: same counts per suite and target, same pass rate, and the
// same mean score up to the file's 4-decimal rounding.
func TestResultsMatchRun(t *testing.T) {
	orig := analysis.NewSummarizer(analysis.DefaultSummaryOptions())
	for r, err := range runResults(t) {
		if err != nil {
			t.Fatal(err)
		}
		orig.Add(r)
	}
	bs, err := Build(runResults(t), testMeta())
	if err != nil {
		t.Fatal(err)
	}
	back := analysis.NewSummarizer(analysis.DefaultSummaryOptions())
	for _, b := range bs {
		for r, err := range b.Results() {
			if err != nil {
				t.Fatal(err)
			}
			back.Add(r)
		}
	}
	want, got := orig.Close(), back.Close()
	if len(got) != len(want) {
		t.Fatalf("%d summaries, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.Suite != w.Suite || g.Target != w.Target || g.N != w.N || g.Passed != w.Passed || g.Errors != w.Errors ||
			g.Repeats != w.Repeats || !slices.Equal(g.FlakyCases, w.FlakyCases) {
			t.Errorf("%s/%s: got n %d passed %d errors %d repeats %d flaky %v; want %d %d %d %d %v", w.Suite, w.Target,
				g.N, g.Passed, g.Errors, g.Repeats, g.FlakyCases, w.N, w.Passed, w.Errors, w.Repeats, w.FlakyCases)
		}
		if g.PassRate.Value != w.PassRate.Value || math.Abs(g.Score.Value-w.Score.Value) > 0.00005 {
			t.Errorf("%s/%s: pass %v score %v; want %v %v", w.Suite, w.Target, g.PassRate.Value, g.Score.Value, w.PassRate.Value, w.Score.Value)
		}
	}
	// Records carry the identity compare and gate pair on.
	first := true
	for r := range bs[1].Results() {
		if first {
			if r.Suite != "customer-support" || r.SuiteVersion != "1.2" || r.CaseID != "refund-01" || r.Target != "openai:gpt-4o-mini" ||
				r.Model != "gpt-4o-mini" || r.ResolvedModel != "gpt-4o-mini-2024-07-18" || r.Repeat != 0 || len(r.PromptHash) != ShortHashLen {
				t.Errorf("first record = %+v", r)
			}
			first = false
		}
	}
}

func TestSave(t *testing.T) {
	var buf bytes.Buffer
	err := Save(&buf, runResults(t), testMeta())
	if err == nil || !strings.Contains(err.Error(), "results hold 2 targets (ollama:llama3.2, openai:gpt-4o-mini)") {
		t.Fatalf("two targets: err = %v", err)
	}
	only := func(yield func(*bench.Result, error) bool) {
		for r, err := range runResults(t) {
			if err != nil || r.Target == "openai:gpt-4o-mini" {
				if !yield(r, err) {
					return
				}
			}
		}
	}
	buf.Reset()
	if err := Save(&buf, only, testMeta()); err != nil {
		t.Fatal(err)
	}
	golden(t, "openai-gpt-4o-mini.baseline.golden", buf.Bytes())

	// A torn last line is skipped; any other stream error is returned.
	torn := func(yield func(*bench.Result, error) bool) {
		for r, err := range only {
			if !yield(r, err) {
				return
			}
		}
		yield(nil, &bench.LineError{File: "r", Line: 9, Err: bench.ErrTruncated})
	}
	var tornBuf bytes.Buffer
	if err := Save(&tornBuf, torn, testMeta()); err != nil || !bytes.Equal(tornBuf.Bytes(), buf.Bytes()) {
		t.Errorf("torn line: err %v", err)
	}
	bad := func(yield func(*bench.Result, error) bool) { yield(nil, errors.New("r:1: nope")) }
	if err := Save(&buf, bad, testMeta()); err == nil || err.Error() != "r:1: nope" {
		t.Errorf("bad stream: err = %v", err)
	}
	empty := func(yield func(*bench.Result, error) bool) {}
	if err := Save(&buf, empty, testMeta()); err == nil {
		t.Error("no results: no error")
	}
}

func TestBuildRejects(t *testing.T) {
	r := func(id string, repeat int, hash, version string) *bench.Result {
		return &bench.Result{Suite: "s", SuiteVersion: version, CaseID: id, Target: "t", Repeat: repeat, PromptHash: hash, Pass: true, Score: 1}
	}
	for _, tc := range []struct {
		name string
		in   []*bench.Result
		want string
	}{
		{"duplicate repeat", []*bench.Result{r("a", 0, "ab", "1"), r("a", 0, "ab", "1")},
			"baseline: duplicate result for suite s, case a, target t, repeat 0"},
		{"prompt varies", []*bench.Result{r("a", 0, "ab", "1"), r("a", 1, "cd", "1")},
			"baseline: suite s, case a, target t: prompt hash differs across repeats"},
		{"two versions", []*bench.Result{r("a", 0, "ab", "1"), r("b", 0, "ab", "2")},
			"baseline: suite s has several versions in the results (1, 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := func(yield func(*bench.Result, error) bool) {
				for _, x := range tc.in {
					if !yield(x, nil) {
						return
					}
				}
			}
			_, err := Build(seq, Meta{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"openai:gpt-4o-mini":        "openai-gpt-4o-mini.baseline",
		"ollama:llama3.2":           "ollama-llama3.2.baseline",
		"local:ckpt/step 100":       "local-ckpt-step-100.baseline",
		"../../etc":                 "etc.baseline",
		"":                          "target.baseline",
		"gemini:gemini-2.5-flash-β": "gemini-gemini-2.5-flash.baseline",
	} {
		if got := FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// validFile is a small valid baseline the malformed cases edit.
const validFile = `yardstick_baseline	1
target	t
model	m
resolved_model	
created	2025-06-01T12:00:00Z
yardstick	v1
cases	3
pass_rate	0.6000

suite	a
suite_version	1
suite_hash	abc
settings	{"temperature":0}
cases	2
pass_rate	0.5000
case_id	outcome	score	repeats	prompt_hash
c1	pass	1.0000	1	0123456789ab
c2	fail	0.2000	1	-

suite	b
suite_version	
suite_hash	
settings	
cases	1
pass_rate	0.6667
case_id	outcome	score	repeats	prompt_hash
x	2/3	0.6000	3	ab
`

func TestReadValid(t *testing.T) {
	b, err := Read(strings.NewReader(validFile), "v.baseline")
	if err != nil {
		t.Fatal(err)
	}
	if b.Target != "t" || len(b.Suites) != 2 || b.Suites[1].Cases[0] != (Case{ID: "x", Repeats: 3, Passed: 2, Score: 0.6, PromptHash: "ab"}) {
		t.Fatalf("got %+v", b)
	}
	// CRLF line endings (a checkout with autocrlf) read the same.
	crlf, err := Read(strings.NewReader(strings.ReplaceAll(validFile, "\n", "\r\n")), "v.baseline")
	if err != nil {
		t.Fatal(err)
	}
	if crlf.Suites[0].Cases[1].ID != "c2" || crlf.Suites[0].Settings != `{"temperature":0}` {
		t.Errorf("CRLF: %+v", crlf)
	}
	var n, errs int
	for r := range b.Results() {
		n++
		if r.Error != nil {
			errs++
		}
	}
	if n != 5 || errs != 0 {
		t.Errorf("Results: %d records, %d errors", n, errs)
	}
}

func TestReadErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(validFile, old) {
			panic("no " + old)
		}
		return strings.Replace(validFile, old, new, 1)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "f: empty: not a baseline file"},
		{"not a baseline", "hello\n", `f:1: not a baseline file: the first line must be "yardstick_baseline" followed by a tab and the format version`},
		{"future format", edit("yardstick_baseline\t1", "yardstick_baseline\t2"), `f:1: yardstick_baseline: format version "2" is not supported (this yardstick reads 1)`},
		{"no tab", edit("model\tm", "model m"), `f:3: want "key<TAB>value", got "model m"`},
		{"unknown key", edit("model\tm", "modle\tm"), "f:3: modle: unknown key"},
		{"repeated key", edit("model\tm\n", "model\tm\nmodel\tn\n"), "f:4: model: repeated (first on line 3)"},
		{"bad created", edit("2025-06-01T12:00:00Z", "yesterday"), `f:5: created: want an RFC 3339 time, got "yesterday"`},
		{"bad escape", edit("model\tm", "model\tm\\q"), `f:3: model: unknown escape "\q"`},
		{"missing target", edit("target\tt\n", ""), "f:9: target: missing from the file header"},
		{"suite key in header", edit("yardstick\tv1", "suite_hash\tx"), `f:6: suite_hash: belongs in a suite block (after a "suite" line)`},
		{"header key in suite", edit("suite_hash\tabc", "model\tx"), `f:12: model: belongs in the file header, before the first "suite" line`},
		{"bad settings", edit(`{"temperature":0}`, `{temperature}`), `f:13: settings: not valid JSON: "{temperature}"`},
		{"cases count", edit("cases\t2", "cases\t3"), "f:14: cases: 3, but suite a has 2 cases"},
		{"header pass rate", edit("pass_rate\t0.6000", "pass_rate\t0.7000"), "f:8: pass_rate: 0.7000, but the file passes 3 of 5 results (0.6000)"},
		{"pass rate range", edit("pass_rate\t0.5000", "pass_rate\t50"), `f:15: pass_rate: want a number in [0, 1], got "50"`},
		{"missing totals", edit("cases\t2\n", ""), `f:15: cases: missing before the case table of suite a`},
		{"field count", edit("c1\tpass\t1.0000\t1\t0123456789ab", "c1\tpass\t1.0000\t1"), "f:17: case line has 4 tab-separated fields, want 5 (case_id, outcome, score, repeats, prompt_hash)"},
		{"unsorted cases", edit("c1\tpass", "c3\tpass"), "f:18: case_id: c2 after c3: cases must be sorted by ID"},
		{"duplicate case", edit("c2\tfail", "c1\tfail"), "f:18: case_id: c1 appears twice"},
		{"bad outcome", edit("c2\tfail", "c2\tmeh"), `f:18: outcome: want pass, fail, error or P/N [(E errors)], got "meh"`},
		{"outcome repeats", edit("x\t2/3\t0.6000\t3", "x\t2/4\t0.6000\t3"), `f:27: outcome: "2/4" counts 4 repeats but the repeats column says 3`},
		{"outcome overflow", edit("x\t2/3\t", "x\t2/3 (2 errors)\t"), `f:27: outcome: "2/3 (2 errors)": passes and errors exceed the repeats`},
		{"bad score", edit("c2\tfail\t0.2000", "c2\tfail\t1.5"), `f:18: score: want a number in [0, 1], got "1.5"`},
		{"error score", edit("c2\tfail\t0.2000", "c2\terror\t0.2000"), "f:18: score: every repeat errored, so the score must be 0, got 0.2000"},
		{"bad repeats", edit("c2\tfail\t0.2000\t1", "c2\tfail\t0.2000\t0"), `f:18: repeats: want a positive count, got "0"`},
		{"bad hash", edit("0123456789ab", "xyz"), `f:17: prompt_hash: want hex digits or "-", got "xyz"`},
		{"key after table", edit("\nsuite\tb", "model\tz\nsuite\tb"), `f:19: case line has 2 tab-separated fields, want 5 (case_id, outcome, score, repeats, prompt_hash)`},
		{"stray key after blank", edit("\nsuite\tb", "\nmodel\tz\nsuite\tb"), `f:20: model: unexpected after a case table (want a blank line and "suite")`},
		{"unsorted suites", edit("suite\tb", "suite\t0"), "f:20: suite: suite 0 after a: suites must be sorted by name"},
		{"duplicate suite", edit("suite\tb", "suite\ta"), "f:20: suite: suite a appears twice"},
		{"suite without table", validFile[:strings.Index(validFile, "case_id\toutcome")], "f:15: suite a has no case table"},
		{"no suite", validFile[:strings.Index(validFile, "\nsuite")], "f: no suite"},
		{"merge conflict", edit("c2\tfail", "<<<<<<< HEAD\nc2\tfail"), "f:18: case line has 1 tab-separated fields, want 5 (case_id, outcome, score, repeats, prompt_hash)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), "f")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want *ParseError", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load("testdata/missing.baseline"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "bad.baseline")
	if err := os.WriteFile(path, []byte("yardstick_baseline\t1\ntarget\tt\nbogus\tx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || err.Error() != path+":3: bogus: unknown key" {
		t.Errorf("err = %v", err)
	}
	b, err := Load("testdata/openai-gpt-4o-mini.baseline.golden")
	if err != nil {
		t.Fatal(err)
	}
	if c, r, p := b.Counts(); c != 8 || r != 8 || p != 4 {
		t.Errorf("counts %d %d %d", c, r, p)
	}
}
