package baseline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ParseError is a bad line of a baseline file.
type ParseError struct {
	File  string // name given to Read, or the path given to Load
	Line  int    // 1-based; 0 when the problem is the file as a whole
	Field string // key or column concerned; may be empty
	Msg   string
}

func (e *ParseError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return loc + ": " + e.Field + ": " + e.Msg
	}
	return loc + ": " + e.Msg
}

type parseState int

const (
	stHeader parseState = iota // file header keys
	stSuite                    // a suite's keys, before its column line
	stRows                     // case lines
	stAfter                    // after a case table: blank, comment or "suite"
)

// totals remembers a block's declared cases and pass_rate, and where.
type totals struct {
	cases, casesLine int
	rate             float64
	rateText         string
	rateLine         int
}

type parser struct {
	name    string
	b       *Baseline
	state   parseState
	line    int
	seen    map[string]int // keys of the current block → line
	head    totals
	suite   totals
	suites  map[string]bool
	formatK bool
}

var outcomeRe = regexp.MustCompile(`^(\d+)/(\d+)(?: \((\d+) errors?\))?$`)

// Read parses a baseline from r; name is used in errors. See the package
// doc for the format and the checks.
func Read(r io.Reader, name string) (*Baseline, error) {
	p := &parser{name: name, b: &Baseline{}, seen: make(map[string]int), suites: make(map[string]bool)}
	br := bufio.NewReader(r)
	for {
		text, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if text != "" || err == nil {
			p.line++
			text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
			if perr := p.parseLine(text); perr != nil {
				return nil, perr
			}
		}
		if err == io.EOF {
			break
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.b, nil
}

func (p *parser) errf(field, format string, args ...any) *ParseError {
	return &ParseError{File: p.name, Line: p.line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parseLine(text string) error {
	if p.state == stRows {
		if text == "" {
			if err := p.endSuite(); err != nil {
				return err
			}
			p.state = stAfter
			return nil
		}
		return p.parseCase(text)
	}
	if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
		return nil
	}
	if !p.formatK {
		k, v, _ := strings.Cut(text, "\t")
		if k != keyFormat {
			return p.errf("", "not a baseline file: the first line must be %q followed by a tab and the format version", keyFormat)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n != FormatVersion {
			return p.errf(keyFormat, "format version %q is not supported (this yardstick reads %d)", v, FormatVersion)
		}
		p.b.Format, p.formatK = n, true
		p.seen[keyFormat] = p.line
		return nil
	}
	if p.state == stSuite && text == columnLine {
		for _, k := range []string{keyCases, keyPassRate} {
			if _, ok := p.seen[k]; !ok {
				return p.errf(k, "missing before the case table of suite %s", p.b.Suites[len(p.b.Suites)-1].Name)
			}
		}
		p.state = stRows
		return nil
	}
	k, raw, ok := strings.Cut(text, "\t")
	if !ok {
		return p.errf("", "want \"key<TAB>value\", got %q", clip(text))
	}
	v, err := unescape(raw)
	if err != nil {
		return p.errf(k, "%v", err)
	}
	if k == keySuite {
		return p.startSuite(v)
	}
	if p.state == stAfter {
		return p.errf(k, "unexpected after a case table (want a blank line and %q)", keySuite)
	}
	if prev, dup := p.seen[k]; dup {
		return p.errf(k, "repeated (first on line %d)", prev)
	}
	p.seen[k] = p.line
	if p.state == stHeader {
		return p.headerKey(k, v)
	}
	return p.suiteKey(k, v)
}

func (p *parser) headerKey(k, v string) error {
	b := p.b
	switch k {
	case keyTarget:
		if v == "" {
			return p.errf(k, "empty")
		}
		b.Target = v
	case keyModel:
		b.Model = v
	case keyResolved:
		b.ResolvedModel = v
	case keyCreated:
		if v == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return p.errf(k, "want an RFC 3339 time, got %q", v)
		}
		b.Created = t
	case keyYardstick:
		b.Yardstick = v
	case keyCases, keyPassRate:
		return p.total(&p.head, k, v)
	case keySuiteVersion, keySuiteHash, keySettings:
		return p.errf(k, "belongs in a suite block (after a %q line)", keySuite)
	default:
		return p.errf(k, "unknown key")
	}
	return nil
}

func (p *parser) suiteKey(k, v string) error {
	s := &p.b.Suites[len(p.b.Suites)-1]
	switch k {
	case keySuiteVersion:
		s.Version = v
	case keySuiteHash:
		s.Hash = v
	case keySettings:
		if v != "" && !json.Valid([]byte(v)) {
			return p.errf(k, "not valid JSON: %q", clip(v))
		}
		s.Settings = v
	case keyCases, keyPassRate:
		return p.total(&p.suite, k, v)
	case keyTarget, keyModel, keyResolved, keyCreated, keyYardstick:
		return p.errf(k, "belongs in the file header, before the first %q line", keySuite)
	default:
		return p.errf(k, "unknown key")
	}
	return nil
}

func (p *parser) total(t *totals, k, v string) error {
	if k == keyCases {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p.errf(k, "want a count, got %q", v)
		}
		t.cases, t.casesLine = n, p.line
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return p.errf(k, "want a number in [0, 1], got %q", v)
	}
	t.rate, t.rateText, t.rateLine = f, v, p.line
	return nil
}

func (p *parser) startSuite(name string) error {
	switch p.state {
	case stHeader:
		if err := p.requireHeader(); err != nil {
			return err
		}
	case stSuite:
		return p.errf(keySuite, "the previous suite has no case table (want a %q line)", "case_id…")
	}
	if name == "" {
		return p.errf(keySuite, "empty name")
	}
	if p.suites[name] {
		return p.errf(keySuite, "suite %s appears twice", name)
	}
	if n := len(p.b.Suites); n > 0 && name < p.b.Suites[n-1].Name {
		return p.errf(keySuite, "suite %s after %s: suites must be sorted by name", name, p.b.Suites[n-1].Name)
	}
	p.suites[name] = true
	p.b.Suites = append(p.b.Suites, Suite{Name: name})
	p.seen = map[string]int{keySuite: p.line}
	p.suite = totals{}
	p.state = stSuite
	return nil
}

func (p *parser) requireHeader() *ParseError {
	for _, k := range []string{keyTarget, keyCases, keyPassRate} {
		if _, ok := p.seen[k]; !ok {
			return p.errf(k, "missing from the file header")
		}
	}
	return nil
}

func (p *parser) parseCase(text string) error {
	f := strings.Split(text, "\t")
	if len(f) != 5 {
		return p.errf("", "case line has %d tab-separated fields, want 5 (%s)", len(f), strings.ReplaceAll(columnLine, "\t", ", "))
	}
	id, err := unescape(f[0])
	if err != nil {
		return p.errf("case_id", "%v", err)
	}
	if id == "" {
		return p.errf("case_id", "empty")
	}
	s := &p.b.Suites[len(p.b.Suites)-1]
	if n := len(s.Cases); n > 0 {
		prev := s.Cases[n-1].ID
		if id == prev {
			return p.errf("case_id", "%s appears twice", id)
		}
		if id < prev {
			return p.errf("case_id", "%s after %s: cases must be sorted by ID", id, prev)
		}
	}
	c := Case{ID: id}
	if c.Repeats, err = strconv.Atoi(f[3]); err != nil || c.Repeats < 1 {
		return p.errf("repeats", "want a positive count, got %q", f[3])
	}
	switch o := f[1]; o {
	case "pass":
		c.Passed = c.Repeats
	case "fail":
	case "error":
		c.Errors = c.Repeats
	default:
		m := outcomeRe.FindStringSubmatch(o)
		if m == nil {
			return p.errf("outcome", "want pass, fail, error or P/N [(E errors)], got %q", o)
		}
		c.Passed, _ = strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if m[3] != "" {
			c.Errors, _ = strconv.Atoi(m[3])
		}
		if n != c.Repeats {
			return p.errf("outcome", "%q counts %d repeats but the repeats column says %d", o, n, c.Repeats)
		}
		if c.Passed+c.Errors > n {
			return p.errf("outcome", "%q: passes and errors exceed the repeats", o)
		}
	}
	if c.Score, err = strconv.ParseFloat(f[2], 64); err != nil || !(c.Score >= 0 && c.Score <= 1) {
		return p.errf("score", "want a number in [0, 1], got %q", f[2])
	}
	if c.Errors == c.Repeats && c.Score != 0 {
		return p.errf("score", "every repeat errored, so the score must be 0, got %s", f[2])
	}
	if h := f[4]; h != "-" {
		if h == "" || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
			return p.errf("prompt_hash", "want hex digits or \"-\", got %q", h)
		}
		c.PromptHash = strings.ToLower(h)
	}
	s.Cases = append(s.Cases, c)
	return nil
}

// endSuite checks the finished suite's totals.
func (p *parser) endSuite() error {
	s := &p.b.Suites[len(p.b.Suites)-1]
	c, r, ps := s.Counts()
	return p.checkTotals(&p.suite, "suite "+s.Name, c, r, ps)
}

func (p *parser) checkTotals(t *totals, what string, cases, results, passed int) error {
	if t.cases != cases {
		return &ParseError{File: p.name, Line: t.casesLine, Field: keyCases,
			Msg: fmt.Sprintf("%d, but %s has %d cases", t.cases, what, cases)}
	}
	want := passRate(results, passed)
	if math.Abs(t.rate-want) > 0.00005+1e-12 {
		return &ParseError{File: p.name, Line: t.rateLine, Field: keyPassRate,
			Msg: fmt.Sprintf("%s, but %s passes %d of %d results (%.4f)", t.rateText, what, passed, results, want)}
	}
	return nil
}

func (p *parser) finish() error {
	switch p.state {
	case stHeader:
		if !p.formatK {
			return &ParseError{File: p.name, Msg: "empty: not a baseline file"}
		}
		if err := p.requireHeader(); err != nil {
			err.Line = 0
			return err
		}
		return &ParseError{File: p.name, Msg: "no suite"}
	case stSuite:
		return p.errf("", "suite %s has no case table", p.b.Suites[len(p.b.Suites)-1].Name)
	case stRows:
		if err := p.endSuite(); err != nil {
			return err
		}
	}
	c, r, ps := p.b.Counts()
	return p.checkTotals(&p.head, "the file", c, r, ps)
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
