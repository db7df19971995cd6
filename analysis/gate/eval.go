package gate

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
)

// Options configures an Evaluator. The zero value is valid: 95% intervals,
// 2000 bootstrap resamples, seed 0, no grouping.
type Options struct {
	// Confidence is the level of the intervals behind ci_low, ci_high and
	// delta thresholds; outside (0, 1) means 0.95.
	Confidence float64
	// Resamples is the number of bootstrap resamples for score intervals
	// and bootstrap deltas; ≤ 0 means stats.DefaultResamples.
	Resamples int
	// Seed seeds every bootstrap, so the same results always give the same
	// outcomes.
	Seed uint64
	// GroupBy judges every threshold separately for each distinct value of
	// these result keys (the filter keys: suite, target, model, case_id,
	// error or a tag), producing one Outcome per group with Outcome.Group
	// set; every group must pass. Empty pools all results a threshold's
	// filter matches into one Outcome, as k6 does. The CLI typically passes
	// {"suite", "target"} so that each model must clear each bar.
	GroupBy []string
}

// DefaultOptions returns 95% intervals, 2000 resamples, seed 1, no grouping.
func DefaultOptions() Options {
	return Options{Confidence: 0.95, Resamples: stats.DefaultResamples, Seed: 1}
}

func (o Options) confidence() float64 {
	if o.Confidence > 0 && o.Confidence < 1 {
		return o.Confidence
	}
	return 0.95
}

func (o Options) bootstrap() stats.BootstrapConfig {
	return stats.BootstrapConfig{Resamples: o.Resamples, Confidence: o.confidence(), Seed: o.Seed}
}

// Evaluator judges thresholds over a stream of results. Add every result of
// the run, AddBaseline every baseline result (only delta thresholds use
// them), in any order and interleaving, then call Outcomes. It keeps per
// threshold and group the counts, one float per sample for metrics that need
// order statistics or a bootstrap, and one small tally per case for delta
// thresholds; it never keeps a Result. It is not safe for concurrent use.
type Evaluator struct {
	ths         []Threshold
	opts        Options
	groups      []map[string]*acc // per threshold, by group label
	base        map[unitKey]*tally
	baseTargets map[string]struct{}
}

// unitKey identifies the results of one case of one target.
type unitKey struct{ suite, caseID, target string }

// tally sums one unit's results (repeats).
type tally struct {
	n     int
	pass  float64 // results that passed without error
	score float64 // sum of scores, errored results counting 0
}

func (t *tally) add(r *bench.Result) {
	t.n++
	if r.Error == nil {
		t.score += r.Score
		if r.Pass {
			t.pass++
		}
	}
}

// acc accumulates one threshold over one group.
type acc struct {
	n       int       // results matched
	hits    int       // passes (pass_rate) or errors (error_rate, errors)
	vals    []float64 // samples in base units
	unknown int       // cost: results without a price
	cases   map[string]struct{}
	units   map[unitKey]*tally // delta: candidate tallies
}

// NewEvaluator returns an Evaluator for ths, which should come from Parse.
// A threshold that fails Validate is reported as a failed Outcome with the
// validation error as its Reason.
func NewEvaluator(ths []Threshold, opts Options) *Evaluator {
	e := &Evaluator{
		ths:         slices.Clone(ths),
		opts:        opts,
		groups:      make([]map[string]*acc, len(ths)),
		base:        make(map[unitKey]*tally),
		baseTargets: make(map[string]struct{}),
	}
	for i := range e.groups {
		e.groups[i] = make(map[string]*acc)
	}
	return e
}

// Add counts one result of the run. r is not retained.
func (e *Evaluator) Add(r *bench.Result) {
	for i := range e.ths {
		th := &e.ths[i]
		if !matches(th.Filters, r) {
			continue
		}
		label := groupLabel(e.opts.GroupBy, r)
		a := e.groups[i][label]
		if a == nil {
			a = &acc{}
			e.groups[i][label] = a
		}
		a.add(th, r)
	}
}

// AddBaseline counts one baseline result, for delta thresholds. Baseline
// results are not filtered; they are joined to the run's results by suite,
// case_id and target (see "Delta thresholds" in the package doc). r is not
// retained.
func (e *Evaluator) AddBaseline(r *bench.Result) {
	k := unitKey{r.Suite, r.CaseID, r.Target}
	t := e.base[k]
	if t == nil {
		t = &tally{}
		e.base[k] = t
	}
	t.add(r)
	e.baseTargets[r.Target] = struct{}{}
}

func (a *acc) add(th *Threshold, r *bench.Result) {
	a.n++
	ok := r.Error == nil
	if th.Delta {
		if a.units == nil {
			a.units = make(map[unitKey]*tally)
		}
		k := unitKey{r.Suite, r.CaseID, r.Target}
		t := a.units[k]
		if t == nil {
			t = &tally{}
			a.units[k] = t
		}
		t.add(r)
		return
	}
	switch th.Metric {
	case PassRate:
		if ok && r.Pass {
			a.hits++
		}
	case ErrorRate, Errors:
		if !ok {
			a.hits++
		}
	case Cases:
		if a.cases == nil {
			a.cases = make(map[string]struct{})
		}
		a.cases[r.Suite+"\x00"+r.CaseID] = struct{}{}
	case Score:
		s := r.Score
		if !ok {
			s = 0
		}
		a.vals = append(a.vals, s)
	case Latency:
		if ok {
			a.vals = append(a.vals, r.Latency.Seconds())
		}
	case TTFT:
		if ok && r.TTFT > 0 {
			a.vals = append(a.vals, r.TTFT.Seconds())
		}
	case TokensPerSecond:
		if tps := r.OutputTokensPerSecond(); ok && tps > 0 {
			a.vals = append(a.vals, tps)
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

// Outcomes judges every threshold on what has been added so far: one
// Outcome per threshold in the order given, or, with Options.GroupBy, one per
// threshold and group (groups sorted by label). A threshold that matched
// nothing gives one failed Outcome with Reason "no data". Outcomes may be
// called again after more Adds.
func (e *Evaluator) Outcomes() []Outcome {
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
		if len(e.groups[i]) == 0 {
			base.Reason = "no data: no result matched"
			if th.Delta && len(e.base) == 0 {
				base.Reason = "no data: no result matched and no baseline"
			}
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
	if th.Delta {
		return e.delta(th, a, o)
	}
	info := metrics[th.Metric]
	switch info.kind {
	case kindRate:
		o.N = a.n
		if a.n == 0 {
			o.Reason = "no data"
			return 0, false
		}
		w := stats.Wilson(a.hits, a.n, conf)
		o.Display = fmtInterval(w, "%.3f")
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
		o.Display = FormatUSD(sum(a.vals)) + " (incomplete)"
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
			iv := stats.BootstrapMean(a.vals, e.opts.bootstrap())
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

// delta pairs the group's candidate units with the baseline and computes the
// interval of candidate − baseline.
func (e *Evaluator) delta(th *Threshold, a *acc, o *Outcome) (float64, bool) {
	if len(e.base) == 0 {
		o.Reason = "no data: no baseline results"
		o.Display = "no baseline"
		return 0, false
	}
	single := ""
	if len(e.baseTargets) == 1 {
		for t := range e.baseTargets {
			single = t
		}
	}
	type pair struct {
		key        unitKey
		cand, base *tally
	}
	var pairs []pair
	unpaired := 0
	used := make(map[unitKey]int, len(a.units))
	simple := true
	for k, c := range a.units {
		bt := k.target
		if _, ok := e.baseTargets[bt]; !ok {
			if single == "" {
				unpaired++
				continue
			}
			bt = single
		}
		bk := unitKey{k.suite, k.caseID, bt}
		b := e.base[bk]
		if b == nil {
			unpaired++
			continue
		}
		used[bk]++
		if c.n != 1 || b.n != 1 || used[bk] > 1 {
			simple = false
		}
		pairs = append(pairs, pair{key: k, cand: c, base: b})
	}
	o.N = len(pairs)
	if len(pairs) == 0 {
		o.Reason = fmt.Sprintf("no data: none of the %d candidate cases has a baseline partner", len(a.units))
		o.Display = "no pairs"
		return 0, false
	}
	val := func(t *tally) float64 {
		if th.Metric == PassRate {
			return t.pass / float64(t.n)
		}
		return t.score / float64(t.n)
	}
	var iv stats.Interval
	var method string
	switch {
	case simple && th.Metric == PassRate:
		var pc stats.PairedCounts
		for _, p := range pairs {
			switch cp, bp := p.cand.pass > 0, p.base.pass > 0; {
			case cp && bp:
				pc.Both++
			case bp:
				pc.AOnly++
			case cp:
				pc.BOnly++
			default:
				pc.Neither++
			}
		}
		iv = stats.NewcombePaired(pc, e.opts.confidence())
		method = fmt.Sprintf("Newcombe paired score interval; baseline-only passes %d, candidate-only %d, exact McNemar p = %.3g",
			pc.AOnly, pc.BOnly, stats.McNemarExact(pc.AOnly, pc.BOnly))
	case simple:
		as, bs := make([]float64, len(pairs)), make([]float64, len(pairs))
		for i, p := range pairs {
			as[i], bs[i] = val(p.base), val(p.cand)
		}
		iv, _, _ = stats.PairedBootstrap(as, bs, e.opts.bootstrap())
		method = "paired bootstrap"
	default:
		// Cluster by case: sum of per-unit differences and unit count. Sorted
		// so that the sums, and so the interval, do not depend on map order.
		slices.SortFunc(pairs, func(x, y pair) int {
			return cmp.Or(cmp.Compare(x.key.suite, y.key.suite), cmp.Compare(x.key.caseID, y.key.caseID),
				cmp.Compare(x.key.target, y.key.target))
		})
		type cluster struct{ suite, caseID string }
		idx := make(map[cluster]int)
		var num, den []float64
		for _, p := range pairs {
			ck := cluster{p.key.suite, p.key.caseID}
			i, ok := idx[ck]
			if !ok {
				i = len(num)
				idx[ck] = i
				num, den = append(num, 0), append(den, 0)
			}
			num[i] += val(p.cand) - val(p.base)
			den[i]++
		}
		iv = stats.BootstrapRatio(num, den, e.opts.bootstrap())
		method = fmt.Sprintf("cluster bootstrap over %d cases (repeats averaged per case)", len(num))
	}
	o.Display = fmtInterval(iv, "%+.3f")
	side := map[Agg]string{AggCILow: "lower end", AggCIHigh: "upper end", AggValue: "estimate", AggCount: "paired cases"}[th.Agg]
	o.Reason = fmt.Sprintf("%s of the %g%% interval of candidate − baseline over %d paired cases (%s)",
		side, 100*e.opts.confidence(), len(pairs), method)
	if th.Agg == AggCount {
		o.Reason = fmt.Sprintf("%d paired cases", len(pairs))
	}
	if unpaired > 0 {
		o.Reason += fmt.Sprintf("; %d candidate cases had no baseline partner", unpaired)
	}
	return pick(th.Agg, iv, len(pairs)), true
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
