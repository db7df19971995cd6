package gate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/yardstick-eval/yardstick/internal/suggest"
)

// ParseError is an invalid threshold expression, syntactic or semantic.
type ParseError struct {
	Expr string // the expression, trimmed
	Col  int    // 1-based column, in characters, of the offending token; 0 when unknown
	Msg  string
}

// Error reads `threshold "latency p95 < 2s": col 9: unknown aggregation "p95";
// did you mean "p(95)"?`.
func (e *ParseError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("threshold %q: col %d: %s", e.Expr, e.Col, e.Msg)
	}
	return fmt.Sprintf("threshold %q: %s", e.Expr, e.Msg)
}

// Caret renders the expression with a caret under the column, for terminals:
//
//	latency p95 < 2s
//	        ^ unknown aggregation "p95"; did you mean "p(95)"?
func (e *ParseError) Caret() string {
	if e.Col <= 0 {
		return e.Expr + "\n" + e.Msg
	}
	return e.Expr + "\n" + strings.Repeat(" ", e.Col-1) + "^ " + e.Msg
}

// Parse parses and validates one threshold expression (see the package doc
// for the grammar). The returned Threshold has its default aggregation
// resolved and its value converted to base units; Source is left empty for
// the caller. Every error is a *ParseError.
func Parse(expr string) (Threshold, error) {
	s := strings.TrimSpace(expr)
	p := &parser{src: []rune(s), expr: s}
	t, err := p.threshold()
	if err != nil {
		return Threshold{}, err
	}
	t.Expr = s
	if err := t.Validate(); err != nil {
		return Threshold{}, err
	}
	if t.Agg == AggDefault {
		t.Agg = defaultAgg(t.Metric, t.Delta, t.Op)
	}
	return t, nil
}

// Check is Parse for callers that only need to know whether expr is valid,
// such as suites.Load's ValidateThreshold option.
func Check(expr string) error {
	_, err := Parse(expr)
	return err
}

type parser struct {
	src  []rune
	i    int
	expr string
}

func (p *parser) col() int  { return p.i + 1 }
func (p *parser) eof() bool { return p.i >= len(p.src) }
func (p *parser) peek() rune {
	if p.eof() {
		return 0
	}
	return p.src[p.i]
}

func (p *parser) skip() {
	for !p.eof() && unicode.IsSpace(p.src[p.i]) {
		p.i++
	}
}

func (p *parser) fail(col int, format string, args ...any) error {
	return &ParseError{Expr: p.expr, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func isLetter(r rune) bool { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
func isDigit(r rune) bool  { return r >= '0' && r <= '9' }

// ident reads [A-Za-z_][A-Za-z0-9_]*, or returns "".
func (p *parser) ident() string {
	if !isLetter(p.peek()) {
		return ""
	}
	start := p.i
	for !p.eof() && (isLetter(p.src[p.i]) || isDigit(p.src[p.i])) {
		p.i++
	}
	return string(p.src[start:p.i])
}

// token describes what is at the cursor, for error messages: a run of
// non-space characters up to a delimiter, at most 20 characters.
func (p *parser) token() string {
	if p.eof() {
		return "end of input"
	}
	end := p.i + 1
	if !strings.ContainsRune("(){},", p.src[p.i]) {
		for end < len(p.src) && end-p.i < 20 && !unicode.IsSpace(p.src[end]) && !strings.ContainsRune("(){},", p.src[end]) {
			end++
		}
	}
	return string(p.src[p.i:end])
}

func (p *parser) threshold() (Threshold, error) {
	var t Threshold
	p.skip()
	if p.eof() {
		return t, p.fail(1, "empty threshold; expected a metric such as pass_rate")
	}
	col := p.col()
	name := p.ident()
	if name == "" {
		return t, p.fail(col, "expected a metric name, found %q", p.token())
	}
	subject := name
	if name == "delta" {
		p.skip()
		if p.peek() != '(' {
			return t, p.fail(p.col(), `expected "(" after delta, as in delta(pass_rate)`)
		}
		p.i++
		p.skip()
		col = p.col()
		name = p.ident()
		if name == "" {
			return t, p.fail(col, "expected a metric name after delta(, found %q", p.token())
		}
		t.Delta = true
	}
	if _, ok := metrics[Metric(name)]; !ok {
		return t, p.fail(col, "unknown metric %q%s", name, suggest.Hint(name, metricNames()))
	}
	t.Metric, t.metricCol = Metric(name), col
	if t.Delta && t.Metric != PassRate && t.Metric != Score {
		return t, p.fail(col, "delta applies to pass_rate and score only, not %s", name)
	}
	p.skip()
	if p.peek() == '{' {
		fs, err := p.filters()
		if err != nil {
			return t, err
		}
		t.Filters = fs
		p.skip()
	}
	if t.Delta {
		if p.peek() != ')' {
			return t, p.fail(p.col(), `expected ")" to close delta(%s, found %q`, name, p.token())
		}
		p.i++
		subject = "delta(" + name + ")"
		p.skip()
		if p.peek() == '{' {
			return t, p.fail(p.col(), "put the filter inside delta(…), as in delta(%s{key:value})", name)
		}
	}

	// Aggregation.
	p.skip()
	t.aggCol = p.col()
	if isLetter(p.peek()) {
		if err := p.aggregation(&t); err != nil {
			return t, err
		}
		subject += " " + string(t.Agg)
		p.skip()
	}

	// Comparison.
	ccol := p.col()
	start := p.i
	for !p.eof() && strings.ContainsRune("<>=!", p.src[p.i]) {
		p.i++
	}
	op := string(p.src[start:p.i])
	switch Op(op) {
	case Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual:
		t.Op = Op(op)
	case "":
		if p.eof() {
			return t, p.fail(ccol, "expected a comparison (<, <=, >, >=, ==, !=) after %s", subject)
		}
		return t, p.fail(ccol, "expected a comparison (<, <=, >, >=, ==, !=), found %q", p.token())
	case "=":
		return t, p.fail(ccol, `"=" is not a comparison; use "==" for equality`)
	case "=>":
		return t, p.fail(ccol, `unknown comparison "=>"; did you mean ">="?`)
	case "=<":
		return t, p.fail(ccol, `unknown comparison "=<"; did you mean "<="?`)
	default:
		return t, p.fail(ccol, "unknown comparison %q; use <, <=, >, >=, == or !=", op)
	}
	if t.Agg == AggDefault {
		t.aggCol = ccol // where an aggregation would have gone
	}

	// Quantity.
	p.skip()
	vcol := p.col()
	t.valueCol = vcol
	if p.eof() {
		return t, p.fail(vcol, "expected a number after %s", op)
	}
	neg := false
	if r := p.peek(); r == '-' || r == '+' {
		neg = r == '-'
		p.i++
	}
	dollarCol := 0
	if p.peek() == '$' {
		dollarCol = p.col()
		p.i++
	}
	ncol := p.col()
	v, ok := p.number()
	if !ok {
		return t, p.fail(ncol, "expected a number, found %q", p.token())
	}
	written := string(p.src[vcol-1 : p.i])
	if neg {
		v = -v
	}
	ucol := p.col()
	ustart := p.i
	for !p.eof() && (unicode.IsLetter(p.src[p.i]) || p.src[p.i] == '%') {
		p.i++
	}
	unit := string(p.src[ustart:p.i])
	if dollarCol > 0 {
		if unit != "" {
			return t, p.fail(ucol, "unexpected unit %q after a dollar amount", unit)
		}
		unit, ucol = "$", dollarCol
	}
	v, err := p.convert(&t, v, unit, ucol)
	if err != nil {
		return t, err
	}
	t.Value, t.Unit = v, unit

	p.skip()
	if !p.eof() {
		rest := p.token()
		if unit == "" && isUnit(rest) {
			return t, p.fail(p.col(), "unexpected %q after the value; write the unit right after the number, as in %s%s",
				rest, written, rest)
		}
		return t, p.fail(p.col(), "unexpected %q after the value", rest)
	}
	return t, nil
}

func isUnit(s string) bool {
	switch s {
	case "%", "$", "ns", "us", "µs", "μs", "ms", "s", "m", "h":
		return true
	}
	return false
}

var aggNames = []string{"value", "rate", "ci_low", "ci_high", "mean", "avg", "min", "max", "med", "p", "sum", "count"}

func (p *parser) aggregation(t *Threshold) error {
	acol := p.col()
	a := p.ident()
	switch a {
	case "value", "rate", "ci_low", "ci_high", "mean", "min", "max", "sum", "count":
		t.Agg = Agg(a)
	case "avg":
		t.Agg = AggMean
	case "med":
		t.Agg, t.P = AggPercentile, 50
	case "p":
		p.skip()
		if p.peek() != '(' {
			return p.fail(p.col(), `expected "(" after p, as in p(95)`)
		}
		p.i++
		p.skip()
		ncol := p.col()
		v, ok := p.number()
		if !ok {
			return p.fail(ncol, "expected a percentile between 0 and 100 in p(…), found %q", p.token())
		}
		p.skip()
		if p.peek() != ')' {
			return p.fail(p.col(), `expected ")" to close p(%s, found %q`, strconv.FormatFloat(v, 'g', -1, 64), p.token())
		}
		p.i++
		t.Agg, t.P = AggPercentile, v
	default:
		if len(a) > 1 && a[0] == 'p' && isDigit(rune(a[1])) && strings.TrimLeft(a[1:], "0123456789") == "" {
			n := a[1:]
			if p.peek() == '.' { // p99.9 reads as "p99" then ".9"
				start := p.i
				p.i++
				for !p.eof() && isDigit(p.src[p.i]) {
					p.i++
				}
				n += string(p.src[start:p.i])
				a += string(p.src[start:p.i])
			}
			return p.fail(acol, "unknown aggregation %q; did you mean \"p(%s)\"?", a, n)
		}
		return p.fail(acol, "unknown aggregation %q%s", a, suggest.Hint(a, aggNames))
	}
	return nil
}

// number reads digits [. digits] [exponent] or . digits [exponent].
func (p *parser) number() (float64, bool) {
	start := p.i
	digits := 0
	for !p.eof() && isDigit(p.src[p.i]) {
		p.i++
		digits++
	}
	if p.peek() == '.' && p.i+1 < len(p.src) && isDigit(p.src[p.i+1]) {
		p.i++
		for !p.eof() && isDigit(p.src[p.i]) {
			p.i++
			digits++
		}
	}
	if digits == 0 {
		p.i = start
		return 0, false
	}
	if r := p.peek(); r == 'e' || r == 'E' {
		j := p.i + 1
		if j < len(p.src) && (p.src[j] == '-' || p.src[j] == '+') {
			j++
		}
		if j < len(p.src) && isDigit(p.src[j]) {
			p.i = j
			for !p.eof() && isDigit(p.src[p.i]) {
				p.i++
			}
		}
	}
	v, err := strconv.ParseFloat(string(p.src[start:p.i]), 64)
	if err != nil { // out of range
		p.i = start
		return 0, false
	}
	return v, true
}

func (p *parser) filters() ([]Filter, error) {
	open := p.col()
	p.i++ // '{'
	p.skip()
	if p.peek() == '}' {
		return nil, p.fail(open, "empty filter; write {key:value}")
	}
	var fs []Filter
	for {
		p.skip()
		kcol := p.col()
		start := p.i
		if isLetter(p.peek()) {
			for !p.eof() && (isLetter(p.src[p.i]) || isDigit(p.src[p.i]) || p.src[p.i] == '-' || p.src[p.i] == '.') {
				p.i++
			}
		}
		key := string(p.src[start:p.i])
		if key == "" {
			if p.eof() {
				return nil, p.fail(kcol, `unterminated filter; expected "}"`)
			}
			return nil, p.fail(kcol, "expected a filter key, found %q", p.token())
		}
		for _, f := range fs {
			if f.Key == key {
				return nil, p.fail(kcol, "duplicate filter key %q", key)
			}
		}
		p.skip()
		if p.peek() != ':' {
			return nil, p.fail(p.col(), "expected \":\" after filter key %q", key)
		}
		p.i++
		p.skip()
		vcol := p.col()
		var val string
		if p.peek() == '"' {
			var err error
			if val, err = p.quoted(); err != nil {
				return nil, err
			}
		} else {
			start := p.i
			for !p.eof() && !unicode.IsSpace(p.src[p.i]) && !strings.ContainsRune(",}\"", p.src[p.i]) {
				p.i++
			}
			val = string(p.src[start:p.i])
			if val == "" {
				return nil, p.fail(vcol, "expected a value after %q", key+":")
			}
		}
		fs = append(fs, Filter{Key: key, Pattern: val})
		p.skip()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return fs, nil
		case 0:
			return nil, p.fail(p.col(), `unterminated filter; expected "}"`)
		default:
			return nil, p.fail(p.col(), `expected "," or "}" in filter, found %q`, p.token())
		}
	}
}

// quoted reads a double-quoted string with \" and \\ escapes.
func (p *parser) quoted() (string, error) {
	open := p.col()
	p.i++
	var b strings.Builder
	for !p.eof() {
		r := p.src[p.i]
		p.i++
		switch r {
		case '"':
			return b.String(), nil
		case '\\':
			if p.eof() {
				return "", p.fail(open, "unterminated quoted value")
			}
			b.WriteRune(p.src[p.i])
			p.i++
		default:
			b.WriteRune(r)
		}
	}
	return "", p.fail(open, "unterminated quoted value")
}

// convert checks the unit against the metric and aggregation and returns v
// in base units.
func (p *parser) convert(t *Threshold, v float64, unit string, ucol int) (float64, error) {
	agg := t.Agg
	if agg == AggDefault {
		agg = defaultAgg(t.Metric, t.Delta, t.Op)
	}
	name := string(t.Metric)
	if t.Delta {
		name = "delta(" + name + ")"
	}
	info := metrics[t.Metric]
	switch {
	case agg == AggCount:
		if unit != "" {
			return 0, p.fail(ucol, "unit %q does not apply to a count; a count is a plain number", unit)
		}
		return v, nil
	case t.Delta || info.kind == kindRate || info.kind == kindScore || (t.Metric == Errors && agg == AggRate):
		switch unit {
		case "":
			return v, nil
		case "%":
			return v / 100, nil
		}
		return 0, p.fail(ucol, "unit %q does not apply to %s; use a fraction (0.85) or a percentage (85%%)", unit, name)
	case info.kind == kindDuration:
		scale, ok := map[string]float64{"": 1e-3, "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
		if ok {
			return v * scale, nil
		}
		if unit == "$" || unit == "%" {
			return 0, p.fail(ucol, "unit %q does not apply to %s; use a duration such as 500ms or 2s", unit, name)
		}
		return 0, p.fail(ucol, "unknown unit %q for %s; use ns, us, µs, ms, s, m or h", unit, name)
	case t.Metric == Cost:
		if unit == "" || unit == "$" {
			return v, nil
		}
		return 0, p.fail(ucol, "unit %q does not apply to cost; write dollars, as in $5 or 5", unit)
	}
	if unit != "" {
		return 0, p.fail(ucol, "%s takes a plain number, without the unit %q", name, unit)
	}
	return v, nil
}
