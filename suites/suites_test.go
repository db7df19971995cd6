package suites

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/suites/score"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func mustLoad(t *testing.T, path string) *Suite {
	t.Helper()
	s, err := Load(path, LoadOptions{ValidateThreshold: badThreshold})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// collect runs Cases and returns the cases and error texts.
func collect(s *Suite, opts CasesOptions) ([]*bench.Case, []string) {
	var cs []*bench.Case
	var errs []string
	for c, err := range s.Cases(opts) {
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		cs = append(cs, c)
	}
	return cs, errs
}

// dump renders cases as stable, readable JSON for golden files.
func dump(t *testing.T, cs []*bench.Case) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, c := range cs {
		threshold := -1.0
		if comp, ok := c.Scorer.(*score.Composite); ok {
			threshold = comp.Threshold()
		}
		v := map[string]any{
			"suite": c.Suite, "suite_version": c.SuiteVersion, "id": c.ID, "request": c.Request,
			"expected": c.Expected, "vars": c.Vars, "tags": c.Tags, "prompt_hash": c.PromptHash,
			"pass_threshold": threshold,
		}
		out, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		b.Write(out)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestRenderJSONL(t *testing.T) {
	s := mustLoad(t, "testdata/support/suite.yaml")
	if s.Name != "support-mini" || s.Version != "1.2" || s.DefaultSplit != "test" || s.PassThreshold != 0.75 {
		t.Errorf("suite header: %+v", s)
	}
	if s.Dataset != filepath.Join("testdata", "support", "cases.jsonl") {
		t.Errorf("Dataset = %q", s.Dataset)
	}
	wantTh := []Threshold{
		{"pass_rate >= 0.85", "testdata/support/suite.yaml:24"},
		{"error_rate < 0.02", "testdata/support/suite.yaml:25"},
	}
	if fmt.Sprint(s.Thresholds) != fmt.Sprint(wantTh) {
		t.Errorf("Thresholds = %v, want %v", s.Thresholds, wantTh)
	}
	all, errs := collect(s, CasesOptions{Split: SplitAll})
	if len(errs) > 0 || len(all) != 4 {
		t.Fatalf("cases %d, errors %v", len(all), errs)
	}
	checkGolden(t, "render_jsonl.golden", dump(t, all))

	c := all[1]
	if c.Request.Temperature == nil || *c.Request.Temperature != 0 {
		t.Errorf("temperature 0 must be explicit, got %v", c.Request.Temperature)
	}
	if c.Request.Seed == nil || *c.Request.Seed != 7 || c.Request.MaxTokens != 16 || fmt.Sprint(c.Request.Stop) != "[\n]" {
		t.Errorf("defaults not applied: %+v", c.Request)
	}
	if c.Request.Messages[0].Content != "Customer (EN): where is my parcel?" {
		t.Errorf("user message = %q", c.Request.Messages[0].Content)
	}
	if c.Tags["split"] != "test" || c.Tags["domain"] != "support" || c.Scorer == nil {
		t.Errorf("tags %v scorer %v", c.Tags, c.Scorer)
	}
	if all[0].Request.Temperature == all[1].Request.Temperature {
		t.Error("cases share a Temperature pointer")
	}
	// Per-case threshold override.
	if th := all[2].Scorer.(*score.Composite).Threshold(); th != 1 {
		t.Errorf("s3 threshold = %v, want 1", th)
	}
	if th := all[1].Scorer.(*score.Composite).Threshold(); th != 0.75 {
		t.Errorf("s2 threshold = %v, want 0.75", th)
	}
	// The scorer works on rendered cases.
	sc, err := all[1].Scorer.Score(context.Background(), all[1], &providers.Response{Text: "Order status."})
	if err != nil || !sc.Pass || sc.Value != 1 {
		t.Errorf("score = %+v, %v", sc, err)
	}
}

func TestRenderCSVMessages(t *testing.T) {
	s := mustLoad(t, "testdata/chat/suite.yaml")
	all, errs := collect(s, CasesOptions{})
	if len(errs) > 0 || len(all) != 3 {
		t.Fatalf("cases %d, errors %v", len(all), errs)
	}
	checkGolden(t, "render_csv.golden", dump(t, all))
	c := all[2]
	if c.Request.System != "Answer with the capital city only." || len(c.Request.Messages) != 3 ||
		c.Request.Messages[2].Content != "Capital of Côte d'Ivoire?" || c.Request.Messages[1].Role != "assistant" {
		t.Errorf("request = %+v", c.Request)
	}
	if string(c.Request.JSONSchema) != "{\"type\": \"string\"}\n" || *c.Request.TopP != 0.9 {
		t.Errorf("json schema %q top_p %v", c.Request.JSONSchema, c.Request.TopP)
	}
}

func TestSplits(t *testing.T) {
	s := mustLoad(t, "testdata/support/suite.yaml")
	ids := func(opts CasesOptions) (string, []string) {
		cs, errs := collect(s, opts)
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return strings.Join(out, ","), errs
	}
	tests := []struct {
		opts CasesOptions
		want string
		errs []string
	}{
		{CasesOptions{}, "s2,s3", nil},
		{CasesOptions{Split: "test"}, "s2,s3", nil},
		{CasesOptions{Split: "train"}, "s1,4", nil},
		{CasesOptions{Split: SplitAll}, "s1,s2,s3,4", nil},
		{CasesOptions{Split: SplitAll, Limit: 3}, "s1,s2,s3", nil},
		{CasesOptions{Split: "train", Limit: 1}, "s1", nil},
		{CasesOptions{Split: "dev"}, "", []string{`testdata/support/suite.yaml:9: cases.split: no cases in split "dev" (splits present: test, train)`}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.opts), func(t *testing.T) {
			got, errs := ids(tt.opts)
			if got != tt.want || fmt.Sprint(errs) != fmt.Sprint(tt.errs) {
				t.Errorf("got %q %q; want %q %q", got, errs, tt.want, tt.errs)
			}
		})
	}
}

func TestInlineItems(t *testing.T) {
	fsys := fstest.MapFS{"s.yaml": {Data: []byte(`name: inline
prompt: {user: "Extract {{.field}} from: {{.text}}"}
cases:
  split: dev
  items:
    - id: a
      split: dev
      vars: {field: name, text: "Ada, 36"}
      expected: {name: Ada, age: 36}
    - id: b
      vars: {field: city, text: Paris, extra: [1, two]}
      expected: Paris
scorers:
  - {type: json-match}
`)}}
	s, err := LoadFS(fsys, "s.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs, errs := collect(s, CasesOptions{})
	if len(errs) > 0 || len(cs) != 1 || cs[0].Expected != `{"age":36,"name":"Ada"}` {
		t.Fatalf("cases %v errors %v", cs, errs)
	}
	// b's expected "Paris" is not JSON: json-match rejects it when checked.
	err = s.Check(context.Background())
	want := `s.yaml:10: case "b": expected: scorers[0] (json-match): not JSON (invalid character 'P' looking for beginning of value): "Paris"`
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v\nwant %s", err, want)
	}
}

func TestPromptHash(t *testing.T) {
	base := providers.Request{System: "s", Messages: []providers.Message{{Role: "user", Content: "hi"}}, Temperature: providers.Float64(0)}
	h := PromptHash(&base)
	if len(h) != 64 {
		t.Fatalf("hash %q", h)
	}
	same := base
	same.Model = "another-model"
	if PromptHash(&same) != h {
		t.Error("the model must not change the prompt hash")
	}
	variants := map[string]func(r *providers.Request){
		"temperature unset": func(r *providers.Request) { r.Temperature = nil },
		"temperature 0.1":   func(r *providers.Request) { r.Temperature = providers.Float64(0.1) },
		"system":            func(r *providers.Request) { r.System = "t" },
		"message":           func(r *providers.Request) { r.Messages = []providers.Message{{Role: "user", Content: "ho"}} },
		"seed":              func(r *providers.Request) { r.Seed = providers.Int64(1) },
		"stop":              func(r *providers.Request) { r.Stop = []string{"\n"} },
		"max tokens":        func(r *providers.Request) { r.MaxTokens = 5 },
		"top_p":             func(r *providers.Request) { r.TopP = providers.Float64(1) },
		"schema":            func(r *providers.Request) { r.JSONSchema = json.RawMessage(`{"type":"object"}`) },
	}
	for name, mutate := range variants {
		r := base
		mutate(&r)
		if PromptHash(&r) == h {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	a, b := base, base
	a.JSONSchema = json.RawMessage(`{"type": "object", "required": ["x"]}`)
	b.JSONSchema = json.RawMessage(`{"required":["x"],"type":"object"}`)
	if PromptHash(&a) != PromptHash(&b) {
		t.Error("equivalent JSON schemas should hash the same")
	}
}

func TestExportChat(t *testing.T) {
	s := mustLoad(t, "testdata/support/suite.yaml")
	var b bytes.Buffer
	if err := ExportChat(context.Background(), s, "train", &b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "export_chat.golden", b.Bytes())
	sc := bufio.NewScanner(&b)
	n := 0
	for sc.Scan() {
		var line struct {
			Messages []providers.Message `json:"messages"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		m := line.Messages
		if len(m) != 3 || m[0].Role != "system" || m[1].Role != "user" || m[2].Role != "assistant" || m[2].Content != "refund_request" {
			t.Errorf("line %d: %+v", n, m)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d examples, want 2", n)
	}

	// A case without an expected answer cannot be exported.
	fsys := fstest.MapFS{"s.yaml": {Data: []byte("name: x\nprompt: {user: hi}\ncases: [{id: a}]\n")}}
	s2, err := LoadFS(fsys, "s.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ExportChat(context.Background(), s2, "", io.Discard); err == nil || err.Error() != `case "a" has no expected answer to train on` {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ExportChat(ctx, s, "train", io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

func TestHash(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"suite.yaml", "cases.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata/support", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h1, err := mustLoad(t, "testdata/support/suite.yaml").Hash()
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := mustLoad(t, filepath.Join(dir, "suite.yaml")).Hash()
	if h1 != h2 || len(h1) != 64 {
		t.Errorf("same content, different hashes: %s %s", h1, h2)
	}
	f, _ := os.OpenFile(filepath.Join(dir, "cases.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id": "s5", "text": "x", "lang": "en", "labels": [], "expected": "order_status"}` + "\n")
	f.Close()
	h3, _ := mustLoad(t, filepath.Join(dir, "suite.yaml")).Hash()
	if h3 == h1 {
		t.Error("hash ignores the dataset")
	}
	h4, _ := mustLoad(t, "testdata/chat/suite.yaml").Hash()
	if h4 == h1 {
		t.Error("different suites, same hash")
	}
}

func TestValidate(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"testdata/support/suite.yaml", "testdata/chat/suite.yaml"} {
		if err := Validate(ctx, p, LoadOptions{ValidateThreshold: badThreshold}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	err := Validate(ctx, "testdata/nope.yaml", LoadOptions{})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, fs.ErrNotExist) || e.File != "testdata/nope.yaml" {
		t.Errorf("missing file: %v", err)
	}
}

// countingFS counts the bytes read from one file.
type countingFS struct {
	fs.FS
	name string
	n    *atomic.Int64
}

type countingFile struct {
	fs.File
	n *atomic.Int64
}

func (c countingFile) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil || name != c.name {
		return f, err
	}
	return countingFile{f, c.n}, nil
}

func writeBig(t testing.TB, dir string, rows int) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "big.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range rows {
		fmt.Fprintf(w, `{"id": "c%d", "text": "message number %d about an order that is late", "expected": "order_status", "split": "%s"}`+"\n",
			i, i, []string{"train", "test"}[i%2])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.WriteFile(filepath.Join(dir, "suite.yaml"), []byte(`name: big
prompt: {system: "Classify.", user: "{{.text}}"}
cases: {file: big.jsonl}
defaults: {temperature: 0}
scorers: [{type: choice, labels: [order_status, refund_request]}]
`), 0o644)
}

func TestStreaming(t *testing.T) {
	rows := 50_000
	if testing.Short() {
		rows = 10_000
	}
	dir := t.TempDir()
	writeBig(t, dir, rows)
	fi, _ := os.Stat(filepath.Join(dir, "big.jsonl"))
	var read atomic.Int64
	fsys := countingFS{FS: os.DirFS(dir), name: "big.jsonl", n: &read}
	s, err := LoadFS(fsys, "suite.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if read.Load() != 0 {
		t.Errorf("Load read %d bytes of the dataset, want 0", read.Load())
	}
	// Early break: only the first buffer of the file is read.
	n := 0
	for c, err := range s.Cases(CasesOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != fmt.Sprintf("c%d", n) {
			t.Fatalf("case %d has ID %s", n, c.ID)
		}
		if n++; n == 10 {
			break
		}
	}
	if got := read.Load(); got > 128<<10 || got >= fi.Size() {
		t.Errorf("read %d of %d bytes for 10 cases", got, fi.Size())
	}
	// A full pass sees every row once.
	read.Store(0)
	n = 0
	for _, err := range s.Cases(CasesOptions{Split: "test"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != rows/2 || read.Load() != fi.Size() {
		t.Errorf("test split: %d cases (want %d), read %d of %d bytes", n, rows/2, read.Load(), fi.Size())
	}
}

func TestConcurrentCases(t *testing.T) {
	s := mustLoad(t, "testdata/support/suite.yaml")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c, err := range s.Cases(CasesOptions{Split: SplitAll}) {
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Scorer.Score(context.Background(), c, &providers.Response{Text: c.Expected}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yaml", Line: 3, Field: "x", Err: errors.New("bad")}, "a.yaml:3: x: bad"},
		{Error{File: "a.jsonl", Line: 9, Case: "c1", Field: "prompt.user", Err: errors.New("bad")}, `a.jsonl:9: case "c1": prompt.user: bad`},
		{Error{File: "a.jsonl", Err: errors.New("no cases")}, "a.jsonl: no cases"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	var list ErrorList
	if list.err() != nil {
		t.Error("empty ErrorList must be a nil error")
	}
}

func BenchmarkCases(b *testing.B) {
	dir := b.TempDir()
	const rows = 20_000
	writeBig(b, dir, rows)
	s, err := Load(filepath.Join(dir, "suite.yaml"), LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, err := range s.Cases(CasesOptions{Split: SplitAll}) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}
