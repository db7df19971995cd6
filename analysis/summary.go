// Package analysis turns streams of bench.Result into everything a report
// shows: per suite × target summaries (pass rate, score, latency, cost,
// pass@k), flaky cases, and, through its subpackages, statistics
// (analysis/stats), paired comparisons (analysis/compare) and threshold
// verdicts (analysis/gate).
//
// What it does not do: run cases or call providers (package bench), read or
// write files, or format anything for people (package reports).
package analysis

import (
	"cmp"
	"slices"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// SummaryOptions configures a Summarizer. The zero value is valid and equals
// DefaultSummaryOptions.
type SummaryOptions struct {
	// Confidence is the level of every interval; outside (0, 1) means 0.95.
	Confidence float64
	// Resamples is the number of bootstrap resamples for the mean score;
	// ≤ 0 means stats.DefaultResamples (2000).
	Resamples int
	// Seed seeds the bootstrap, so a results file always summarises to the
	// same intervals.
	Seed uint64
	// BCa selects the bias-corrected and accelerated bootstrap for the mean
	// score instead of the percentile bootstrap.
	BCa bool
}

// DefaultSummaryOptions returns 95% intervals, 2000 percentile-bootstrap
// resamples and seed 1.
func DefaultSummaryOptions() SummaryOptions {
	return SummaryOptions{Confidence: 0.95, Resamples: stats.DefaultResamples, Seed: 1}
}

// Summarizer accumulates results into one Summary per suite × target. It
// keeps no Result: per group it stores one score per result, one latency and
// one TTFT per successful result, and pass/result counts per case, so memory
// is O(results) numbers plus O(cases) case IDs. It is not safe for concurrent
// use; the Runner's Sink is called from one goroutine, which suits it.
type Summarizer struct {
	opts   SummaryOptions
	groups map[summaryKey]*summaryAcc
}

type summaryKey struct{ suite, target string }

type caseTally struct {
	results, passed int // every result, errors counted as failures
	scoredPass      int // results without error that passed
	scoredFail      int // results without error that failed
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
	repeats      map[int]struct{}
	cases        map[string]*caseTally
}

// NewSummarizer returns an empty Summarizer.
func NewSummarizer(opts SummaryOptions) *Summarizer {
	return &Summarizer{opts: opts, groups: make(map[summaryKey]*summaryAcc)}
}

// Add counts one result. r is not retained. Each (suite, case, target,
// repeat) key is expected once; a duplicate is counted twice.
func (s *Summarizer) Add(r *bench.Result) {
	k := summaryKey{r.Suite, r.Target}
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
		ct = &caseTally{}
		a.cases[r.CaseID] = ct
	}
	ct.results++
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
		a.latencies = append(a.latencies, r.Latency)
		if r.TTFT > 0 {
			a.ttfts = append(a.ttfts, r.TTFT)
		}
		if tps := r.OutputTokensPerSecond(); tps > 0 {
			a.tpsSum += tps
			a.tpsN++
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
//   - PassRate is Passed/N with its Wilson score interval.
//   - Score is the mean of every result's score (an errored result scores 0)
//     with a seeded bootstrap interval (percentile, or BCa when asked).
//   - Latency covers results without an error; TTFT those of them with a
//     TTFT (streamed targets). Percentiles interpolate linearly between
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

func (a *summaryAcc) summary(k summaryKey, o SummaryOptions) Summary {
	conf := o.Confidence
	if !(conf > 0 && conf < 1) {
		conf = 0.95
	}
	sm := Summary{
		Suite:        k.suite,
		Target:       k.target,
		Model:        a.model,
		N:            a.n,
		Passed:       a.passed,
		Errors:       a.errors,
		Latency:      distribution(a.latencies),
		TTFT:         distribution(a.ttfts),
		Usage:        a.usage,
		CostUSD:      sortedSum(a.costs),
		CostKnown:    a.costKnown,
		JudgeUsage:   a.judgeUsage,
		JudgeCostUSD: sortedSum(a.judgeCosts),
		Cached:       a.cached,
		Repeats:      len(a.repeats),
	}
	if len(a.errorsByKind) > 0 {
		sm.ErrorsByKind = make(map[providers.Kind]int, len(a.errorsByKind))
		for kind, c := range a.errorsByKind {
			sm.ErrorsByKind[kind] = c
		}
	}
	w := stats.Wilson(a.passed, a.n, conf)
	sm.PassRate = w
	b := stats.BootstrapMean(a.scores, stats.BootstrapConfig{
		Resamples: o.Resamples, Confidence: conf, Seed: o.Seed, BCa: o.BCa,
	})
	sm.Score = b
	if a.tpsN > 0 {
		sm.TokensPerSec = a.tpsSum / float64(a.tpsN)
	}

	ids := make([]string, 0, len(a.cases))
	for id := range a.cases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	sm.PassAtK = make(map[int]float64, sm.Repeats)
	for kk := 1; kk <= sm.Repeats; kk++ {
		var sum float64
		var m int
		for _, id := range ids {
			ct := a.cases[id]
			if ct.results >= kk {
				sum += stats.PassAtK(ct.results, ct.passed, kk)
				m++
			}
		}
		if m > 0 {
			sm.PassAtK[kk] = sum / float64(m)
		}
	}
	allPass := 0
	for _, id := range ids {
		ct := a.cases[id]
		if ct.passed == ct.results {
			allPass++
		}
		if ct.scoredPass > 0 && ct.scoredFail > 0 {
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
	Passed       int                    `json:"passed"` // results that passed
	Errors       int                    `json:"errors"`
	ErrorsByKind map[providers.Kind]int `json:"errors_by_kind,omitempty"`
	PassRate     stats.Interval         `json:"pass_rate"` // Wilson 95% over N
	Score        stats.Interval         `json:"score"`     // mean, bootstrap 95%
	Latency      Distribution           `json:"latency"`   // successful results only
	TTFT         Distribution           `json:"ttft"`      // streamed successful results only
	TokensPerSec float64                `json:"output_tokens_per_second"`
	Usage        providers.Usage        `json:"usage"`
	CostUSD      float64                `json:"cost_usd"`
	CostKnown    bool                   `json:"cost_known"`               // every result had a price
	JudgeUsage   providers.Usage        `json:"judge_usage,omitzero"`     // sum of Result.JudgeUsage
	JudgeCostUSD float64                `json:"judge_cost_usd,omitempty"` // sum of the known Result.JudgeCostUSD
	Cached       int                    `json:"cached"`
	Repeats      int                    `json:"repeats"`              // distinct repeat indexes seen
	PassAtK      map[int]float64        `json:"pass_at_k,omitempty"`  // unbiased pass@k over cases, k ≤ repeats
	PassAllK     float64                `json:"pass_all_k,omitempty"` // share of cases passing every repeat
	FlakyCases   []string               `json:"flaky_cases,omitempty"`
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
