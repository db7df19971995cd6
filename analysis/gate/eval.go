package gate

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/internal/format"
)

// Options configures an Evaluator. The zero value is the default: the zero
// stats.Options (95% intervals, 2000 resamples, seed 0) and no grouping.
type Options struct {
	// Options are the shared statistical knobs: Confidence is the level of
	// the intervals behind ci_low and ci_high; Resamples, Seed and BCa drive
	// the score bootstrap.
	stats.Options
	// GroupBy judges every threshold separately for each distinct value of
	// these result keys (the filter keys: suite, target, model, case_id,
	// error or a tag), producing one Outcome per group with Outcome.Group
	// set; every group must pass. Empty pools all results a threshold's
	// filter matches into one Outcome, as k6 does. The CLI passes
	// {"suite", "target"} so that each model must clear each bar. Delta
	// thresholds are grouped by the suite and target of their comparison
	// rows.
	GroupBy []string
	// IncludeCached counts results served from the response cache in
	// latency, ttft and tokens_per_second; off, they are left out (a cache
	// hit's timing is not the model's).
	IncludeCached bool
}

// DefaultOptions returns the zero Options, which is the default.
func DefaultOptions() Options { return Options{} }

func (o Options) confidence() float64 { return o.Level() }

// Evaluator judges thresholds over a stream of results. Add every result of
// the run, then call Outcomes with the comparison rows that judge delta
// thresholds (package analysis/compare is the only place that pairs results
// with a baseline). It keeps per threshold and group the counts, one small
// tally per case for rates and scores (repeats are clustered by case), and
// one float per sample for metrics that need order statistics; it never keeps
// a Result. It is not safe for concurrent use.
type Evaluator struct {
	ths    []Threshold
	opts   Options
	groups []map[string]*acc // per threshold, by group label
}

// caseKey identifies one case.
type caseKey struct{ suite, caseID string }

// tally sums one case's results (repeats) for rates and scores.
type tally struct {
	n, hits int
	score   float64 // sum of scores, errored results counting 0
}

// acc accumulates one threshold over one group.
type acc struct {
	n       int       // results matched
	hits    int       // passes (pass_rate) or errors (error_rate, errors)
	vals    []float64 // samples in base units
	unknown int       // cost: results without a price
	cached  int       // latency, ttft, tokens_per_second: cached results left out
	cases   map[caseKey]*tally
}

// NewEvaluator returns an Evaluator for ths, which should come from Parse.
// A threshold that fails Validate is reported as a failed Outcome with the
// validation error as its Reason.
func NewEvaluator(ths []Threshold, opts Options) *Evaluator {
	e := &Evaluator{
		ths:    slices.Clone(ths),
		opts:   opts,
		groups: make([]map[string]*acc, len(ths)),
	}
	for i := range e.groups {
		e.groups[i] = make(map[string]*acc)
	}
	return e
}

// Add counts one result of the run. r is not retained. Delta thresholds
// ignore it (they are judged on comparison rows).
func (e *Evaluator) Add(r *bench.Result) {
	for i := range e.ths {
		th := &e.ths[i]
		if th.Delta || !matches(th.Filters, r) {
			continue
		}
		label := groupLabel(e.opts.GroupBy, r)
		a := e.groups[i][label]
		if a == nil {
			a = &acc{}
			e.groups[i][label] = a
		}
		a.add(th, r, e.opts.IncludeCached)
	}
}

func (a *acc) add(th *Threshold, r *bench.Result, includeCached bool) {
	a.n++
	ok := r.Error == nil
	tallyOf := func() *tally {
		if a.cases == nil {
			a.cases = make(map[caseKey]*tally)
		}
		k := caseKey{r.Suite, r.CaseID}
		t := a.cases[k]
		if t == nil {
			t = &tally{}
			a.cases[k] = t
		}
		t.n++
		return t
	}
	switch th.Metric {
	case PassRate:
		t := tallyOf()
		if ok && r.Pass {
			a.hits++
			t.hits++
		}
	case ErrorRate, Errors:
		t := tallyOf()
		if !ok {
			a.hits++
			t.hits++
		}
	case Cases:
		tallyOf()
	case Score:
		t := tallyOf()
		s := r.Score
		if !ok {
			s = 0
		}
		t.score += s
		a.vals = append(a.vals, s)
	case Latency, TTFT, TokensPerSecond:
		lat, ttft, timed := r.Timing(includeCached)
		switch {
		case ok && !timed:
			a.cached++
		case !timed:
		case th.Metric == Latency:
			a.vals = append(a.vals, lat.Seconds())
		case th.Metric == TTFT && ttft > 0:
			a.vals = append(a.vals, ttft.Seconds())
		case th.Metric == TokensPerSecond:
			if tps := r.TokensPerSecond(includeCached); tps > 0 {
				a.vals = append(a.vals, tps)
			}
		}
	case Cost:
		if r.CostUSD == nil {
			a.unknown++
		} else {
			a.vals = append(a.vals, *r.CostUSD)
		}
	case Tokens:
		a.vals = append(a.vals, float64(r.Usage.Total()))
	case InputTokens:
		a.vals = append(a.vals, float64(r.Usage.InputTokens))
	case OutputTokens:
		a.vals = append(a.vals, float64(r.Usage.OutputTokens))
	}
}

// casesOf returns the per-case tallies in case order.
func (a *acc) casesOf() []*tally {
	keys := slices.SortedFunc(maps.Keys(a.cases), func(x, y caseKey) int {
		return cmp.Or(cmp.Compare(x.suite, y.suite), cmp.Compare(x.caseID, y.caseID))
	})
	out := make([]*tally, len(keys))
	for i, k := range keys {
		out[i] = a.cases[k]
	}
	return out
}

// Deltas supplies the comparison rows that judge a delta threshold: the rows
// of its metric (pass_rate or score) between the baseline and the run, one
// per suite × target, restricted to the results its filter selects. refused
// is non-empty when there is no comparison to judge (no baseline, or one the
// comparison refused); it becomes the failed outcome's reason.
type Deltas func(th Threshold) (rows []compare.Row, refused string)

// Outcomes judges every threshold on what has been added so far: one
// Outcome per threshold in the order given, or, with Options.GroupBy, one per
// threshold and group (groups sorted by label). A threshold that matched
// nothing gives one failed Outcome with Reason "no data". Delta thresholds
// are judged on the rows deltas returns (see JudgeDelta); a nil deltas
// judges them as having no baseline. Outcomes may be called again after
// more Adds.
func (e *Evaluator) Outcomes(deltas Deltas) []Outcome {
	var out []Outcome
	for i, th := range e.ths {
		base := Outcome{Threshold: th.String(), Source: th.Source}
		if err := th.Validate(); err != nil {
			base.Reason = err.Error()
			out = append(out, base)
			continue
		}
		if th.Agg == AggDefault {
			th.Agg = defaultAgg(th.Metric, th.Delta, th.Op)
		}
		if th.Delta {
			var rows []compare.Row
			refused := "no data: no baseline results"
			if deltas != nil {
				rows, refused = deltas(th)
			}
			out = append(out, JudgeDelta(th, rows, refused, e.opts)...)
			continue
		}
		if len(e.groups[i]) == 0 {
			base.Reason = "no data: no result matched"
			base.Display = "no data"
			out = append(out, base)
			continue
		}
		for _, label := range slices.Sorted(maps.Keys(e.groups[i])) {
			o := base
			o.Group = label
			e.judge(&th, e.groups[i][label], &o)
			out = append(out, o)
		}
	}
	return out
}

// judge fills o's Observed, Display, N, Pass and Reason.
func (e *Evaluator) judge(th *Threshold, a *acc, o *Outcome) {
	v, ok := e.observe(th, a, o)
	if !ok {
		o.Observed, o.Pass = 0, false
		if o.Display == "" {
			o.Display = "no data"
		}
		return
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		o.Observed, o.Pass = 0, false
		o.Reason = "undefined value"
		return
	}
	o.Observed = v
	o.Pass = th.Op.compare(v, th.Value)
	if o.Pass {
		o.Reason = ""
	}
}

// observe computes the aggregated value, setting Display, N and a Reason
// (kept only on failure). ok is false when there is no data.
func (e *Evaluator) observe(th *Threshold, a *acc, o *Outcome) (float64, bool) {
	conf := e.opts.confidence()
	info := metrics[th.Metric]
	switch info.kind {
	case kindRate:
		o.N = a.n
		if a.n == 0 {
			o.Reason = "no data"
			return 0, false
		}
		// Repeats are clustered by case: n counts cases, not results.
		cs := a.casesOf()
		hits, runs := make([]int, len(cs)), make([]int, len(cs))
		for i, t := range cs {
			hits[i], runs[i] = t.hits, t.n
		}
		w := stats.ClusteredProportion(hits, runs, conf)
		o.Display = fmtInterval(w, "%.3f")
		if len(cs) != a.n {
			o.Display += fmt.Sprintf(" (n counts %d cases)", len(cs))
		}
		return pick(th.Agg, w, a.n), true
	case kindCounter:
		o.N = a.n
		if a.n == 0 {
			o.Reason = "no data"
			return 0, false
		}
		if th.Agg == AggRate {
			r := float64(a.hits) / float64(a.n)
			o.Display = fmt.Sprintf("%.3f (%d of %d)", r, a.hits, a.n)
			return r, true
		}
		o.Display = strconv.Itoa(a.hits)
		return float64(a.hits), true
	case kindCases:
		o.N = a.n
		if a.n == 0 {
			o.Reason = "no data"
			return 0, false
		}
		o.Display = strconv.Itoa(len(a.cases))
		return float64(len(a.cases)), true
	}

	// Sample metrics.
	o.N = len(a.vals)
	if th.Metric == Cost && a.unknown > 0 && th.Agg != AggCount {
		o.N = a.n
		o.Reason = fmt.Sprintf("no data: cost unknown for %d of %d results (no price for the model)", a.unknown, a.n)
		o.Display = format.USD(sum(a.vals)) + " (incomplete)"
		return 0, false
	}
	if len(a.vals) == 0 && a.cached > 0 {
		o.Reason = fmt.Sprintf("no data: every one of the %d successful matching results was served from the response cache, whose timings are not the model's (rerun with --include-cached-latency to judge them)", a.cached)
		return 0, false
	}
	if len(a.vals) == 0 {
		switch th.Metric {
		case Latency, TokensPerSecond:
			o.Reason = fmt.Sprintf("no data: none of %d matching results succeeded", a.n)
			if th.Metric == TokensPerSecond {
				o.Reason = fmt.Sprintf("no data: no output token speed among %d matching results", a.n)
			}
		case TTFT:
			o.Reason = fmt.Sprintf("no data: no streamed successful result among %d matching results (TTFT needs stream: true)", a.n)
		default:
			o.Reason = "no data"
		}
		return 0, false
	}
	if th.Agg == AggCount {
		o.Display = strconv.Itoa(len(a.vals))
		return float64(len(a.vals)), true
	}
	slices.Sort(a.vals)
	if th.Metric == Score {
		switch th.Agg {
		case AggMean, AggValue, AggCILow, AggCIHigh:
			// The bootstrap resamples cases (per-case means), not results.
			cs := a.casesOf()
			means := make([]float64, len(cs))
			for i, t := range cs {
				means[i] = t.score / float64(t.n)
			}
			iv := stats.BootstrapMean(means, e.opts.Bootstrap("gate", th.String(), o.Group))
			if len(cs) == len(a.vals) {
				iv.Value = sum(a.vals) / float64(len(a.vals))
			}
			o.Display = fmtInterval(iv, "%.3f")
			return pick(th.Agg, iv, len(a.vals)), true
		}
	}
	var v float64
	switch th.Agg {
	case AggSum, AggValue:
		v = sum(a.vals)
	case AggMean:
		v = sum(a.vals) / float64(len(a.vals))
	case AggMin:
		v = a.vals[0]
	case AggMax:
		v = a.vals[len(a.vals)-1]
	case AggPercentile:
		v = stats.Percentile(a.vals, th.P)
	}
	o.Display = fmtValue(th.Metric, th.Agg, v)
	return v, true
}

// pick chooses the aggregated number from an interval.
func pick(agg Agg, iv stats.Interval, n int) float64 {
	switch agg {
	case AggCILow:
		return iv.Low
	case AggCIHigh:
		return iv.High
	case AggCount:
		return float64(n)
	}
	return iv.Value
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// Matches reports whether r satisfies every filter.
func Matches(fs []Filter, r *bench.Result) bool { return matches(fs, r) }

// MatchesRow reports whether a comparison row of suite and candidate target
// satisfies the suite and target filters of fs (other keys are not row
// properties and are ignored here: the caller compares only the results they
// select).
func MatchesRow(fs []Filter, suite, target string) bool {
	for _, f := range fs {
		switch f.Key {
		case "suite":
			if !glob(f.Pattern, suite) {
				return false
			}
		case "target":
			if !glob(f.Pattern, target) {
				return false
			}
		}
	}
	return true
}

// matches reports whether r satisfies every filter.
func matches(fs []Filter, r *bench.Result) bool {
	for _, f := range fs {
		switch f.Key {
		case "model":
			if !glob(f.Pattern, r.Model) && (r.ResolvedModel == "" || !glob(f.Pattern, r.ResolvedModel)) {
				return false
			}
		case "error":
			if r.Error == nil || !glob(f.Pattern, string(r.Error.Kind)) {
				return false
			}
		default:
			v, ok := field(f.Key, r)
			if !ok || !glob(f.Pattern, v) {
				return false
			}
		}
	}
	return true
}

// field returns the value of a filter or group key on r.
func field(key string, r *bench.Result) (string, bool) {
	switch key {
	case "suite":
		return r.Suite, true
	case "target":
		return r.Target, true
	case "model":
		return r.Model, true
	case "case_id":
		return r.CaseID, true
	case "error":
		if r.Error == nil {
			return "", true
		}
		return string(r.Error.Kind), true
	}
	v, ok := r.Tags[key]
	return v, ok
}

// groupLabel renders r's values of keys in filter syntax, "" without keys.
func groupLabel(keys []string, r *bench.Result) string {
	if len(keys) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		v, _ := field(k, r)
		b.WriteString(k + ":")
		if v == "" || strings.ContainsAny(v, " ,}\"\t") {
			v = strconv.Quote(v)
		}
		b.WriteString(v)
	}
	b.WriteByte('}')
	return b.String()
}

// glob matches s against pattern, where "*" matches any run of characters
// (including none) and every other character matches itself.
func glob(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
