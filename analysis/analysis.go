package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// Options configures a Builder. The zero value is the default: the zero
// stats.Options (95% intervals and significance, 2000 bootstrap resamples,
// seed 0, percentile bootstrap), thresholds judged per suite × target, no
// thresholds, the run's targets compared all against all, cached results
// left out of timing figures.
type Options struct {
	// Options are the statistical knobs, shared by the summaries, the
	// comparisons and the gate.
	stats.Options
	// GroupBy are the keys each threshold is judged separately for (see
	// gate.Options.GroupBy); nil means {"suite", "target"}, an empty non-nil
	// slice pools every matching result into one verdict.
	GroupBy []string
	// Thresholds are judged on the run (delta thresholds on its comparison
	// with the baseline).
	Thresholds []gate.Threshold
	// Force compares a baseline that ran different cases, prompts or suite
	// versions on the cases both have (compare.Options.Force).
	Force bool
	// Reference is the target every other target of the run is compared
	// with when there is no baseline; "" compares every pair of targets.
	// Best vs runner-up is compared either way.
	Reference string
	// BaselineLabel names the baseline arm in comparisons; "" is "baseline".
	BaselineLabel string
	// IncludeCachedLatency counts results served from the response cache in
	// latency, TTFT and tokens-per-second figures and thresholds. Off, they
	// are left out: a cache hit's timing is not the model's.
	IncludeCachedLatency bool
	// FailedCases is how many failed cases per suite × target the analysis
	// keeps for reports (Analysis.FailedCases); 0 means 10, negative none.
	FailedCases int
}

func (o Options) groupBy() []string {
	if o.GroupBy == nil {
		return []string{"suite", "target"}
	}
	return o.GroupBy
}

func (o Options) baselineLabel() string {
	if o.BaselineLabel == "" {
		return "baseline"
	}
	return o.BaselineLabel
}

func (o Options) failedCases() int {
	switch {
	case o.FailedCases == 0:
		return 10
	case o.FailedCases < 0:
		return 0
	}
	return o.FailedCases
}

// RunArm labels the analysed run in comparisons.
const RunArm = "run"

// Meta describes the run being reported. Every field is optional.
type Meta struct {
	Title    string    `json:"title,omitempty"`  // heading; "Yardstick report" when empty
	RunID    string    `json:"run_id,omitempty"` // e.g. the results directory name
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	GitSHA   string    `json:"git_sha,omitempty"`
	GitRef   string    `json:"git_ref,omitempty"`  // branch or tag
	Baseline string    `json:"baseline,omitempty"` // what the run is compared with: a file name, a run id
	Version  string    `json:"version,omitempty"`  // yardstick version
}

// Analysis is everything a report shows besides per-case results, computed
// once from one pass over the results (and the baseline). Reports read it and
// never modify it or recompute any of it.
type Analysis struct {
	Meta Meta
	// Summaries has one entry per suite × target of the run.
	Summaries []Summary
	// Baseline has the baseline's summaries, when there is one.
	Baseline []Summary
	// Outcomes are the threshold verdicts, delta thresholds judged on
	// Comparisons.
	Outcomes []gate.Outcome
	// Reference says what the comparisons compare with: "baseline …", a
	// target name (Options.Reference), or "all pairs". Empty: no comparison.
	Reference string
	// Comparisons are the paired comparisons (compare.Comparison.Rows):
	// the run against the baseline, or the run's targets against each other.
	Comparisons []compare.Row
	// Costs compares cost and latency of the compared arms on their paired
	// cases.
	Costs []compare.CostLatency
	// Warnings are comparability caveats and analysis notes.
	Warnings []string
	// Regressions are the cases whose pass rate fell, most regressed first;
	// Improvements those whose pass rate rose (compare.CaseChange: the one
	// definition of "regressed" every report uses).
	Regressions  []compare.CaseChange
	Improvements []compare.CaseChange
	// Ranking orders the targets of each suite by pass rate, with the groups
	// they are statistically tied with; only with two targets or more.
	Ranking []Rank
	// Flaky lists the cases whose outcome flipped across repeats.
	Flaky []FlakyCase
	// FailedCases lists the first Options.FailedCases failed results per
	// suite × target in case ID and repeat order (whatever order the results
	// came in), with the reason and an output excerpt.
	FailedCases []FailedCase
	// TargetFailures are targets that did not really run: every request
	// failed, or a circuit breaker stopped them. The CLI exits 1 on any,
	// whatever the thresholds say.
	TargetFailures []TargetFailure
}

// FailedCase is one failed result, for reports.
type FailedCase struct {
	Suite  string `json:"suite"`
	Target string `json:"target"`
	CaseID string `json:"case_id"`
	Repeat int    `json:"repeat"`
	Reason string `json:"reason"`           // scorer reason, or "kind: message" for an error
	Output string `json:"output,omitempty"` // an excerpt
}

// TargetFailure is a target whose results are not a measurement of the model.
type TargetFailure struct {
	Target string `json:"target"`
	Cause  string `json:"cause"`
}

// Rank is one target's place in one suite.
type Rank struct {
	Suite    string         `json:"suite"`
	Rank     int            `json:"rank"` // 1 = best; tied targets share a rank
	Target   string         `json:"target"`
	PassRate stats.Interval `json:"pass_rate"`
	N        int            `json:"n"` // cases
	// TiedWith lists the targets whose paired comparison with this one is
	// not significant (compare.Row.Significant false).
	TiedWith []string `json:"tied_with,omitempty"`
}

// Verdict is the run's overall gate verdict.
type Verdict string

// Verdicts.
const (
	VerdictPass Verdict = "pass" // every threshold passed
	VerdictFail Verdict = "fail" // at least one threshold crossed
	VerdictNone Verdict = "none" // no thresholds were evaluated
)

// Verdict is VerdictFail when any outcome failed, VerdictPass when all
// passed and VerdictNone when there are none.
func (a *Analysis) Verdict() Verdict {
	if len(a.Outcomes) == 0 {
		return VerdictNone
	}
	if gate.Failed(a.Outcomes) {
		return VerdictFail
	}
	return VerdictPass
}

// Builder turns a stream of results (and, optionally, a baseline's) into an
// Analysis in one pass: Add every result of the run and AddBaseline every
// baseline result, in any order and interleaving, then Close. It keeps no
// Result: compact per-case tallies only. It is not safe for concurrent use.
type Builder struct {
	opts    Options
	sum     *Summarizer
	baseSum *Summarizer
	ev      *gate.Evaluator
	cmp     *compare.Comparer
	sub     map[int]*compare.Comparer // delta thresholds with non-row filters, by index
	base    bool
	failed  map[[2]string][]FailedCase
	targets []string
	reqs    map[string]*targetTally
	seen    map[bench.Key]struct{}
	dups    int
}

type targetTally struct {
	results, errors int
	circuit         string // first circuit_open message
	lastErr         string
}

// New returns an empty Builder.
func New(opts Options) *Builder {
	gopts := gate.Options{Options: opts.Options, GroupBy: opts.groupBy(), IncludeCached: opts.IncludeCachedLatency}
	b := &Builder{
		opts:    opts,
		sum:     NewSummarizer(opts),
		baseSum: NewSummarizer(opts),
		ev:      gate.NewEvaluator(opts.Thresholds, gopts),
		cmp:     compare.New(compare.Options{Options: opts.Options, Force: opts.Force, IncludeCachedLatency: opts.IncludeCachedLatency}),
		sub:     map[int]*compare.Comparer{},
		failed:  map[[2]string][]FailedCase{},
		reqs:    map[string]*targetTally{},
	}
	for i, th := range opts.Thresholds {
		if th.Delta && needsOwnComparison(th) {
			b.sub[i] = compare.New(compare.Options{Options: opts.Options, Force: true})
		}
	}
	return b
}

// needsOwnComparison reports whether a delta threshold filters on anything
// but the suite and target, which the main comparison's rows carry.
func needsOwnComparison(th gate.Threshold) bool {
	for _, f := range th.Filters {
		if f.Key != "suite" && f.Key != "target" {
			return true
		}
	}
	return false
}

// Add counts one result of the run. r is not retained. A result whose key
// (suite, case, target, repeat) was already added is ignored by every part
// of the analysis alike, and counted in a warning.
func (b *Builder) Add(r *bench.Result) {
	if b.seen == nil {
		b.seen = make(map[bench.Key]struct{})
	}
	if _, dup := b.seen[r.Key()]; dup {
		b.dups++
		return
	}
	b.seen[r.Key()] = struct{}{}
	b.sum.Add(r)
	b.ev.Add(r)
	b.cmp.Add(RunArm, r)
	for i, c := range b.sub {
		if gate.Matches(b.opts.Thresholds[i].Filters, r) {
			c.Add(RunArm, r)
		}
	}
	t := b.reqs[r.Target]
	if t == nil {
		t = &targetTally{}
		b.reqs[r.Target] = t
		b.targets = append(b.targets, r.Target)
	}
	t.results++
	if r.Error != nil {
		t.errors++
		t.lastErr = string(r.Error.Kind) + ": " + r.Error.Message
		if r.Error.Kind == providers.KindCircuitOpen && t.circuit == "" {
			t.circuit = r.Error.Message
		}
	}
	if (r.Error != nil || !r.Pass) && b.opts.failedCases() > 0 {
		// Keep the first failed cases in case order (not arrival order), so
		// a run and the merge of its shards list the same ones.
		k := [2]string{r.Suite, r.Target}
		fs := b.failed[k]
		less := func(f FailedCase) bool {
			return cmp.Or(cmp.Compare(r.CaseID, f.CaseID), cmp.Compare(r.Repeat, f.Repeat)) < 0
		}
		i := len(fs)
		for i > 0 && less(fs[i-1]) {
			i--
		}
		if i < b.opts.failedCases() {
			reason := r.Reason
			if r.Error != nil {
				reason = string(r.Error.Kind) + ": " + r.Error.Message
			}
			f := FailedCase{Suite: r.Suite, Target: r.Target, CaseID: r.CaseID,
				Repeat: r.Repeat, Reason: reason, Output: excerpt(r.Output, 200)}
			fs = slices.Insert(fs, i, f)
			if len(fs) > b.opts.failedCases() {
				fs = fs[:b.opts.failedCases()]
			}
			b.failed[k] = fs
		}
	}
}

// AddBaseline counts one baseline result. r is not retained.
func (b *Builder) AddBaseline(r *bench.Result) {
	b.base = true
	b.baseSum.Add(r)
	label := b.opts.baselineLabel()
	b.cmp.Add(label, r)
	for _, c := range b.sub {
		c.Add(label, r)
	}
}

// AddSeq adds every result of seq with add (b.Add or b.AddBaseline),
// skipping a torn last line (bench.ErrTruncated) and stopping at any other
// error, which it returns.
func AddSeq(seq iter.Seq2[*bench.Result, error], add func(*bench.Result)) error {
	for r, err := range seq {
		if err != nil {
			if errors.Is(err, bench.ErrTruncated) {
				continue
			}
			return err
		}
		add(r)
	}
	return nil
}

// Close computes the Analysis. When the baseline cannot be compared with the
// run (different cases, prompts or suite versions, without Options.Force),
// it returns the Analysis without comparisons, its delta outcomes failed as
// "not comparable", together with the *compare.IncompatibleError; the run's
// own summaries and outcomes are complete either way.
func (b *Builder) Close() (*Analysis, error) {
	an := &Analysis{Summaries: b.sum.Close()}
	if b.dups > 0 {
		an.Warnings = append(an.Warnings, fmt.Sprintf("%d duplicate results (a case, target and repeat seen before) ignored", b.dups))
	}
	if b.base {
		an.Baseline = b.baseSum.Close()
	}
	an.Flaky = b.sum.Flaky()
	for _, s := range an.Summaries {
		an.FailedCases = append(an.FailedCases, b.failed[[2]string{s.Suite, s.Target}]...)
	}
	for _, t := range b.targets {
		tt := b.reqs[t]
		switch {
		case tt.circuit != "":
			an.TargetFailures = append(an.TargetFailures, TargetFailure{Target: t, Cause: "circuit breaker open: " + tt.circuit})
		case tt.results > 0 && tt.errors == tt.results:
			an.TargetFailures = append(an.TargetFailures, TargetFailure{Target: t,
				Cause: fmt.Sprintf("every request failed (%d of %d), last: %s", tt.errors, tt.results, tt.lastErr)})
		}
	}
	slices.SortFunc(an.TargetFailures, func(x, y TargetFailure) int { return cmp.Compare(x.Target, y.Target) })

	var (
		comparison *compare.Comparison
		refused    error
	)
	targets := slices.Sorted(slices.Values(b.targets))
	switch {
	case b.base:
		label := b.opts.baselineLabel()
		an.Reference = label
		c, err := b.cmp.CompareRuns(label, RunArm)
		if err != nil {
			refused = err
			an.Warnings = append(an.Warnings, "no comparison with "+label+": "+err.Error())
		} else {
			comparison = c
		}
	case len(targets) > 1 && b.opts.Reference != "" && slices.Contains(targets, b.opts.Reference):
		an.Reference = b.opts.Reference
		c, err := b.cmp.CompareTargets(RunArm, b.opts.Reference)
		if err != nil {
			return nil, err
		}
		comparison = c
	case len(targets) > 1 && b.opts.Reference != "":
		// An unknown reference does not cost the analysis: compare all pairs.
		an.Warnings = append(an.Warnings, fmt.Sprintf("reference %q is not a target of this run; every pair compared instead", b.opts.Reference))
		fallthrough
	case len(targets) > 1:
		an.Reference = "all pairs"
		c, err := b.cmp.CompareAllTargets(RunArm)
		if err != nil {
			return nil, err
		}
		comparison = c
	}
	if comparison != nil {
		an.Comparisons = comparison.Rows
		an.Costs = comparison.Costs
		an.Warnings = append(an.Warnings, comparison.Warnings...)
		an.Regressions = comparison.Regressions
		an.Improvements = comparison.Improvements
	}
	if len(targets) > 1 {
		all := comparison
		if b.base || an.Reference != "all pairs" {
			// The ranking needs every pair: best vs runner-up is always compared.
			var err error
			if all, err = b.cmp.CompareAllTargets(RunArm); err != nil {
				all = nil
			}
		}
		if all != nil {
			an.Ranking = rank(an.Summaries, all.Rows)
		}
	}
	an.Outcomes = b.ev.Outcomes(func(th gate.Threshold) ([]compare.Row, string) {
		if !b.base {
			return nil, "no data: no baseline results"
		}
		if refused != nil {
			return nil, "no data: the baseline is not comparable with this run (" + refused.Error() + "); pass --force to judge the cases both have"
		}
		rows := comparison.Rows
		for i, t := range b.opts.Thresholds {
			if t.Expr == th.Expr && t.Source == th.Source && b.sub[i] != nil {
				c, err := b.sub[i].CompareRuns(b.opts.baselineLabel(), RunArm)
				if err != nil {
					return nil, "no data: " + err.Error()
				}
				rows = c.Rows
			}
		}
		var out []compare.Row
		for _, r := range rows {
			if gate.MatchesRow(th.Filters, r.Suite, r.TargetB) {
				out = append(out, r)
			}
		}
		return out, ""
	})
	return an, refused
}

// rank orders each suite's targets by pass rate (then score) and groups
// them with the targets their paired pass-rate comparison cannot tell apart.
func rank(sums []Summary, rows []compare.Row) []Rank {
	tied := map[[3]string]bool{} // suite, a, b → not significantly different
	for _, r := range rows {
		if r.Metric != compare.MetricPassRate {
			continue
		}
		if !r.Significant {
			tied[[3]string{r.Suite, r.TargetA, r.TargetB}] = true
			tied[[3]string{r.Suite, r.TargetB, r.TargetA}] = true
		}
	}
	bySuite := map[string][]Summary{}
	var suites []string
	for _, s := range sums {
		if _, ok := bySuite[s.Suite]; !ok {
			suites = append(suites, s.Suite)
		}
		bySuite[s.Suite] = append(bySuite[s.Suite], s)
	}
	var out []Rank
	for _, suite := range suites {
		ss := bySuite[suite]
		if len(ss) < 2 {
			continue
		}
		slices.SortStableFunc(ss, func(x, y Summary) int {
			return cmp.Or(cmp.Compare(y.PassRate.Value, x.PassRate.Value), cmp.Compare(y.Score.Value, x.Score.Value), cmp.Compare(x.Target, y.Target))
		})
		rk := 0
		for i, s := range ss {
			// A target shares the rank of the one above when tied with it.
			if i == 0 || !tied[[3]string{suite, ss[i-1].Target, s.Target}] {
				rk = i + 1
			}
			r := Rank{Suite: suite, Rank: rk, Target: s.Target, PassRate: s.PassRate, N: s.Cases}
			for _, o := range ss {
				if o.Target != s.Target && tied[[3]string{suite, s.Target, o.Target}] {
					r.TiedWith = append(r.TiedWith, o.Target)
				}
			}
			out = append(out, r)
		}
	}
	return out
}

// excerpt returns the first n bytes of s, cut back to a rune boundary.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return strings.Clone(s[:n]) + "…"
}
