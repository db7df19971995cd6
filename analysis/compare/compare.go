package compare

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/stats"
)

// Metric names used in Row.Metric.
const (
	MetricPassRate = "pass_rate"
	MetricScore    = "score"
)

// Method names used in Row.Method.
const (
	MethodMcNemar   = "mcnemar-exact"             // exact McNemar p, Newcombe paired interval
	MethodBootstrap = "paired-bootstrap+wilcoxon" // paired bootstrap interval, p = max(bootstrap, Wilcoxon)
)

// Comparison is the outcome of one Compare call.
type Comparison struct {
	Level float64 `json:"level"` // confidence level of every interval
	// Rows has one row per arm pair × shared suite × metric (pass_rate, then
	// score), pairs in the order given, suites sorted; PAdjusted is
	// Holm-adjusted across all of them.
	Rows []Row `json:"rows"`
	// Regressions lists the paired cases whose pass rate fell from A to B
	// (with one result each: A passed, B failed), largest fall first, then
	// largest score fall, then suite, case ID and pair order.
	Regressions []CaseChange `json:"regressions,omitempty"`
	// Improvements lists the paired cases whose pass rate rose, largest rise
	// first, ordered like Regressions.
	Improvements []CaseChange `json:"improvements,omitempty"`
	// Costs has latency and cost for each arm pair × shared suite, in the
	// order of Rows.
	Costs []CostLatency `json:"costs,omitempty"`
	// Warnings are the incompatibilities tolerated by Options.Force,
	// duplicate results ignored and arms with errored results.
	Warnings []string `json:"warnings,omitempty"`
}

// CaseChange is one paired case whose pass rate differs between the arms,
// for "most regressed cases" lists. With one result per arm, APassed and
// BPassed are 0 or 1 and ARuns = BRuns = 1.
type CaseChange struct {
	Suite   string  `json:"suite"`
	CaseID  string  `json:"case_id"`
	A       string  `json:"a"`      // arm labels, as in Row
	B       string  `json:"b"`      //
	Target  string  `json:"target"` // B's target
	APassed int     `json:"a_passed"`
	ARuns   int     `json:"a_runs"`
	BPassed int     `json:"b_passed"`
	BRuns   int     `json:"b_runs"`
	AScore  float64 `json:"a_score"` // mean over the case's repeats
	BScore  float64 `json:"b_score"`
	// Reason is B's scorer reason or error ("kind: message") for its first
	// failed repeat, or for its first repeat when none failed.
	Reason string `json:"reason,omitempty"`
	// Output is an excerpt (Options.ExcerptLen bytes) of B's output for the
	// same repeat as Reason.
	Output string `json:"output,omitempty"`
}

// APass reports whether A passed the case in a majority of its repeats
// (with one repeat: A passed); likewise BPass. Use them where a report wants
// a single pass/fail per side.
func (c CaseChange) APass() bool { return 2*c.APassed > c.ARuns }

// BPass reports whether B passed the case in a majority of its repeats.
func (c CaseChange) BPass() bool { return 2*c.BPassed > c.BRuns }

// PassDelta is B's pass rate on the case minus A's.
func (c CaseChange) PassDelta() float64 {
	return float64(c.BPassed)/float64(c.BRuns) - float64(c.APassed)/float64(c.ARuns)
}

// CostLatency compares the cost and speed of two arms on the cases they share.
type CostLatency struct {
	Suite string `json:"suite"`
	A     string `json:"a"`
	B     string `json:"b"`
	N     int    `json:"n"` // paired cases
	// LatencyA and LatencyB are the medians over paired cases of each case's
	// mean latency over its successful results with a recorded latency
	// (baseline files record none); LatencyN* count the cases that had one.
	// With one result per case this is the median latency.
	LatencyA  time.Duration `json:"latency_a_ns"`
	LatencyB  time.Duration `json:"latency_b_ns"`
	LatencyNA int           `json:"latency_n_a"`
	LatencyNB int           `json:"latency_n_b"`
	// CostA and CostB sum cost_usd over every result (repeats included) of
	// the paired cases; CostKnown* is false when some result had no price
	// (the sum then covers only the priced ones).
	CostA      float64 `json:"cost_a_usd"`
	CostB      float64 `json:"cost_b_usd"`
	CostKnownA bool    `json:"cost_known_a"`
	CostKnownB bool    `json:"cost_known_b"`
	ResultsA   int     `json:"results_a"` // results behind CostA
	ResultsB   int     `json:"results_b"`
}

// CompareRuns compares run B against run A (the reference) target by target,
// pairing targets as analysis/gate pairs a run with a baseline: a target of B
// pairs with A's target of the same name, or, when A has a single target, with
// that one. A target left without a partner is an incompatibility (an issue of
// kind TargetUnpaired) unless Options.Force.
func (c *Comparer) CompareRuns(runA, runB string) (*Comparison, error) {
	ta, tb := c.targetsOf(runA), c.targetsOf(runB)
	switch {
	case runA == runB:
		return nil, fmt.Errorf("compare: CompareRuns(%q, %q): the two runs are the same", runA, runB)
	case len(ta) == 0:
		return nil, fmt.Errorf("compare: no results for run %q", runA)
	case len(tb) == 0:
		return nil, fmt.Errorf("compare: no results for run %q", runB)
	}
	var pairs []Pair
	var issues []Issue
	usedA := make(map[string]bool)
	for _, t := range tb {
		switch {
		case slices.Contains(ta, t):
			pairs = append(pairs, Pair{Arm{runA, t}, Arm{runB, t}})
			usedA[t] = true
		case len(ta) == 1:
			pairs = append(pairs, Pair{Arm{runA, ta[0]}, Arm{runB, t}})
			usedA[ta[0]] = true
		default:
			issues = append(issues, Issue{Kind: TargetUnpaired, A: runA, B: runB, Target: t, Run: runB})
		}
	}
	for _, t := range ta {
		if !usedA[t] {
			issues = append(issues, Issue{Kind: TargetUnpaired, A: runA, B: runB, Target: t, Run: runA})
		}
	}
	return c.compare(pairs, issues)
}

// CompareTargets compares every other target of run against its target
// reference.
func (c *Comparer) CompareTargets(run, reference string) (*Comparison, error) {
	ref := Arm{run, reference}
	if _, ok := c.arms[ref]; !ok {
		return nil, fmt.Errorf("compare: run %q has no results for target %q", run, reference)
	}
	var pairs []Pair
	for _, t := range c.targetsOf(run) {
		if t != reference {
			pairs = append(pairs, Pair{ref, Arm{run, t}})
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("compare: run %q has no target besides %q", run, reference)
	}
	return c.compare(pairs, nil)
}

// Compare compares each pair's B against its A. It returns an
// *IncompatibleError when some pair is not comparable (see the package doc,
// "Refusal") and Options.Force is not set, and a plain error for a pair
// naming an arm with no results or the same arm twice.
func (c *Comparer) Compare(pairs ...Pair) (*Comparison, error) {
	return c.compare(pairs, nil)
}

// pairPlan is one pair × shared suite, ready to compute.
type pairPlan struct {
	pair   Pair
	la, lb string // labels
	suite  string
	ids    []string // paired case IDs, sorted
	a, b   []*caseAcc
}

func (c *Comparer) compare(pairs []Pair, issues []Issue) (*Comparison, error) {
	if len(pairs) == 0 && len(issues) == 0 {
		return nil, errors.New("compare: nothing to compare")
	}
	for _, p := range pairs {
		for _, arm := range []Arm{p.A, p.B} {
			if _, ok := c.arms[arm]; !ok {
				return nil, fmt.Errorf("compare: no results for %s", arm)
			}
		}
		if p.A == p.B {
			return nil, fmt.Errorf("compare: %s compared with itself", p.A)
		}
	}
	labels := labelArms(pairs)
	var plans []pairPlan
	for _, p := range pairs {
		ps, is := c.plan(p, labels[p.A], labels[p.B])
		plans = append(plans, ps...)
		issues = append(issues, is...)
	}
	// Even when forced, a comparison needs at least one shared case.
	if len(issues) > 0 && (!c.opts.Force || len(plans) == 0) {
		return nil, &IncompatibleError{Issues: issues}
	}
	out := &Comparison{Level: c.opts.level()}
	for _, is := range issues {
		out.Warnings = append(out.Warnings, is.String())
	}
	out.Warnings = append(out.Warnings, c.armWarnings(pairs, labels)...)
	for _, pl := range plans {
		out.Rows = append(out.Rows, c.rows(pl)...)
		out.Costs = append(out.Costs, costs(pl))
		reg, imp := changes(pl)
		out.Regressions = append(out.Regressions, reg...)
		out.Improvements = append(out.Improvements, imp...)
	}
	ps := make([]float64, len(out.Rows))
	for i, r := range out.Rows {
		ps[i] = r.P
	}
	adj := stats.Holm(ps)
	alpha := 1 - out.Level
	for i := range out.Rows {
		out.Rows[i].PAdjusted = adj[i]
		out.Rows[i].Significant = adj[i] < alpha
	}
	// Stable sorts keep pair order for equal keys.
	slices.SortStableFunc(out.Regressions, func(x, y CaseChange) int {
		return cmp.Or(cmp.Compare(x.PassDelta(), y.PassDelta()), // most negative first
			cmp.Compare(x.BScore-x.AScore, y.BScore-y.AScore),
			cmp.Compare(x.Suite, y.Suite), cmp.Compare(x.CaseID, y.CaseID))
	})
	slices.SortStableFunc(out.Improvements, func(x, y CaseChange) int {
		return cmp.Or(cmp.Compare(y.PassDelta(), x.PassDelta()), // most positive first
			cmp.Compare(y.BScore-y.AScore, x.BScore-x.AScore),
			cmp.Compare(x.Suite, y.Suite), cmp.Compare(x.CaseID, y.CaseID))
	})
	return out, nil
}

// labelArms names each arm for Row.A and Row.B: the target name when both
// arms of every pair are in the same run; the run label when there is a single
// pair of one target across two runs; "Target (Run)" otherwise.
func labelArms(pairs []Pair) map[Arm]string {
	out := make(map[Arm]string)
	sameRun, single := true, len(pairs) == 1
	for _, p := range pairs {
		sameRun = sameRun && p.A.Run == p.B.Run
	}
	for _, p := range pairs {
		for _, a := range []Arm{p.A, p.B} {
			switch {
			case sameRun:
				out[a] = a.Target
			case single && p.A.Target == p.B.Target:
				out[a] = a.Run
			default:
				out[a] = a.String()
			}
		}
	}
	return out
}

// plan checks one pair suite by suite and lists its paired cases.
func (c *Comparer) plan(p Pair, la, lb string) ([]pairPlan, []Issue) {
	A, B := c.arms[p.A], c.arms[p.B]
	suites := make([]string, 0, len(A.suites)+len(B.suites))
	for s := range A.suites {
		suites = append(suites, s)
	}
	for s := range B.suites {
		if _, ok := A.suites[s]; !ok {
			suites = append(suites, s)
		}
	}
	slices.Sort(suites)
	var plans []pairPlan
	var issues []Issue
	for _, s := range suites {
		sa, sb := A.suites[s], B.suites[s]
		if sa == nil {
			issues = append(issues, Issue{Kind: SuiteOnlyInB, A: la, B: lb, Suite: s, Count: len(sb.cases)})
			continue
		}
		if sb == nil {
			issues = append(issues, Issue{Kind: SuiteOnlyInA, A: la, B: lb, Suite: s, Count: len(sa.cases)})
			continue
		}
		if va, vb := versionOf(sa), versionOf(sb); va != vb {
			issues = append(issues, Issue{Kind: SuiteVersion, A: la, B: lb, Suite: s, VersionA: va, VersionB: vb})
		}
		var onlyA, onlyB, prompts examples
		ids := make([]string, 0, min(len(sa.cases), len(sb.cases)))
		for id, ka := range sa.cases {
			kb := sb.cases[id]
			if kb == nil {
				onlyA.add(id)
				continue
			}
			if ka.promptConflict || kb.promptConflict || !samePrefix(ka.prompt, kb.prompt) {
				prompts.add(id)
			}
			ids = append(ids, id)
		}
		for id := range sb.cases {
			if _, ok := sa.cases[id]; !ok {
				onlyB.add(id)
			}
		}
		for _, x := range []struct {
			kind IssueKind
			ex   *examples
		}{{OnlyInA, &onlyA}, {OnlyInB, &onlyB}, {PromptsDiffer, &prompts}} {
			if x.ex.n > 0 {
				issues = append(issues, Issue{Kind: x.kind, A: la, B: lb, Suite: s, Count: x.ex.n, Examples: x.ex.ids})
			}
		}
		if len(ids) == 0 {
			issues = append(issues, Issue{Kind: NoCommonCases, A: la, B: lb, Suite: s})
			continue
		}
		slices.Sort(ids)
		pl := pairPlan{pair: p, la: la, lb: lb, suite: s, ids: ids,
			a: make([]*caseAcc, len(ids)), b: make([]*caseAcc, len(ids))}
		for i, id := range ids {
			pl.a[i], pl.b[i] = sa.cases[id], sb.cases[id]
		}
		plans = append(plans, pl)
	}
	return plans, issues
}

// versionOf is the suite's version, or the sorted versions joined by "," when
// an arm mixes several.
func versionOf(s *suiteAcc) string {
	v := slices.Clone(s.versions)
	slices.Sort(v)
	out := ""
	for i, x := range v {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// armWarnings notes duplicates and errors in the compared arms.
func (c *Comparer) armWarnings(pairs []Pair, labels map[Arm]string) []string {
	var arms []Arm
	for _, p := range pairs {
		for _, a := range []Arm{p.A, p.B} {
			if !slices.Contains(arms, a) {
				arms = append(arms, a)
			}
		}
	}
	var out []string
	for _, a := range arms {
		acc := c.arms[a]
		if acc.dups > 0 {
			out = append(out, fmt.Sprintf("%s: %s for an already seen case and repeat ignored", labels[a], plural(acc.dups, "result")))
		}
		if acc.errors > 0 {
			out = append(out, fmt.Sprintf("%s: %s of %d errored, counted as failures with score 0", labels[a], plural(acc.errors, "result"), acc.results))
		}
	}
	return out
}

// rowSeed mixes Options.Seed with the row's identity.
func (c *Comparer) rowSeed(pl pairPlan, metric string) uint64 {
	h := fnv.New64a()
	for _, s := range []string{pl.suite, metric, pl.pair.A.Run, pl.pair.A.Target, pl.pair.B.Run, pl.pair.B.Target} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return c.opts.Seed ^ h.Sum64()
}

// rows computes the pass_rate and score rows of one pair × suite.
func (c *Comparer) rows(pl pairPlan) []Row {
	n := len(pl.ids)
	level := c.opts.level()
	single := true
	as, bs := make([]float64, n), make([]float64, n)
	var pc stats.PairedCounts
	for i := range pl.ids {
		ka, kb := pl.a[i], pl.b[i]
		single = single && ka.n == 1 && kb.n == 1
		as[i], bs[i] = ka.passRate(), kb.passRate()
		switch {
		case as[i] > bs[i]:
			pc.AOnly++
		case bs[i] > as[i]:
			pc.BOnly++
		case as[i] == 1:
			pc.Both++
		default:
			pc.Neither++
		}
	}
	pass := Row{Suite: pl.suite, Metric: MetricPassRate, A: pl.la, B: pl.lb, N: n,
		ValueA: stats.Mean(as), ValueB: stats.Mean(bs), AOnly: pc.AOnly, BOnly: pc.BOnly}
	if single {
		iv := stats.NewcombePaired(pc, level)
		pass.Delta = stats.Interval{Value: iv.Value, Low: iv.Low, High: iv.High}
		pass.P = stats.McNemarExact(pc.AOnly, pc.BOnly)
		pass.Method = MethodMcNemar
		pass.IntervalA = armValue(stats.Wilson(pc.Both+pc.AOnly, n, level), pass.ValueA)
		pass.IntervalB = armValue(stats.Wilson(pc.Both+pc.BOnly, n, level), pass.ValueB)
	} else {
		pass.Delta, pass.P = c.paired(as, bs, c.rowSeed(pl, MetricPassRate))
		pass.Method = MethodBootstrap
		pass.IntervalA = armValue(c.armMean(as, pl, pl.pair.A, MetricPassRate), pass.ValueA)
		pass.IntervalB = armValue(c.armMean(bs, pl, pl.pair.B, MetricPassRate), pass.ValueB)
	}
	for i := range pl.ids {
		as[i], bs[i] = pl.a[i].score(), pl.b[i].score()
	}
	score := Row{Suite: pl.suite, Metric: MetricScore, A: pl.la, B: pl.lb, N: n,
		ValueA: stats.Mean(as), ValueB: stats.Mean(bs), Method: MethodBootstrap}
	score.Delta, score.P = c.paired(as, bs, c.rowSeed(pl, MetricScore))
	score.IntervalA = armValue(c.armMean(as, pl, pl.pair.A, MetricScore), score.ValueA)
	score.IntervalB = armValue(c.armMean(bs, pl, pl.pair.B, MetricScore), score.ValueB)
	return []Row{pass, score}
}

// armMean is the seeded bootstrap interval of the mean of one arm's per-case
// values xs. Its seed mixes Options.Seed with the arm, suite and metric (not
// the pair), so an arm compared with several others over the same cases gets
// the same interval in every row.
func (c *Comparer) armMean(xs []float64, pl pairPlan, arm Arm, metric string) stats.Interval {
	h := fnv.New64a()
	for _, s := range []string{"arm", pl.suite, metric, arm.Run, arm.Target} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return stats.BootstrapMean(xs, stats.BootstrapConfig{
		Resamples: c.opts.BootstrapIters, Confidence: c.opts.level(), Seed: c.opts.Seed ^ h.Sum64(),
	})
}

// armValue converts iv to a stats.Interval centred on the row's value v (the
// same mean, computed in another order, may differ from iv.Value in the last
// bit), keeping Low ≤ Value ≤ High.
func armValue(iv stats.Interval, v float64) stats.Interval {
	return stats.Interval{Value: v, Low: math.Min(iv.Low, v), High: math.Max(iv.High, v)}
}

// paired is the paired bootstrap interval of mean(b − a) and
// p = max(bootstrap p, Wilcoxon signed-rank p).
func (c *Comparer) paired(a, b []float64, seed uint64) (stats.Interval, float64) {
	iv, pb, err := stats.PairedBootstrap(a, b, stats.BootstrapConfig{
		Resamples: c.opts.BootstrapIters, Confidence: c.opts.level(), Seed: seed,
	})
	if err != nil { // lengths always match here
		return stats.Interval{Value: math.NaN(), Low: math.NaN(), High: math.NaN()}, math.NaN()
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	pw := stats.WilcoxonSignedRank(d).P
	return stats.Interval{Value: iv.Value, Low: iv.Low, High: iv.High}, math.Max(pb, pw)
}

// changes lists the pair's regressed and improved cases.
func changes(pl pairPlan) (reg, imp []CaseChange) {
	for i, id := range pl.ids {
		ka, kb := pl.a[i], pl.b[i]
		ra, rb := ka.passRate(), kb.passRate()
		if ra == rb {
			continue
		}
		ch := CaseChange{
			Suite: pl.suite, CaseID: id, A: pl.la, B: pl.lb, Target: pl.pair.B.Target,
			APassed: int(ka.passed), ARuns: int(ka.n), BPassed: int(kb.passed), BRuns: int(kb.n),
			AScore: ka.score(), BScore: kb.score(), Reason: kb.reason, Output: kb.excerpt,
		}
		if rb < ra {
			reg = append(reg, ch)
		} else {
			imp = append(imp, ch)
		}
	}
	return reg, imp
}

// costs sums latency and cost over the pair's paired cases.
func costs(pl pairPlan) CostLatency {
	cl := CostLatency{Suite: pl.suite, A: pl.la, B: pl.lb, N: len(pl.ids), CostKnownA: true, CostKnownB: true}
	side := func(ks []*caseAcc, cost *float64, known *bool, results *int) (time.Duration, int) {
		lat := make([]float64, 0, len(ks))
		for _, k := range ks {
			*cost += k.cost
			*known = *known && !k.costUnknown
			*results += int(k.n)
			if k.latN > 0 {
				lat = append(lat, float64(k.latSum)/float64(k.latN))
			}
		}
		if len(lat) == 0 {
			return 0, 0
		}
		slices.Sort(lat)
		return time.Duration(math.Round(stats.Quantile(lat, 0.5))), len(lat)
	}
	cl.LatencyA, cl.LatencyNA = side(pl.a, &cl.CostA, &cl.CostKnownA, &cl.ResultsA)
	cl.LatencyB, cl.LatencyNB = side(pl.b, &cl.CostB, &cl.CostKnownB, &cl.ResultsB)
	return cl
}
