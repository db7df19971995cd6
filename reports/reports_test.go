package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"iter"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

func TestGolden(t *testing.T) {
	in := sampleInput()
	tests := []struct {
		name string
		file string
		run  func(*bytes.Buffer) error
	}{
		{"text", "report.txt", func(b *bytes.Buffer) error { return Text(b, in) }},
		{"markdown", "report.md", func(b *bytes.Buffer) error { return Markdown(b, in) }},
		{"json", "report.json", func(b *bytes.Buffer) error { return JSON(b, in) }},
		{"pr", "pr.md", func(b *bytes.Buffer) error { return PR(b, in, PROptions{}) }},
		{"junit", "junit.xml", func(b *bytes.Buffer) error { return JUnit(b, in, seqOf(sampleResults())) }},
		{"empty text", "empty.txt", func(b *bytes.Buffer) error { return Text(b, &Input{}) }},
		{"empty json", "empty.json", func(b *bytes.Buffer) error { return JSON(b, &Input{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.run(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.Bytes())
		})
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name     string
		outcomes []gate.Outcome
		want     Verdict
		line     string
	}{
		{"none", nil, VerdictNone, "no thresholds set"},
		{"one pass", []gate.Outcome{{Pass: true}}, VerdictPass, "the threshold passed"},
		{"all pass", []gate.Outcome{{Pass: true}, {Pass: true}}, VerdictPass, "all 2 thresholds passed"},
		{"one fails", []gate.Outcome{{Pass: true}, {Pass: false}, {Pass: true}}, VerdictFail, "1 of 3 thresholds crossed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &Input{Outcomes: tt.outcomes}
			if got := in.Verdict(); got != tt.want {
				t.Errorf("Verdict() = %q, want %q", got, tt.want)
			}
			if got := in.verdictLine(); got != tt.line {
				t.Errorf("verdictLine() = %q, want %q", got, tt.line)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtDur(420 * time.Microsecond), "420µs"},
		{fmtDur(4200 * time.Microsecond), "4.20ms"},
		{fmtDur(42 * time.Millisecond), "42.0ms"},
		{fmtDur(812 * time.Millisecond), "812ms"},
		{fmtDur(1840 * time.Millisecond), "1.84s"},
		{fmtDur(18400 * time.Millisecond), "18.4s"},
		{fmtDur(184 * time.Second), "3m04s"},
		{fmtDur(0), "—"},
		{fmtRate(stats.Interval{Value: 0.912, Low: 0.881, High: 0.936}, 10), "91.2% [88.1, 93.6]"},
		{fmtRate(stats.Interval{Value: 0.912}, 0), "—"},
		{fmtScore(stats.Interval{Value: 0.5, Low: 0.4, High: 0.6}, 3), "0.500 [0.400, 0.600]"},
		{fmtUSD(0.000123), "$0.00012"},
		{fmtUSD(0.0412), "$0.0412"},
		{fmtUSD(12.5), "$12.50"},
		{fmtCount(950), "950"},
		{fmtCount(12345), "12.3k"},
		{fmtCount(4_560_000), "4.56M"},
		{fmtP(0.0004), "<0.001"},
		{fmtP(0.0412), "0.041"},
		{fmtDelta(compare.Row{Metric: "pass_rate", Delta: stats.Interval{Value: -0.038, Low: -0.061, High: -0.015}}), "-3.8pp [-6.1, -1.5]"},
		{fmtDelta(compare.Row{Metric: "score", Delta: stats.Interval{Value: 0.012, Low: -0.004, High: 0.03}}), "+0.012 [-0.004, +0.030]"},
		{fmtDelta(compare.Row{Metric: "score", Delta: stats.Interval{Value: -0.3, Low: -0.6, High: 0}}), "-0.300 [-0.600, 0.000]"},
		{fmtDelta(compare.Row{Metric: "score", Delta: stats.Interval{Value: 0.2, Low: -0.0001, High: 0.4}}), "+0.200 [0.000, +0.400]"},
		{fmtDelta(compare.Row{Metric: "pass_rate", Delta: stats.Interval{Value: 0, Low: -0.1, High: 0.1}}), "±0.0pp [-10.0, +10.0]"},
		{fmtDelta(compare.Row{Metric: "pass_rate", Delta: stats.Interval{Value: 0.05, Low: 0, High: 0.1}}), "+5.0pp [0.0, +10.0]"},
		{fmtMetricValue("pass_rate", 0.9, stats.Interval{Value: 0.9, Low: 0.8, High: 0.95}), "90.0% [80.0, 95.0]"},
		{fmtMetricValue("score", 0.61, stats.Interval{Value: 0.61, Low: 0.562, High: 0.657}), "0.610 [0.562, 0.657]"},
		{fmtMetricValue("score", 0.61, stats.Interval{}), "0.610"},                                                 // row without intervals
		{fmtMetricValue("pass_rate", 0.6, stats.Interval{Value: 0.6, Low: math.NaN(), High: math.NaN()}), "60.0%"}, // undefined interval
		{fmtMetricValue("score", 0.61, stats.Interval{Value: 0.8, Low: 0.7, High: 0.9}), "0.610"},                  // does not bracket the value
		{change(compare.Row{Significant: false, Delta: stats.Interval{Value: -0.3}}), "~"},
		{change(compare.Row{Significant: true, Delta: stats.Interval{Value: -0.3}}), "worse"},
		{excerpt("a\n\n  b   c", 20), "a⏎ ⏎ b c"},
		{excerpt("abcdef", 3), "abc…"},
		{fmtInt(1234567), "1,234,567"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

// cells splits a Markdown table row on unescaped pipes.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	var out []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row):
			cur.WriteByte(row[i])
			cur.WriteByte(row[i+1])
			i++
		case row[i] == '|':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	out = append(out, cur.String())
	return out[1 : len(out)-1] // leading and trailing border
}

// hostile strings that must never change a document's structure.
var hostile = []struct{ name, s string }{
	{"pipe", "a|b||c"},
	{"newline", "line1\nline2\r\nline3"},
	{"backticks", "``code` ``"},
	{"html", `<img src=x onerror="alert(1)"><script>alert(1)</script>`},
	{"link", "[click](javascript:alert(1)) ![img](http://x/y.png)"},
	{"ansi", "\x1b[31mred\x1b[0m\x07"},
	{"xml-invalid", "nul\x00 esc\x1b ffff\uffff fffe\ufffe bad\xff\xfe"},
	{"cdata", "]]><![CDATA[x]]>"},
	{"entities", "&amp; &lt; &#x3c;"},
	{"separators", "a\u2028b\u2029c"},
	{"backslash pipe", `a\|b\`},
}

func hostileInput(s string) *Input {
	in := sampleInput()
	in.Meta.Title = s
	in.Meta.RunID = s
	for i := range in.Summaries {
		in.Summaries[i].Target = s + strconv.Itoa(i)
		in.Summaries[i].ErrorsByKind = map[providersKind]int{providersKind(s): 2}
		in.Summaries[i].Errors = 2
	}
	for i := range in.Outcomes {
		in.Outcomes[i].Threshold = s
		in.Outcomes[i].Source = s
		in.Outcomes[i].Display = s
		in.Outcomes[i].Reason = s
		in.Outcomes[i].Group = s
	}
	for i := range in.Comparisons {
		in.Comparisons[i].A = s
		in.Comparisons[i].Suite = s
	}
	for i := range in.Regressions {
		in.Regressions[i].CaseID = s
		in.Regressions[i].Output = s
		in.Regressions[i].Reason = s
	}
	for i := range in.Flaky {
		in.Flaky[i].CaseID = s
		in.Flaky[i].Target = s
	}
	for i := range in.Costs {
		in.Costs[i].A = s
		in.Costs[i].Suite = s
	}
	in.Warnings = append(in.Warnings, s)
	return in
}

func TestMarkdownEscaping(t *testing.T) {
	reports := []struct {
		name string
		run  func(*bytes.Buffer, *Input) error
	}{
		{"markdown", func(b *bytes.Buffer, in *Input) error { return Markdown(b, in) }},
		{"pr", func(b *bytes.Buffer, in *Input) error { return PR(b, in, PROptions{}) }},
	}
	for _, rep := range reports {
		for _, h := range hostile {
			t.Run(rep.name+"/"+h.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := rep.run(&b, hostileInput(h.s)); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				if !utf8.ValidString(out) {
					t.Error("output is not valid UTF-8")
				}
				for _, bad := range []string{"\x1b", "\x00", "\u2028"} {
					if strings.Contains(out, bad) {
						t.Errorf("output contains %q", bad)
					}
				}
				for _, line := range strings.Split(out, "\n") {
					if p := liveMarkup(line); p != "" {
						t.Errorf("unescaped %q in line %q", p, line)
					}
				}
				// Every row of a table has as many cells as its header.
				lines := strings.Split(out, "\n")
				for i := 0; i < len(lines); i++ {
					if !strings.HasPrefix(lines[i], "|") {
						continue
					}
					want := len(cells(lines[i]))
					for i++; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
						if got := len(cells(lines[i])); got != want {
							t.Errorf("row %q has %d cells, header has %d", lines[i], got, want)
						}
					}
				}
			})
		}
	}
}

// liveMarkup returns the first piece of line, outside code spans, that
// GitHub would read as HTML (a "<" opening a tag other than our <sub>) or as
// a link or image ("](" not escaped); "" when there is none.
func liveMarkup(line string) string {
	// Drop code spans: a run of n backticks up to the next run of exactly n.
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] == '\\' && i+1 < len(line) {
			b.WriteString(line[i : i+2])
			i += 2
			continue
		}
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		end := -1
		for j := i + n; j < len(line); {
			k := strings.Index(line[j:], fence)
			if k < 0 {
				break
			}
			k += j
			m := 0
			for k+m < len(line) && line[k+m] == '`' {
				m++
			}
			if m == n {
				end = k
				break
			}
			j = k + m
		}
		if end < 0 {
			b.WriteString(fence)
			i += n
			continue
		}
		i = end + n
	}
	s := strings.ReplaceAll(strings.ReplaceAll(b.String(), "<sub>", ""), "</sub>", "")
	for i := 0; i < len(s); i++ {
		escaped := i > 0 && s[i-1] == '\\'
		if escaped {
			continue
		}
		if s[i] == '<' && i+1 < len(s) && (s[i+1] == '/' || s[i+1] == '!' || s[i+1] == '?' || (s[i+1]|0x20 >= 'a' && s[i+1]|0x20 <= 'z')) {
			return s[i:min(len(s), i+12)]
		}
		if strings.HasPrefix(s[i:], "](") {
			return s[i:min(len(s), i+12)]
		}
	}
	return ""
}

func TestLiveMarkup(t *testing.T) {
	tests := []struct{ line, want string }{
		{"plain <0.001 text", ""},
		{"<sub>note</sub>", ""},
		{"a <img src=x>", "<img src=x>"},
		{`a \<img src=x>`, ""},
		{"`<img src=x>` ok", ""},
		{"``a ` <b>`` ok", ""},
		{"[x](javascript:1)", "](javascript"},
		{`[x\](javascript:1)`, ""},
	}
	for _, tt := range tests {
		if got := liveMarkup(tt.line); got != tt.want {
			t.Errorf("liveMarkup(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestMarkdownCodeSpan(t *testing.T) {
	tests := []struct {
		in   string
		cell bool
		want string
	}{
		{"plain", true, "`plain`"},
		{"a|b", true, "`a\\|b`"},
		{"a|b", false, "`a|b`"},
		{"a`b", true, "``a`b``"},
		{`a\|b`, true, `a\\\|b`},
		{`a\|b`, false, "`a\\|b`"},
		{"`x`", true, "`` `x` ``"},
		{"a\nb", true, "`a⏎b`"},
		{"", true, ""},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in, tt.cell); got != tt.want {
			t.Errorf("mdCode(%q, %v) = %q, want %q", tt.in, tt.cell, got, tt.want)
		}
	}
}

func TestTextIsTerminalSafe(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, hostileInput(h.s)); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, c := range out {
				if c != '\n' && (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
					t.Fatalf("control character %U in the text report", c)
				}
			}
			if !utf8.ValidString(out) {
				t.Error("output is not valid UTF-8")
			}
		})
	}
}

func TestJSONHostile(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			in := hostileInput(h.s)
			in.Summaries[0].Score.Low = nan()
			var b bytes.Buffer
			if err := JSON(&b, in); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Verdict   string `json:"verdict"`
				Summaries []struct {
					Target string                 `json:"target"`
					Score  struct{ Low *float64 } `json:"score"`
				} `json:"summaries"`
			}
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Verdict != "fail" {
				t.Errorf("verdict %q", doc.Verdict)
			}
			if doc.Summaries[0].Score.Low != nil {
				t.Errorf("NaN became %v, want null", *doc.Summaries[0].Score.Low)
			}
			if want := string([]rune(h.s)) + "0"; doc.Summaries[0].Target != want { // invalid bytes: one U+FFFD each
				t.Errorf("target round-tripped as %q, want %q", doc.Summaries[0].Target, want)
			}
		})
	}
}

// ---- JUnit ----

type xSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Attrs   []xml.Attr `xml:",any,attr"`
	Suites  []xSuite   `xml:"testsuite"`
}

type xSuite struct {
	ID        string  `xml:"id,attr"`
	Package   string  `xml:"package,attr"`
	Name      string  `xml:"name,attr"`
	Timestamp string  `xml:"timestamp,attr"`
	Hostname  string  `xml:"hostname,attr"`
	Tests     int     `xml:"tests,attr"`
	Failures  int     `xml:"failures,attr"`
	Errors    int     `xml:"errors,attr"`
	Skipped   int     `xml:"skipped,attr"`
	Time      string  `xml:"time,attr"`
	Props     []xProp `xml:"properties>property"`
	Cases     []xCase `xml:"testcase"`
	SystemOut *string `xml:"system-out"`
	SystemErr *string `xml:"system-err"`
}

type xProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	Failure   *xMsg  `xml:"failure"`
	Error     *xMsg  `xml:"error"`
	Skipped   *xMsg  `xml:"skipped"`
}

type xMsg struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

var (
	isoNoZone = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
	decimal   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

// checkJUnitSchema checks the rules of the Apache Ant JUnit schema that CI
// systems read: required attributes and their types, and the child order
// properties, testcase*, system-out, system-err.
func checkJUnitSchema(t *testing.T, doc []byte) xSuites {
	t.Helper()
	var s xSuites
	if err := xml.Unmarshal(doc, &s); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	if len(s.Attrs) != 0 {
		t.Errorf("<testsuites> has attributes %v; the schema allows none", s.Attrs)
	}
	for i, su := range s.Suites {
		if su.ID != strconv.Itoa(i) {
			t.Errorf("suite %d: id %q", i, su.ID)
		}
		if su.Name == "" || su.Package == "" || su.Hostname == "" {
			t.Errorf("suite %d: name %q package %q hostname %q must be non-empty", i, su.Name, su.Package, su.Hostname)
		}
		if !isoNoZone.MatchString(su.Timestamp) {
			t.Errorf("suite %q: timestamp %q is not ISO 8601 without a zone", su.Name, su.Timestamp)
		}
		if !decimal.MatchString(su.Time) {
			t.Errorf("suite %q: time %q is not a decimal", su.Name, su.Time)
		}
		if su.SystemOut == nil || su.SystemErr == nil {
			t.Errorf("suite %q: system-out and system-err are required", su.Name)
		}
		fails, errs := 0, 0
		var total float64
		for _, c := range su.Cases {
			if c.Name == "" || c.Classname == "" || !decimal.MatchString(c.Time) {
				t.Errorf("suite %q: bad testcase %+v", su.Name, c)
			}
			n := 0
			if c.Failure != nil {
				fails++
				n++
				if c.Failure.Type == "" {
					t.Errorf("%s: failure without type", c.Name)
				}
			}
			if c.Error != nil {
				errs++
				n++
				if c.Error.Type == "" {
					t.Errorf("%s: error without type", c.Name)
				}
			}
			if n > 1 {
				t.Errorf("%s: more than one of failure/error/skipped", c.Name)
			}
			x, _ := strconv.ParseFloat(c.Time, 64)
			total += x
		}
		if su.Tests != len(su.Cases) || su.Failures != fails || su.Errors != errs {
			t.Errorf("suite %q: tests/failures/errors = %d/%d/%d, counted %d/%d/%d", su.Name, su.Tests, su.Failures, su.Errors, len(su.Cases), fails, errs)
		}
		if got, _ := strconv.ParseFloat(su.Time, 64); got < total-0.01*float64(len(su.Cases))-0.001 || got > total+0.01*float64(len(su.Cases))+0.001 {
			t.Errorf("suite %q: time %s, testcases sum to %.3f", su.Name, su.Time, total)
		}
	}
	// Child order inside each testsuite.
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth, state := 0, 0
	order := map[string]int{"properties": 1, "testcase": 2, "system-out": 3, "system-err": 4}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if e.Name.Local == "testsuite" {
				state = 0
			}
			if depth == 3 {
				o := order[e.Name.Local]
				if o == 0 || o < state || (o == state && o != 2) {
					t.Errorf("testsuite child <%s> out of order", e.Name.Local)
				}
				state = o
			}
		case xml.EndElement:
			if depth == 2 && state != 4 {
				t.Errorf("testsuite ends after <%d>, want system-err last", state)
			}
			depth--
		}
	}
	return s
}

func TestJUnit(t *testing.T) {
	in := sampleInput()
	var b bytes.Buffer
	if err := JUnit(&b, in, seqOf(sampleResults())); err != nil {
		t.Fatal(err)
	}
	doc := checkJUnitSchema(t, b.Bytes())
	byName := map[string]xSuite{}
	for _, s := range doc.Suites {
		byName[s.Name] = s
	}
	tests := []struct {
		suite             string
		tests, fail, errs int
		names             []string
	}{
		{"math.ollama:llama3.1:8b", 1, 0, 0, []string{"gsm-1"}},
		{"math.openai:gpt-4o-mini", 1, 0, 0, []string{"gsm-1"}},
		{"support.ollama:llama3.1:8b", 2, 1, 1, []string{"refund-17#0", "order-204#0"}}, // repeated target: always #repeat
		{"support.openai:gpt-4o-mini", 2, 1, 0, []string{"refund-17#0", "refund-17#1"}},
		{"thresholds", 3, 2, 0, []string{"pass_rate >= 0.85 {suite:support}", "latency p(95) < 2s", "delta(pass_rate) >= -0.02"}},
	}
	if len(doc.Suites) != len(tests) {
		t.Fatalf("%d testsuites, want %d", len(doc.Suites), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.suite, func(t *testing.T) {
			s, ok := byName[tt.suite]
			if !ok {
				t.Fatalf("no testsuite %q", tt.suite)
			}
			if s.Tests != tt.tests || s.Failures != tt.fail || s.Errors != tt.errs {
				t.Errorf("tests/failures/errors = %d/%d/%d, want %d/%d/%d", s.Tests, s.Failures, s.Errors, tt.tests, tt.fail, tt.errs)
			}
			for i, c := range s.Cases {
				if c.Name != tt.names[i] {
					t.Errorf("testcase %d name %q, want %q", i, c.Name, tt.names[i])
				}
				if tt.suite != "thresholds" && c.Classname != tt.suite {
					t.Errorf("classname %q, want %q", c.Classname, tt.suite)
				}
			}
		})
	}
	sup := byName["support.ollama:llama3.1:8b"]
	if e := sup.Cases[1].Error; e == nil || e.Type != "timeout" || e.Message != "context deadline exceeded" {
		t.Errorf("error testcase: %+v", e)
	}
	f := sup.Cases[0].Failure
	if f == nil || f.Type != "choice" || f.Message != "not a label" {
		t.Fatalf("failure: %+v", f)
	}
	// Hostile output survives escaping as text; XML-invalid characters
	// become U+FFFD.
	for _, want := range []string{"<script>alert(1)</script>", `& "quotes" ]]>`, "\uFFFD[31m", "expected: refund_request"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Text)
		}
	}
	if strings.ContainsAny(f.Text, "\x00\x1b\uFFFE") {
		t.Errorf("failure text kept XML-invalid characters: %q", f.Text)
	}
	if got := byName["support.openai:gpt-4o-mini"].Props; len(got) == 0 || got[0] != (xProp{"suite", "support"}) {
		t.Errorf("properties %v", got)
	}
	th := byName["thresholds"].Cases[1].Failure
	if th == nil || th.Message != "observed 4.40s (n=800)" {
		t.Errorf("threshold failure %+v", th)
	}
}

func TestJUnitHostile(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			rs := sampleResults()
			for _, r := range rs {
				r.CaseID, r.Target, r.Suite, r.Output, r.Reason = h.s, h.s, h.s, h.s, h.s
				if r.Error != nil {
					r.Error.Message = h.s
					r.Error.Kind = providersKind(h.s)
				}
			}
			in := hostileInput(h.s)
			var b bytes.Buffer
			if err := JUnit(&b, in, seqOf(rs)); err != nil {
				t.Fatal(err)
			}
			checkJUnitSchema(t, b.Bytes())
		})
	}
}

func TestJUnitStreamError(t *testing.T) {
	boom := errors.New("results.jsonl:3: bad line")
	seq := func(yield func(*bench.Result, error) bool) {
		if !yield(sampleResults()[0], nil) {
			return
		}
		yield(nil, boom)
	}
	var b bytes.Buffer
	if err := JUnit(&b, sampleInput(), seq); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %d bytes before failing", b.Len())
	}
}

// TestJUnitXSD validates against an XSD when one is given (the Apache Ant
// JUnit schema, e.g. windyroad/JUnit-Schema's JUnit.xsd) and xmllint exists:
//
//	YARDSTICK_JUNIT_XSD=/path/JUnit.xsd go test ./reports -run JUnitXSD
func TestJUnitXSD(t *testing.T) {
	xsd := os.Getenv("YARDSTICK_JUNIT_XSD")
	if xsd == "" {
		t.Skip("YARDSTICK_JUNIT_XSD not set; the schema rules are checked by TestJUnit without it")
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed")
	}
	inputs := append([]struct{ name, s string }{{"spaces", "  spaced\tname\n"}, {"empty", ""}}, hostile...)
	for _, h := range inputs {
		t.Run(h.name, func(t *testing.T) {
			rs := sampleResults()
			for _, r := range rs {
				r.CaseID, r.Target, r.Suite, r.Output, r.Reason = h.s, h.s, h.s, h.s, h.s
			}
			var b bytes.Buffer
			if err := JUnit(&b, hostileInput(h.s), seqOf(rs)); err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "junit.xml")
			if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(xmllint, "--noout", "--schema", xsd, f).CombinedOutput()
			if err != nil {
				t.Fatalf("xmllint: %v\n%s", err, out)
			}
		})
	}
}

// ---- PR size cap ----

func TestPRSizeCap(t *testing.T) {
	big := func(nReg, nFlaky, outLen int) *Input {
		in := sampleInput()
		in.Regressions = nil
		in.Flaky = nil
		for i := range nReg {
			in.Regressions = append(in.Regressions, compare.CaseChange{
				Suite: "support", CaseID: "case-" + strconv.Itoa(i), Target: "openai:gpt-4o-mini", APassed: 1, ARuns: 1, BRuns: 1, AScore: 1,
				Reason: strings.Repeat("reason ", 30), Output: strings.Repeat("x|y ", outLen/4),
			})
		}
		for i := range nFlaky {
			in.Flaky = append(in.Flaky, FlakyCase{Suite: "support", Target: "openai:gpt-4o-mini", CaseID: "flaky-" + strconv.Itoa(i), Passed: 1, Runs: 3})
		}
		return in
	}
	manyRows := func() *Input {
		in := big(50, 50, 200)
		for i := range 3000 {
			in.Comparisons = append(in.Comparisons, compare.Row{Suite: "s" + strconv.Itoa(i), Metric: "pass_rate", A: "a", B: "b", N: 10})
		}
		return in
	}
	tests := []struct {
		name       string
		in         *Input
		opts       PROptions
		wantMore   []string // "…and N more" lines expected
		wantNoMore bool
	}{
		{"fits", big(3, 2, 100), PROptions{}, nil, true},
		{"default case cap", big(40, 30, 100), PROptions{}, []string{"…and 15 more", "…and 5 more"}, false},
		{"10k regressions with long outputs", big(10_000, 10_000, 20_000), PROptions{MaxCases: 100_000, ExcerptLen: 5000}, []string{"more"}, false},
		{"tables too long", manyRows(), PROptions{}, []string{"more"}, false},
		{"small limit", big(100, 100, 100), PROptions{MaxBytes: 2000}, []string{"…and 100 more", "…and 2 more"}, false},
		{"tiny limit", big(100, 100, 100), PROptions{MaxBytes: 400}, []string{"truncated"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := PR(&b, tt.in, tt.opts); err != nil {
				t.Fatal(err)
			}
			limit := tt.opts.MaxBytes
			if limit == 0 {
				limit = GitHubCommentLimit
			}
			if b.Len() > limit {
				t.Errorf("report is %d bytes, limit %d", b.Len(), limit)
			}
			if !utf8.Valid(b.Bytes()) {
				t.Error("report is not valid UTF-8")
			}
			out := b.String()
			if !strings.HasPrefix(out, "## ❌") {
				t.Errorf("verdict is not first: %.80q", out)
			}
			for _, m := range tt.wantMore {
				if !strings.Contains(out, m) {
					t.Errorf("report lacks %q", m)
				}
			}
			if tt.wantNoMore && strings.Contains(out, "more\n") {
				t.Errorf("report truncated a list though it fits")
			}
			// Lists are shortened, not dropped, while there is room: the
			// counts in "…and N more" add up with the rows shown.
			if tt.name == "10k regressions with long outputs" {
				shown := strings.Count(out, "| support | `case-")
				m := regexp.MustCompile(`(?s)### Most regressed cases \(10000\).*?…and (\d+) more`).FindStringSubmatch(out)
				if m == nil {
					t.Fatal("no …and N more after the regressions")
				}
				more, _ := strconv.Atoi(m[1])
				if shown+more != 10_000 || shown == 0 {
					t.Errorf("shown %d + more %d != 10000", shown, more)
				}
				if b.Len() < limit*3/4 {
					t.Errorf("report uses %d of %d bytes: lists were cut more than needed", b.Len(), limit)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	in := sampleInput()
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			rep, err := New(f, in, seqOf(sampleResults()))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := rep(&b); err != nil {
				t.Fatal(err)
			}
			if b.Len() == 0 {
				t.Error("empty report")
			}
		})
	}
	if _, err := New("yaml", in, nil); err == nil || !strings.Contains(err.Error(), "want one of") {
		t.Errorf("unknown format: err = %v", err)
	}
	if _, err := New("junit", in, nil); err == nil {
		t.Error("junit without results: no error")
	}
}

// helpers to keep the hostile tables short.
type providersKind = providers.Kind

func nan() float64 { var z float64; return z / z }

var _ iter.Seq2[*bench.Result, error] = seqOf(nil)
