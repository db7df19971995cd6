// Package analysis is the one owner of what happens to results after they
// are written: a Builder (New, Add, AddBaseline, Close) reads a run's
// results, and optionally a baseline's, once and returns the *Analysis every
// report renders: per suite × target summaries (pass rate, score, latency,
// cost, retries, pass@k), flaky cases, failed cases, targets that did not
// really run, paired comparisons (the run against the baseline, or every pair
// of targets), a ranking with ties, and threshold verdicts, delta thresholds
// judged on the comparison's rows. Each fact is computed once, so the gate
// line, the tables and every report agree.
//
// Subpackages: analysis/stats (the statistics and the one Options),
// analysis/compare (the only place results are paired) and analysis/gate
// (the threshold language and its evaluation).
//
// What it does not do: run cases or call providers (package bench), read or
// write files (the caller streams results into Add), decide exit codes
// (cmd/yardstick), or format anything for people (package reports).
package analysis

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// Summarizer accumulates results into one Summary per suite × target. It
// keeps no Result: per group it stores one score per result, one latency and
// one TTFT per successful result, and pass/result counts per case, so memory
// is O(results) numbers plus O(cases) case IDs. It is not safe for concurrent
// use; the Runner's Sink is called from one goroutine, which suits it.
type Summarizer struct {
	opts   Options
	groups map[summaryKey]*summaryAcc
	seen   map[bench.Key]struct{}
}

type summaryKey struct{ suite, target string }

type caseTally struct {
	results, passed int // every result, errors counted as failures
	scoreSum        float64
	scoredPass      int // results without error that passed
	scoredFail      int // results without error that failed
	errors          int
	scoreMin        float64 // over results without error
	scoreMax        float64
}

type summaryAcc struct {
	model        string
	n, passed    int
	errors       int
	errorsByKind map[providers.Kind]int
	scores       []float64
	latencies    []time.Duration
	ttfts        []time.Duration
	tpsSum       float64
	tpsN         int
	usage        providers.Usage
	costs        []float64 // known result costs, summed in sorted order
	costKnown    bool
	judgeUsage   providers.Usage
	judgeCosts   []float64 // known judge costs, likewise
	cached       int
	retries      int
	cachedTiming int // successful cached results left out of timings
	latTotal     []time.Duration
	repeats      map[int]struct{}
	cases        map[string]*caseTally
}

// NewSummarizer returns an empty Summarizer. It reads opts' statistical
// knobs and IncludeCachedLatency.
func NewSummarizer(opts Options) *Summarizer {
	return &Summarizer{opts: opts, groups: make(map[summaryKey]*summaryAcc)}
}

// Add counts one result. r is not retained. Each (suite, case, target,
// repeat) key is counted once: a duplicate (two results files concatenated)
// is ignored, as package compare ignores it, so N agrees everywhere.
func (s *Summarizer) Add(r *bench.Result) {
	k := summaryKey{r.Suite, r.Target}
	if s.seen == nil {
		s.seen = make(map[bench.Key]struct{})
	}
	if _, dup := s.seen[r.Key()]; dup {
		return
	}
	s.seen[r.Key()] = struct{}{}
	a := s.groups[k]
	if a == nil {
		a = &summaryAcc{
			costKnown: true,
			repeats:   make(map[int]struct{}),
			cases:     make(map[string]*caseTally),
		}
		s.groups[k] = a
	}
	if a.model == "" {
		a.model = r.Model
	}
	a.n++
	a.scores = append(a.scores, r.Score)
	ct := a.cases[r.CaseID]
	if ct == nil {
		ct = &caseTally{scoreMin: math.Inf(1), scoreMax: math.Inf(-1)}
		a.cases[r.CaseID] = ct
	}
	ct.results++
	if r.Error == nil {
		ct.scoreSum += r.Score
		ct.scoreMin, ct.scoreMax = math.Min(ct.scoreMin, r.Score), math.Max(ct.scoreMax, r.Score)
	} else {
		ct.errors++
	}
	if r.Attempts > 1 {
		a.retries += r.Attempts - 1
	}
	if r.Pass && r.Error == nil {
		a.passed++
		ct.passed++
	}
	if r.Error != nil {
		a.errors++
		if a.errorsByKind == nil {
			a.errorsByKind = make(map[providers.Kind]int)
		}
		a.errorsByKind[r.Error.Kind]++
	} else {
		if r.Pass {
			ct.scoredPass++
		} else {
			ct.scoredFail++
		}
		if lat, ttft, ok := r.Timing(s.opts.IncludeCachedLatency); ok {
			a.latencies = append(a.latencies, lat)
			total := r.Latency
			if r.Cached {
				total = lat
			}
			a.latTotal = append(a.latTotal, total)
			if ttft > 0 {
				a.ttfts = append(a.ttfts, ttft)
			}
			if tps := r.TokensPerSecond(s.opts.IncludeCachedLatency); tps > 0 {
				a.tpsSum += tps
				a.tpsN++
			}
		} else {
			a.cachedTiming++
		}
	}
	a.usage = a.usage.Add(r.Usage)
	if r.CostUSD != nil {
		a.costs = append(a.costs, *r.CostUSD)
	} else {
		a.costKnown = false
	}
	a.judgeUsage = a.judgeUsage.Add(r.JudgeUsage)
	if r.JudgeCostUSD != nil {
		a.judgeCosts = append(a.judgeCosts, *r.JudgeCostUSD)
	}
	if r.Cached {
		a.cached++
	}
	a.repeats[r.Repeat] = struct{}{}
}

// Close returns one Summary per suite × target seen, sorted by suite then
// target. Every field is filled as follows:
//
//   - N counts every result, errors included; Passed counts results without
//     an error that passed; Errors and ErrorsByKind count results with one.
//   - Cases counts distinct cases. Every interval is clustered by case, so
//     repeats do not count as independent evidence.
//   - PassRate is Passed/N with stats.ClusteredProportion's interval over
//     cases (the Wilson interval when each case ran once; identical repeats
//     count as one case).
//   - Score is the mean over cases of each case's mean score (an errored
//     result scores 0) with compare.ArmScoreInterval's seeded bootstrap, the
//     interval a comparison shows for the same target over the same cases.
//   - Latency covers results without an error, and, unless
//     Options.IncludeCachedLatency, not served from the response cache
//     (CachedTimingExcluded counts those left out); TTFT those of them with
//     a TTFT (streamed targets).
//     Latency is the final attempt's (bench.Result.Timing); LatencyTotal
//     the same results' whole latency, retries and backoff included.
//   - Retries is the sum over results of Attempts − 1. Percentiles interpolate linearly between
//     closest ranks (numpy's default), Mean is the arithmetic mean.
//   - TokensPerSec is the mean of Result.OutputTokensPerSecond over
//     successful results where it is known.
//   - Nothing depends on the order results were added in (a results file
//     is in completion order, a merged one in shard order): the bootstrap
//     sorts its sample, and costs are summed in sorted order, so the same
//     results always give the same bits.
//   - Usage and CostUSD are sums over every result; CostKnown is false when
//     any result had no price (CostUSD then covers only the priced ones).
//   - JudgeUsage and JudgeCostUSD are the sums of Result.JudgeUsage and of
//     the known Result.JudgeCostUSD (model-graded scorers' calls), apart
//     from Usage and CostUSD.
//   - Repeats is the number of distinct repeat indexes seen.
//   - PassAtK[k], k = 1..Repeats, is the mean over cases of the unbiased
//     pass@k estimator (stats.PassAtK) with n = the case's results and c = its
//     passes; a case with fewer than k results is left out of PassAtK[k], and
//     k is omitted when no case has k results.
//   - PassHatK[k], likewise, is the mean of the unbiased pass^k estimator
//     (stats.PassHatK): the chance that k runs of a case all pass. PassHatK[1]
//     equals PassAtK[1]; with every case run n times PassHatK[n] equals
//     PassAllK.
//   - PassAllK is the share of cases all of whose results passed.
//   - FlakyCases lists, sorted, the case IDs that both passed and failed
//     across repeats, among results without an error (an infrastructure error
//     is not a flip of the model's outcome).
//
// Close may be called more than once; Add after Close keeps accumulating.
func (s *Summarizer) Close() []Summary {
	out := make([]Summary, 0, len(s.groups))
	for k, a := range s.groups {
		out = append(out, a.summary(k, s.opts))
	}
	slices.SortStableFunc(out, func(x, y Summary) int {
		return cmp.Or(cmp.Compare(x.Suite, y.Suite), cmp.Compare(x.Target, y.Target))
	})
	return out
}

func (a *summaryAcc) summary(k summaryKey, o Options) Summary {
	conf := o.Level()
	sm := Summary{
		Suite:                k.suite,
		Target:               k.target,
		Model:                a.model,
		N:                    a.n,
		Passed:               a.passed,
		Errors:               a.errors,
		Latency:              distribution(a.latencies),
		LatencyTotal:         distribution(a.latTotal),
		TTFT:                 distribution(a.ttfts),
		Usage:                a.usage,
		CostUSD:              sortedSum(a.costs),
		CostKnown:            a.costKnown,
		JudgeUsage:           a.judgeUsage,
		JudgeCostUSD:         sortedSum(a.judgeCosts),
		Cached:               a.cached,
		Repeats:              len(a.repeats),
		Cases:                len(a.cases),
		Retries:              a.retries,
		CachedTimingExcluded: a.cachedTiming,
	}
	if len(a.errorsByKind) > 0 {
		sm.ErrorsByKind = make(map[providers.Kind]int, len(a.errorsByKind))
		for kind, c := range a.errorsByKind {
			sm.ErrorsByKind[kind] = c
		}
	}
	ids := make([]string, 0, len(a.cases))
	for id := range a.cases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	passed, runs, means := make([]int, len(ids)), make([]int, len(ids)), make([]float64, len(ids))
	for i, id := range ids {
		ct := a.cases[id]
		passed[i], runs[i], means[i] = ct.passed, ct.results, ct.scoreSum/float64(ct.results)
	}
	sm.PassRate = stats.ClusteredProportion(passed, runs, conf)
	sm.Score = compare.ArmScoreInterval(means, o.Options, k.suite, k.target)
	if a.tpsN > 0 {
		sm.TokensPerSec = a.tpsSum / float64(a.tpsN)
	}

	sm.PassAtK = make(map[int]float64, sm.Repeats)
	sm.PassHatK = make(map[int]float64, sm.Repeats)
	for kk := 1; kk <= sm.Repeats; kk++ {
		var at, hat float64
		var m int
		for _, id := range ids {
			ct := a.cases[id]
			if ct.results >= kk {
				at += stats.PassAtK(ct.results, ct.passed, kk)
				hat += stats.PassHatK(ct.results, ct.passed, kk)
				m++
			}
		}
		if m > 0 {
			sm.PassAtK[kk], sm.PassHatK[kk] = at/float64(m), hat/float64(m)
		}
	}
	allPass := 0
	for _, id := range ids {
		ct := a.cases[id]
		if ct.passed == ct.results {
			allPass++
		}
		if ct.flaky() {
			sm.FlakyCases = append(sm.FlakyCases, id)
		}
	}
	if len(ids) > 0 {
		sm.PassAllK = float64(allPass) / float64(len(ids))
	}
	return sm
}

// distribution summarises ds, sorting it in place; empty ds gives the zero
// Distribution.
func distribution(ds []time.Duration) Distribution {
	if len(ds) == 0 {
		return Distribution{}
	}
	slices.Sort(ds)
	var sum float64
	for _, d := range ds {
		sum += float64(d)
	}
	p := func(q float64) time.Duration { v, _ := stats.PercentileDuration(ds, q); return v }
	return Distribution{
		N:    len(ds),
		Mean: time.Duration(sum/float64(len(ds)) + 0.5),
		P50:  p(50),
		P95:  p(95),
		P99:  p(99),
		Max:  ds[len(ds)-1],
	}
}

// Distribution summarises durations.
type Distribution struct {
	N    int           `json:"n"`
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P95  time.Duration `json:"p95_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
}

// Summary aggregates the results of one suite × target.
type Summary struct {
	Suite        string                 `json:"suite"`
	Target       string                 `json:"target"`
	Model        string                 `json:"model"`
	N            int                    `json:"n"`      // results, errors included
	Cases        int                    `json:"cases"`  // distinct cases; the n of every interval
	Passed       int                    `json:"passed"` // results that passed
	Errors       int                    `json:"errors"`
	ErrorsByKind map[providers.Kind]int `json:"errors_by_kind,omitempty"`
	PassRate     stats.Interval         `json:"pass_rate"`     // Passed/N; interval clustered by case (stats.ClusteredProportion)
	Score        stats.Interval         `json:"score"`         // mean of per-case means; compare.ArmScoreInterval
	Latency      Distribution           `json:"latency"`       // successful results only, final attempt
	LatencyTotal Distribution           `json:"latency_total"` // the same results, retries and backoff included
	TTFT         Distribution           `json:"ttft"`          // streamed successful results only
	TokensPerSec float64                `json:"output_tokens_per_second"`
	Usage        providers.Usage        `json:"usage"`
	CostUSD      float64                `json:"cost_usd"`
	CostKnown    bool                   `json:"cost_known"`               // every result had a price
	JudgeUsage   providers.Usage        `json:"judge_usage,omitzero"`     // sum of Result.JudgeUsage
	JudgeCostUSD float64                `json:"judge_cost_usd,omitempty"` // sum of the known Result.JudgeCostUSD
	Cached       int                    `json:"cached"`
	// CachedTimingExcluded counts successful cached results left out of
	// Latency, TTFT and TokensPerSec (Options.IncludeCachedLatency off).
	CachedTimingExcluded int             `json:"cached_timing_excluded,omitempty"`
	Retries              int             `json:"retries"`              // provider calls beyond the first, over every result
	Repeats              int             `json:"repeats"`              // distinct repeat indexes seen
	PassAtK              map[int]float64 `json:"pass_at_k,omitempty"`  // unbiased pass@k over cases, k ≤ repeats
	PassHatK             map[int]float64 `json:"pass_hat_k,omitempty"` // unbiased pass^k over cases: k runs all pass
	PassAllK             float64         `json:"pass_all_k,omitempty"` // share of cases passing every repeat
	FlakyCases           []string        `json:"flaky_cases,omitempty"`
}

// sortedSum sorts xs in place and sums it in that order: the same multiset
// always gives the same float64.
func sortedSum(xs []float64) float64 {
	slices.Sort(xs)
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}
