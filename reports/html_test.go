package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/yardstick-eval/yardstick/analysis"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/yardstick-eval/yardstick/bench"
)

// htmlData is the embedded data block, decoded.
type htmlData struct {
	V           int      `json:"v"`
	PageSize    int      `json:"page_size"`
	HasBaseline bool     `json:"has_baseline"`
	Suites      []string `json:"suites"`
	Targets     []string `json:"targets"`
	Cases       [][]any  `json:"cases"`
	Results     [][]any  `json:"results"`
}

// pageParts splits a report into what the structure checks need.
type pageParts struct {
	csp       string
	scripts   []string // inline scripts without a type
	styles    []string
	data      string // raw text of the JSON data block
	tags      map[string]int
	eventAttr []string // on* attributes found anywhere
	urls      []string // src/href/action/xlink:href attribute values
}

func parsePage(t *testing.T, doc []byte) pageParts {
	t.Helper()
	p := pageParts{tags: map[string]int{}}
	z := html.NewTokenizer(bytes.NewReader(doc))
	var inScript, inStyle, inData bool
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenizer: %v", z.Err())
			}
			return p
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			p.tags[tok.Data]++
			typ := ""
			for _, a := range tok.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					p.eventAttr = append(p.eventAttr, a.Key+"="+a.Val)
				}
				switch strings.ToLower(a.Key) {
				case "src", "href", "action", "xlink:href", "formaction", "srcset", "poster", "data":
					p.urls = append(p.urls, a.Key+"="+a.Val)
				case "type":
					typ = a.Val
				case "http-equiv":
					if strings.EqualFold(a.Val, "content-security-policy") {
						for _, b := range tok.Attr {
							if b.Key == "content" {
								p.csp = b.Val
							}
						}
					}
				}
			}
			switch tok.Data {
			case "script":
				inData = typ == "application/json"
				inScript = !inData
			case "style":
				inStyle = true
			}
		case html.TextToken:
			text := string(z.Text())
			switch {
			case inScript:
				p.scripts = append(p.scripts, text)
			case inData:
				p.data = text
			case inStyle:
				p.styles = append(p.styles, text)
			}
		case html.EndTagToken:
			inScript, inStyle, inData = false, false, false
		}
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func baselineOf(rs []*bench.Result) []*bench.Result {
	var out []*bench.Result
	for _, r := range rs {
		b := *r
		b.Pass = true // every case passed in the baseline: failures now are regressions
		out = append(out, &b)
	}
	return out
}

func TestHTMLStructure(t *testing.T) {
	tests := []struct {
		name string
		in   *Input
		rs   []*bench.Result
	}{
		{"sample", sampleInput(), sampleResults()},
		{"empty", &Input{}, nil},
	}
	for _, h := range hostile {
		in := hostileInput(h.s)
		rs := sampleResults()
		for _, r := range rs {
			r.CaseID, r.Target, r.Output, r.Reason, r.Expected = h.s, h.s+"t", h.s, h.s, h.s
			r.Prompt[1].Content = h.s
			r.Scores = append(r.Scores, bench.ScorePart{Name: h.s, Reason: h.s})
		}
		tests = append(tests, struct {
			name string
			in   *Input
			rs   []*bench.Result
		}{"hostile/" + h.name, in, rs})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			opts := HTMLOptions{}
			// The regressions come from the comparison with a baseline in
			// which every case passed: every failure now is a regression.
			ab := analysis.New(analysis.Options{Force: true})
			for _, r := range tt.rs {
				ab.Add(r)
			}
			for _, r := range baselineOf(tt.rs) {
				ab.AddBaseline(r)
			}
			an, _ := ab.Close()
			in := *tt.in
			in.Baseline, in.Regressions, in.Improvements = an.Baseline, an.Regressions, an.Improvements
			if err := HTML(&b, &in, seqOf(tt.rs), opts); err != nil {
				t.Fatal(err)
			}
			doc := b.Bytes()
			if !bytes.HasPrefix(doc, []byte("<!doctype html>")) {
				t.Errorf("no doctype: %.40q", doc)
			}
			p := parsePage(t, doc)

			// Only our own script and style, allowed by hash.
			if len(p.scripts) != 1 || len(p.styles) != 1 {
				t.Fatalf("%d inline scripts and %d styles, want 1 and 1", len(p.scripts), len(p.styles))
			}
			if p.tags["script"] != 2 || p.tags["style"] != 1 {
				t.Errorf("tags: %d script, %d style", p.tags["script"], p.tags["style"])
			}
			for _, want := range []string{"default-src 'none'", "script-src " + sha(p.scripts[0]) + ";", "style-src " + sha(p.styles[0]) + ";", "base-uri 'none'", "form-action 'none'"} {
				if !strings.Contains(p.csp, want) {
					t.Errorf("CSP %q lacks %q", p.csp, want)
				}
			}
			if strings.Contains(p.csp, "unsafe") {
				t.Errorf("CSP allows unsafe sources: %q", p.csp)
			}
			for _, forbidden := range []string{"img", "iframe", "object", "embed", "link", "form", "base", "a"} {
				if p.tags[forbidden] > 0 {
					t.Errorf("page has %d <%s> elements", p.tags[forbidden], forbidden)
				}
			}
			if len(p.eventAttr) > 0 || len(p.urls) > 0 {
				t.Errorf("event handlers %v, URLs %v", p.eventAttr, p.urls)
			}
			if strings.Contains(p.styles[0], "url(") || strings.Contains(p.styles[0], "@import") || strings.Contains(p.scripts[0], "fetch(") || strings.Contains(p.scripts[0], "XMLHttpRequest") {
				t.Error("style or script refers to the network")
			}
			if tt.name == "sample" && (bytes.Contains(doc, []byte("http://")) || bytes.Contains(doc, []byte("https://"))) {
				t.Error("page refers to the network")
			}

			// The data block cannot end early or hide markup.
			if strings.ContainsAny(p.data, "<>&\u2028\u2029") {
				t.Error("data block contains <, >, & or a raw line separator")
			}
			var d htmlData
			if err := json.Unmarshal([]byte(p.data), &d); err != nil {
				t.Fatalf("data block: %v", err)
			}
			if len(d.Results) != len(tt.rs) {
				t.Fatalf("%d results embedded, want %d", len(d.Results), len(tt.rs))
			}
			if len(tt.rs) == 0 {
				return
			}
			if !d.HasBaseline || d.PageSize != 50 {
				t.Errorf("has_baseline %v, page_size %d", d.HasBaseline, d.PageSize)
			}
			for i, r := range tt.rs {
				rec := d.Results[i]
				if len(rec) != 16 {
					t.Fatalf("result %d has %d fields, want 16", i, len(rec))
				}
				ci := int(rec[0].(float64))
				if got, want := d.Cases[ci][1], string([]rune(r.CaseID)); got != want {
					t.Errorf("result %d: case id %q, want %q", i, got, want)
				}
				if got, want := d.Targets[int(rec[1].(float64))], string([]rune(r.Target)); got != want {
					t.Errorf("result %d: target %q, want %q", i, got, want)
				}
				if got, want := rec[7], string([]rune(r.Output)); got != want {
					t.Errorf("result %d: output %q, want %q", i, got, want)
				}
				pass := rec[3].(float64) == 1
				if pass != r.Pass {
					t.Errorf("result %d: pass %v, want %v", i, pass, r.Pass)
				}
				// Exactly the comparison's regressed cases are marked: one
				// definition of "regressed" for every report.
				regressed := false
				for _, c := range in.Regressions {
					regressed = regressed || (c.Suite == r.Suite && c.CaseID == r.CaseID && c.Target == r.Target)
				}
				if base := rec[11].(float64); (base == 1) != regressed {
					t.Errorf("result %d (regressed %v): baseline mark %v", i, regressed, base)
				}
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []string{
		"", "plain", `quote " backslash \`, "</script><!-- -->", "a & b > c",
		"\x00\x01\x1f\x7f", "tab\tnl\ncr\r", "\u2028\u2029", "é 漢字 🎉", "bad \xff\xfe utf8", "\uFFFD",
	}
	for _, s := range tests {
		b := appendJSONString(nil, s)
		if bytes.ContainsAny(b, "<>&\u2028\u2029") {
			t.Errorf("%q: encoding %s has unescaped characters", s, b)
		}
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q: %s does not decode: %v", s, b, err)
			continue
		}
		if want := string([]rune(s)); got != want {
			t.Errorf("%q: round trip %q", s, got)
		}
		std, _ := json.Marshal(s)
		if !bytes.Equal(b, std) && !strings.Contains(s, "\x7f") {
			t.Logf("%q: ours %s, encoding/json %s", s, b, std)
		}
	}
}

func TestTruncateText(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc\n… [3 more bytes not shown]"},
		{"ééé", 3, "é\n… [4 more bytes not shown]"}, // never splits a rune
		{"abc", -1, "abc"},
	}
	for _, tt := range tests {
		if got := truncateText(tt.s, tt.n); got != tt.want {
			t.Errorf("truncateText(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestHTMLMaxText(t *testing.T) {
	rs := sampleResults()
	rs[0].Output = strings.Repeat("x", 100_000)
	var b bytes.Buffer
	if err := HTML(&b, sampleInput(), seqOf(rs), HTMLOptions{MaxText: 1000}); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 60_000 || !strings.Contains(b.String(), "99000 more bytes not shown") {
		t.Errorf("output not cut: page is %d bytes", b.Len())
	}
}

func TestHTMLStreamError(t *testing.T) {
	seq := func(yield func(*bench.Result, error) bool) { yield(nil, fmt.Errorf("results.jsonl:9: unexpected EOF")) }
	if err := HTML(io.Discard, sampleInput(), seq, HTMLOptions{}); err == nil || !strings.Contains(err.Error(), "results.jsonl:9") {
		t.Errorf("err = %v", err)
	}
}

// countingWriter counts bytes written.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// peakHeap samples the live heap while f runs.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	return peak.Load()
}

// BenchmarkHTML100k generates the HTML report of a 100,000-case run against
// two targets (200,000 results), streaming from a lazy generator:
//
//	go test ./reports -run '^$' -bench HTML100k -benchtime 3x
func BenchmarkHTML100k(b *testing.B) {
	s := synth{suites: []string{"support", "billing"}, targets: []string{"openai:gpt-4o-mini", "ollama:llama3.1:8b"}, nCases: 100_000, repeats: 1, seed: 1}
	in := &Input{Summaries: s.summaries()}
	b.ReportAllocs()
	var size int64
	var peak uint64
	for b.Loop() {
		runtime.GC()
		var w countingWriter
		peak = max(peak, peakHeap(func() {
			if err := HTML(&w, in, s.results(false), HTMLOptions{}); err != nil {
				b.Fatal(err)
			}
		}))
		size = w.n
	}
	b.ReportMetric(float64(size)/1e6, "MB/report")
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
}

// BenchmarkJUnit100k is the same run as JUnit XML.
func BenchmarkJUnit100k(b *testing.B) {
	s := synth{suites: []string{"support", "billing"}, targets: []string{"openai:gpt-4o-mini", "ollama:llama3.1:8b"}, nCases: 100_000, repeats: 1, seed: 1}
	in := &Input{}
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		peak = max(peak, peakHeap(func() {
			if err := JUnit(io.Discard, in, s.results(false)); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
}
