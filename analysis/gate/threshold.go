package gate

import (
	"fmt"
	"math"
	"strings"

	"github.com/yardstick-eval/yardstick/internal/suggest"
)

// Metric names a quantity measured over results.
type Metric string

// Metrics, as written in a threshold.
const (
	PassRate        Metric = "pass_rate"
	ErrorRate       Metric = "error_rate"
	Errors          Metric = "errors"
	Score           Metric = "score"
	Cases           Metric = "cases"
	Latency         Metric = "latency"
	TTFT            Metric = "ttft"
	TokensPerSecond Metric = "tokens_per_second"
	Cost            Metric = "cost"
	Tokens          Metric = "tokens"
	InputTokens     Metric = "input_tokens"
	OutputTokens    Metric = "output_tokens"
)

// Agg names how a metric's samples are reduced to the one number compared.
type Agg string

// Aggregations. AggDefault (empty) stands for the metric's default and is
// resolved by Parse; "avg" parses as AggMean and "med" as AggPercentile 50.
const (
	AggDefault    Agg = ""
	AggValue      Agg = "value"
	AggRate       Agg = "rate"
	AggCILow      Agg = "ci_low"
	AggCIHigh     Agg = "ci_high"
	AggMean       Agg = "mean"
	AggMin        Agg = "min"
	AggMax        Agg = "max"
	AggPercentile Agg = "p" // with Threshold.P
	AggSum        Agg = "sum"
	AggCount      Agg = "count"
)

// Op is a comparison.
type Op string

// Comparisons: the threshold passes when Observed Op Value holds.
const (
	Less         Op = "<"
	LessEqual    Op = "<="
	Greater      Op = ">"
	GreaterEqual Op = ">="
	Equal        Op = "=="
	NotEqual     Op = "!="
)

func (o Op) compare(a, b float64) bool {
	switch o {
	case Less:
		return a < b
	case LessEqual:
		return a <= b
	case Greater:
		return a > b
	case GreaterEqual:
		return a >= b
	case Equal:
		return a == b
	case NotEqual:
		return a != b
	}
	return false
}

// Filter keeps results whose Key field matches Pattern ("*" matches any run
// of characters). See the package doc for the keys.
type Filter struct {
	Key     string
	Pattern string
}

// Threshold is one parsed rule. Build it with Parse; a Threshold made by hand
// must pass Validate.
type Threshold struct {
	Expr    string   // the expression as written, trimmed; Outcome.Threshold
	Source  string   // where it was written ("support.yaml:42", "--threshold"); Outcome.Source
	Metric  Metric   //
	Delta   bool     // delta(Metric): candidate − baseline over paired cases
	Filters []Filter // all must match; keys are unique
	Agg     Agg      // never AggDefault after Parse
	P       float64  // percentile in [0, 100] when Agg is AggPercentile
	Op      Op       //
	Value   float64  // in base units: seconds, USD, fraction or count
	Unit    string   // the unit as written ("ms", "%", "$"), for display only

	// 1-based columns of the parts in Expr, for Validate's errors; 0 when
	// the Threshold was not parsed.
	metricCol, aggCol, valueCol int
}

// String returns Expr when set, or a canonical rendering.
func (t Threshold) String() string {
	if t.Expr != "" {
		return t.Expr
	}
	var b strings.Builder
	if t.Delta {
		b.WriteString("delta(")
	}
	b.WriteString(string(t.Metric))
	if len(t.Filters) > 0 {
		b.WriteByte('{')
		for i, f := range t.Filters {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s:%s", f.Key, f.Pattern)
		}
		b.WriteByte('}')
	}
	if t.Delta {
		b.WriteByte(')')
	}
	switch t.Agg {
	case AggDefault:
	case AggPercentile:
		fmt.Fprintf(&b, " p(%g)", t.P)
	default:
		b.WriteString(" " + string(t.Agg))
	}
	fmt.Fprintf(&b, " %s %g", t.Op, t.Value)
	return b.String()
}

// Scoped returns t with the filter key:pattern added when t has no filter on
// key. The CLI uses it to confine a suite file's thresholds to that suite:
// th.Scoped("suite", suiteName).
func (t Threshold) Scoped(key, pattern string) Threshold {
	for _, f := range t.Filters {
		if f.Key == key {
			return t
		}
	}
	t.Filters = append(append([]Filter(nil), t.Filters...), Filter{Key: key, Pattern: pattern})
	return t
}

// kind is how a metric's samples behave.
type kind int

const (
	kindRate     kind = iota // Bernoulli per result: pass_rate, error_rate
	kindCounter              // a count of results: errors
	kindCases                // distinct cases
	kindScore                // a mean in [0, 1] with a bootstrap interval
	kindDuration             // seconds
	kindSpeed                // tokens per second
	kindTotal                // summable per-result amounts: cost, tokens
)

type metricInfo struct {
	kind    kind
	def     Agg
	allowed []Agg // in the order error messages list them
}

var metrics = map[Metric]metricInfo{
	PassRate:        {kindRate, AggValue, []Agg{AggValue, AggRate, AggCILow, AggCIHigh, AggCount}},
	ErrorRate:       {kindRate, AggValue, []Agg{AggValue, AggRate, AggCILow, AggCIHigh, AggCount}},
	Errors:          {kindCounter, AggCount, []Agg{AggCount, AggValue, AggSum, AggRate}},
	Score:           {kindScore, AggMean, []Agg{AggMean, AggValue, AggCILow, AggCIHigh, AggMin, AggMax, AggPercentile, AggCount}},
	Cases:           {kindCases, AggCount, []Agg{AggCount, AggValue}},
	Latency:         {kindDuration, AggMean, []Agg{AggMean, AggMin, AggMax, AggPercentile, AggCount}},
	TTFT:            {kindDuration, AggMean, []Agg{AggMean, AggMin, AggMax, AggPercentile, AggCount}},
	TokensPerSecond: {kindSpeed, AggMean, []Agg{AggMean, AggMin, AggMax, AggPercentile, AggCount}},
	Cost:            {kindTotal, AggSum, []Agg{AggSum, AggValue, AggMean, AggMin, AggMax, AggPercentile, AggCount}},
	Tokens:          {kindTotal, AggSum, []Agg{AggSum, AggValue, AggMean, AggMin, AggMax, AggPercentile, AggCount}},
	InputTokens:     {kindTotal, AggSum, []Agg{AggSum, AggValue, AggMean, AggMin, AggMax, AggPercentile, AggCount}},
	OutputTokens:    {kindTotal, AggSum, []Agg{AggSum, AggValue, AggMean, AggMin, AggMax, AggPercentile, AggCount}},
}

var metricOrder = []Metric{PassRate, ErrorRate, Errors, Score, Cases, Latency, TTFT, TokensPerSecond, Cost, Tokens, InputTokens, OutputTokens}

var deltaAllowed = []Agg{AggCILow, AggCIHigh, AggValue, AggCount}

// allowedAggs lists the aggregations valid for a metric (delta or not).
func allowedAggs(m Metric, delta bool) []Agg {
	if delta {
		return deltaAllowed
	}
	return metrics[m].allowed
}

func aggList(as []Agg) string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = string(a)
		switch a {
		case AggMean:
			names[i] = "mean (avg)"
		case AggPercentile:
			names[i] = "p(N) (med)"
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// defaultAgg resolves AggDefault for a metric and comparison. It returns
// AggDefault when there is none (delta with == or !=).
func defaultAgg(m Metric, delta bool, op Op) Agg {
	if !delta {
		return metrics[m].def
	}
	switch op {
	case Greater, GreaterEqual:
		return AggCILow
	case Less, LessEqual:
		return AggCIHigh
	}
	return AggDefault
}

// Validate reports whether the combination of metric, delta, aggregation,
// comparison and value makes sense: the metric exists, delta is applied to
// pass_rate or score only, the aggregation applies to the metric (latency
// ci_low does not), a percentile lies in [0, 100], and a fraction lies in
// [0, 1] (or [-1, 1] for a delta). The error is a *ParseError whose column
// points into Expr when the threshold was parsed.
func (t Threshold) Validate() error {
	errAt := func(col int, format string, args ...any) error {
		return &ParseError{Expr: t.Expr, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	info, ok := metrics[t.Metric]
	if !ok {
		return errAt(t.metricCol, "unknown metric %q%s", t.Metric, suggest.Hint(string(t.Metric), metricNames()))
	}
	if t.Delta && t.Metric != PassRate && t.Metric != Score {
		return errAt(t.metricCol, "delta applies to pass_rate and score only, not %s", t.Metric)
	}
	switch t.Op {
	case Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual:
	default:
		return errAt(t.valueCol, "unknown comparison %q", t.Op)
	}
	agg := t.Agg
	if agg == AggDefault {
		agg = defaultAgg(t.Metric, t.Delta, t.Op)
		if agg == AggDefault {
			return errAt(t.aggCol, "delta(%s) with %s needs an aggregation: ci_low, ci_high or value", t.Metric, t.Op)
		}
	}
	name := string(t.Metric)
	if t.Delta {
		name = "delta(" + name + ")"
	}
	allowed := allowedAggs(t.Metric, t.Delta)
	found := false
	for _, a := range allowed {
		if a == agg {
			found = true
		}
	}
	if !found {
		shown := string(agg)
		if agg == AggPercentile {
			shown = fmt.Sprintf("p(%g)", t.P)
		}
		return errAt(t.aggCol, "aggregation %s does not apply to %s; use %s", shown, name, aggList(allowed))
	}
	if agg == AggPercentile && !(t.P >= 0 && t.P <= 100) {
		return errAt(t.aggCol, "percentile %g is outside [0, 100]", t.P)
	}
	if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
		return errAt(t.valueCol, "the value must be a finite number")
	}
	if agg == AggCount {
		return nil
	}
	fraction := info.kind == kindRate || info.kind == kindScore || (t.Metric == Errors && agg == AggRate)
	switch {
	case t.Delta && math.Abs(t.Value) > 1:
		return errAt(t.valueCol, "%s is a difference of fractions between -1 and 1; write %s or %s%%",
			name, trimFloat(t.Value/100), trimFloat(t.Value))
	case !t.Delta && fraction && (t.Value < 0 || t.Value > 1):
		if t.Value > 1 && t.Value <= 100 {
			return errAt(t.valueCol, "%s is a fraction between 0 and 1; write %s or %s%%",
				name, trimFloat(t.Value/100), trimFloat(t.Value))
		}
		return errAt(t.valueCol, "%s is a fraction between 0 and 1, not %s", name, trimFloat(t.Value))
	}
	return nil
}

func metricNames() []string {
	out := make([]string, len(metricOrder))
	for i, m := range metricOrder {
		out[i] = string(m)
	}
	return out
}

func trimFloat(v float64) string { return fmt.Sprintf("%g", v) }
