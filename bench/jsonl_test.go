package bench

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// The team convention is a package-level -update flag; another file of this
// package may declare it, so register it only if nobody did and read it by name.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func rnUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func rnSampleResult() *Result {
	cost := 0.00042
	return &Result{
		Suite:         "customer-support",
		SuiteVersion:  "1.2.0",
		CaseID:        "refund-017",
		Target:        "openai:gpt-4o-mini",
		Model:         "gpt-4o-mini",
		ResolvedModel: "gpt-4o-mini-2024-07-18",
		Repeat:        2,
		PromptHash:    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Prompt: []providers.Message{
			{Role: providers.RoleSystem, Content: "Classify the intent."},
			{Role: providers.RoleUser, Content: "I want my <money> back & now"},
		},
		Expected:     "refund",
		Output:       "refund",
		FinishReason: "stop",
		Score:        0.75,
		Pass:         true,
		Reason:       "",
		Scores: []ScorePart{
			{Name: "exact", Value: 1, Weight: 3, Pass: true},
			{Name: "not-contains", Value: 0, Weight: 1, Pass: false, Reason: `contains "sorry"`},
		},
		Start:    time.Date(2025, 3, 1, 12, 30, 0, 123456789, time.UTC),
		Latency:  812 * time.Millisecond,
		TTFT:     230 * time.Millisecond,
		Usage:    providers.Usage{InputTokens: 120, CachedInputTokens: 64, OutputTokens: 3},
		CostUSD:  &cost,
		Cached:   true,
		Attempts: 2,
		Tags:     map[string]string{"split": "test", "lang": "en"},
	}
}

func rnFailedResult() *Result {
	return &Result{
		Suite: "customer-support", CaseID: "refund-018", Target: "gemini:gemini-2.0-flash", Model: "gemini-2.0-flash",
		PromptHash: "ab", Start: time.Date(2025, 3, 1, 12, 30, 1, 0, time.UTC), Latency: 30 * time.Second,
		Error:    &ErrorInfo{Kind: providers.KindRateLimit, Message: "quota exceeded", StatusCode: 429, Stage: "generate"},
		Attempts: 4,
	}
}

// The results.jsonl schema is pinned by a golden file: a change to a JSON
// name or encoding shows up here.
func TestJSONLGolden(t *testing.T) {
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	for _, r := range []*Result{rnSampleResult(), rnFailedResult()} {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	golden := filepath.Join("testdata", "results_schema.golden.jsonl")
	if rnUpdate() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestJSONLGolden -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("results.jsonl encoding changed:\n got %s\nwant %s", buf.Bytes(), want)
	}
	if w.Count() != 2 || bytes.Count(buf.Bytes(), []byte("\n")) != 2 {
		t.Errorf("count %d, %d lines: want one line per result", w.Count(), bytes.Count(buf.Bytes(), []byte("\n")))
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	in := []*Result{rnSampleResult(), rnFailedResult()}
	for _, r := range in {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	var out []*Result
	for r, err := range ReadResults(&buf, "results.jsonl") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

// rnFlushCounter is a writer that records each Write as one chunk.
type rnFlushCounter struct{ chunks []string }

func (c *rnFlushCounter) Write(p []byte) (int, error) {
	c.chunks = append(c.chunks, string(p))
	return len(p), nil
}

// Each line reaches the underlying writer whole, before Add returns, even
// through a bufio.Writer.
func TestJSONLWriterFlushesEachLine(t *testing.T) {
	var under rnFlushCounter
	bw := bufio.NewWriterSize(&under, 1<<20)
	w := NewJSONLWriter(bw)
	for i := range 3 {
		r := rnFailedResult()
		r.Repeat = i
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
		if len(under.chunks) != i+1 || !strings.HasSuffix(under.chunks[i], "}\n") || strings.Count(under.chunks[i], "\n") != 1 {
			t.Fatalf("after Add %d the writer holds %q: want one whole line per Add", i, under.chunks)
		}
	}
}

type rnFailWriter struct {
	n   int
	err error
}

func (f *rnFailWriter) Write(p []byte) (int, error) {
	f.n++
	if f.n >= 2 {
		return 3, f.err
	}
	return len(p), nil
}

func TestJSONLWriterErrorSticky(t *testing.T) {
	errDisk := errors.New("no space left on device")
	fw := &rnFailWriter{err: errDisk}
	w := NewJSONLWriter(fw)
	if err := w.Add(rnFailedResult()); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := w.Add(rnFailedResult()); !errors.Is(err, errDisk) {
			t.Fatalf("Add %d after failure = %v, want %v", i, err, errDisk)
		}
	}
	if fw.n != 2 || w.Count() != 1 {
		t.Errorf("%d writes, count %d: no write may follow a failed one", fw.n, w.Count())
	}
}

const rnGood = `{"suite":"s","case_id":"c1","target":"t","repeat":0,"output":"x","pass":true,"score":1}`

// rnLine describes one item ReadResults yields: a case id, or an error text.
type rnLine struct {
	id        string
	err       string
	truncated bool
}

func TestReadResultsBadLines(t *testing.T) {
	long := `{"suite":"s","case_id":"long","target":"t","output":"` + strings.Repeat("y", 200<<10) + `"}`
	for _, tc := range []struct {
		name string
		in   string
		want []rnLine
	}{
		{"valid", rnGood + "\n" + strings.Replace(rnGood, "c1", "c2", 1) + "\n", []rnLine{{id: "c1"}, {id: "c2"}}},
		{"blank lines skipped", "\n" + rnGood + "\n  \n\n", []rnLine{{id: "c1"}}},
		{"last line without newline", rnGood, []rnLine{{id: "c1"}}},
		{"malformed middle line", rnGood + "\n{\"suite\": \n" + strings.Replace(rnGood, "c1", "c3", 1) + "\n",
			[]rnLine{{id: "c1"}, {err: "r.jsonl:2: invalid JSON"}, {id: "c3"}}},
		{"not an object", "[1,2]\n" + rnGood + "\n", []rnLine{{err: "r.jsonl:1: invalid JSON"}, {id: "c1"}}},
		{"wrong type", `{"suite":"s","case_id":"c1","target":"t","repeat":"zero"}` + "\n",
			[]rnLine{{err: "r.jsonl:1: field repeat:"}}},
		{"missing case_id", `{"suite":"s","target":"t"}` + "\n" + rnGood + "\n",
			[]rnLine{{err: "r.jsonl:1: field case_id: missing"}, {id: "c1"}}},
		{"missing suite", `{"case_id":"c","target":"t"}` + "\n", []rnLine{{err: "r.jsonl:1: field suite: missing"}}},
		{"missing target", `{"suite":"s","case_id":"c"}` + "\n", []rnLine{{err: "r.jsonl:1: field target: missing"}}},
		{"negative repeat", `{"suite":"s","case_id":"c","target":"t","repeat":-1}` + "\n", []rnLine{{err: "r.jsonl:1: field repeat: -1 is negative"}}},
		{"torn last line", rnGood + "\n" + `{"suite":"s","case_id":"c2","tar`,
			[]rnLine{{id: "c1"}, {err: "r.jsonl:2: truncated last line", truncated: true}}},
		{"torn middle line is malformed, not truncated", `{"suite":"s","case_` + rnGood + "\n",
			[]rnLine{{err: "r.jsonl:1: invalid JSON"}}},
		{"line longer than the buffer", long + "\n" + rnGood + "\n", []rnLine{{id: "long"}, {id: "c1"}}},
		{"unknown fields ignored", `{"suite":"s","case_id":"c9","target":"t","future_field":[1]}` + "\n", []rnLine{{id: "c9"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []rnLine
			for r, err := range ReadResults(strings.NewReader(tc.in), "r.jsonl") {
				switch {
				case err != nil:
					var le *LineError
					if !errors.As(err, &le) || le.File != "r.jsonl" || le.Line < 1 {
						t.Errorf("error %v is not a *LineError naming the file and line", err)
					}
					got = append(got, rnLine{err: err.Error(), truncated: errors.Is(err, ErrTruncated)})
				case r == nil:
					t.Fatal("nil result with nil error")
				default:
					got = append(got, rnLine{id: r.CaseID})
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.id != w.id || g.truncated != w.truncated || !strings.HasPrefix(g.err, w.err) || (w.err == "") != (g.err == "") {
					t.Errorf("item %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestReadResultsReadErrorEnds(t *testing.T) {
	errRead := errors.New("i/o error")
	r := io.MultiReader(strings.NewReader(rnGood+"\n"), iotest.ErrReader(errRead))
	var n int
	var last error
	for _, err := range ReadResults(r, "r.jsonl") {
		n++
		last = err
	}
	if n != 2 || !errors.Is(last, errRead) || !strings.HasPrefix(last.Error(), "r.jsonl:2: ") {
		t.Errorf("%d items, last error %v: want one result then the read error at r.jsonl:2", n, last)
	}
}

func TestReadResultsStopEarly(t *testing.T) {
	in := strings.Repeat(rnGood+"\n", 10)
	n := 0
	for range ReadResults(strings.NewReader(in), "r.jsonl") {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("n = %d", n)
	}
}

func rnWrite(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "results.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadKeys(t *testing.T) {
	c2 := strings.Replace(rnGood, "c1", "c2", 1)
	for _, tc := range []struct {
		name    string
		content string
		keys    []string // case ids
		err     string
	}{
		{"empty", "", nil, ""},
		{"two", rnGood + "\n" + c2 + "\n", []string{"c1", "c2"}, ""},
		{"torn last line ignored", rnGood + "\n" + c2[:20], []string{"c1"}, ""},
		{"malformed line is an error", rnGood + "\nnot json\n" + c2 + "\n", nil, "results.jsonl:2: invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := rnWrite(t, tc.content)
			keys, err := ReadKeys(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p) {
					t.Fatalf("ReadKeys = %v, want an error naming %s and %q", err, p, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tc.keys) {
				t.Fatalf("keys %v, want %v", keys, tc.keys)
			}
			for _, id := range tc.keys {
				if _, ok := keys[Key{Suite: "s", CaseID: id, Target: "t"}]; !ok {
					t.Errorf("missing key for %s", id)
				}
			}
		})
	}
	if _, err := ReadKeys(filepath.Join(t.TempDir(), "none.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestOpenResume(t *testing.T) {
	c2 := strings.Replace(rnGood, "c1", "c2", 1)
	for _, tc := range []struct {
		name    string
		content *string // nil: no file
		after   string  // file content after OpenResume and one appended line
		keys    int
		torn    int64
		err     string
	}{
		{"missing file is created", nil, c2 + "\n", 0, 0, ""},
		{"clean file", rnPtr(rnGood + "\n"), rnGood + "\n" + c2 + "\n", 1, 0, ""},
		{"torn last line removed", rnPtr(rnGood + "\n" + `{"suite":"s","ca`), rnGood + "\n" + c2 + "\n", 1, 16, ""},
		{"torn only line removed", rnPtr(`{"suite":"s","ca`), c2 + "\n", 0, 16, ""},
		{"complete last line gets its newline", rnPtr(rnGood), rnGood + "\n" + c2 + "\n", 1, 0, ""},
		{"malformed middle line refused", rnPtr(rnGood + "\n{oops\n" + rnGood + "\n"), rnGood + "\n{oops\n" + rnGood + "\n", 0, 0, "results.jsonl:2: invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "results.jsonl")
			if tc.content != nil {
				if err := os.WriteFile(p, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res, err := OpenResume(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("OpenResume = %v, want %q", err, tc.err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Done) != tc.keys || res.Torn != tc.torn {
					t.Errorf("%d keys, torn %d; want %d, %d", len(res.Done), res.Torn, tc.keys, tc.torn)
				}
				if tc.keys > 0 && !res.Skip(Key{Suite: "s", CaseID: "c1", Target: "t"}) {
					t.Error("Skip(c1) = false")
				}
				if res.Skip(Key{Suite: "s", CaseID: "c2", Target: "t"}) {
					t.Error("Skip(c2) = true")
				}
				if _, err := io.WriteString(res.File, c2+"\n"); err != nil {
					t.Fatal(err)
				}
				res.File.Close()
			}
			got, _ := os.ReadFile(p)
			if string(got) != tc.after {
				t.Errorf("file after resume:\n got %q\nwant %q", got, tc.after)
			}
		})
	}
}

func rnPtr[T any](v T) *T { return &v }
