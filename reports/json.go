package reports

import (
	"encoding/json"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"io"
	"math"
	"strconv"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/providers"
)

// JSONSchemaVersion is the version of the JSON report's schema. It changes
// only when a field is renamed or removed; new fields may appear without it.
const JSONSchemaVersion = 1

// JSON writes the machine-readable summary, indented, with a stable
// snake_case schema:
//
//	{
//	  "schema_version": 1,
//	  "verdict": "pass" | "fail" | "none",
//	  "verdict_line": "1 of 3 thresholds crossed",
//	  "meta": {"title", "run_id", "started", "finished", "git_sha", "git_ref", "baseline", "version"},
//	  "summaries": [{"suite", "target", "model", "n", "passed", "errors", "errors_by_kind",
//	                 "pass_rate": {"value", "low", "high"}, "score": {…},
//	                 "latency": {"n", "mean_ns", "p50_ns", "p95_ns", "p99_ns", "max_ns"} (final attempt),
//	                 "latency_total": {…} (retries included), "ttft": {…}, "cases", "retries", "cached_timing_excluded",
//	                 "output_tokens_per_second", "usage": {"input_tokens", "cached_input_tokens", "output_tokens"},
//	                 "cost_usd", "cost_known", "cached", "repeats", "pass_at_k", "pass_all_k", "flaky_cases"}],
//	  "baseline": [same as summaries],
//	  "thresholds": [{"threshold", "source", "group", "observed", "display", "n", "pass", "reason"}],
//	  "comparisons": [{"suite", "metric", "a", "b", "target_a", "target_b", "n", "level", "adjusted", "family", "value_a", "value_b",
//	                   "interval_a": {…}, "interval_b": {…}, "delta": {…},
//	                   "p", "p_adjusted", "significant", "method", "a_only", "b_only"}],
//	  "regressions": [{"suite", "case_id", "a", "b", "target", "a_passed", "a_runs", "b_passed", "b_runs",
//	                   "a_score", "b_score", "reason", "output"}],
//	  "costs": [{"suite", "a", "b", "n", "latency_a_ns", "latency_b_ns", "latency_n_a", "latency_n_b",
//	             "cost_a_usd", "cost_b_usd", "cost_known_a", "cost_known_b", "results_a", "results_b"}],
//	  "warnings": ["…"],
//	  "flaky": [{"suite", "target", "case_id", "runs", "passed", "failed", "errors", "score_min", "score_max"}],
//	  "reference": "baseline …" | TARGET | "all pairs" | "",
//	  "ranking": [{"suite", "rank", "target", "pass_rate": {…}, "n", "tied_with"}],
//	  "failed_cases": [{"suite", "target", "case_id", "repeat", "reason", "output"}],
//	  "target_failures": [{"target", "cause"}]
//	}
//
// Field names follow analysis.Summary, gate.Outcome and compare's Row,
// CaseChange and CostLatency. Numbers that
// are not finite (an undefined interval) are null. Lists are never null.
func JSON(w io.Writer, in *Input) error {
	doc := jsonDoc{
		SchemaVersion:  JSONSchemaVersion,
		Verdict:        in.Verdict(),
		VerdictLine:    verdictLine(in),
		Meta:           in.Meta,
		Summaries:      jsonSummaries(in.Summaries),
		Baseline:       jsonSummaries(in.Baseline),
		Thresholds:     make([]jsonOutcome, 0, len(in.Outcomes)),
		Comparisons:    make([]jsonRow, 0, len(in.Comparisons)),
		Regressions:    in.Regressions,
		Costs:          in.Costs,
		Warnings:       in.Warnings,
		Flaky:          flaky(in),
		Reference:      in.Reference,
		Ranking:        nonNil(in.Ranking),
		FailedCases:    nonNil(in.FailedCases),
		TargetFailures: nonNil(in.TargetFailures),
	}
	if doc.Regressions == nil {
		doc.Regressions = []compare.CaseChange{}
	}
	if doc.Costs == nil {
		doc.Costs = []compare.CostLatency{}
	}
	if doc.Warnings == nil {
		doc.Warnings = []string{}
	}
	if doc.Flaky == nil {
		doc.Flaky = []FlakyCase{}
	}
	for _, o := range in.Outcomes {
		doc.Thresholds = append(doc.Thresholds, jsonOutcome{
			Threshold: o.Threshold, Source: o.Source, Group: o.Group, Observed: num(o.Observed), Display: o.Display,
			N: o.N, Pass: o.Pass, Reason: o.Reason,
		})
	}
	for _, r := range in.Comparisons {
		doc.Comparisons = append(doc.Comparisons, jsonRow{
			Suite: r.Suite, Metric: r.Metric, A: r.A, B: r.B, TargetA: r.TargetA, TargetB: r.TargetB, N: r.N,
			Level: num(r.Level), Adjusted: r.Adjusted, Family: r.Family,
			ValueA: num(r.ValueA), ValueB: num(r.ValueB), IntervalA: interval(r.IntervalA), IntervalB: interval(r.IntervalB),
			Delta: interval(r.Delta),
			P:     num(r.P), PAdjusted: num(r.PAdjusted), Significant: r.Significant, Method: r.Method,
			AOnly: r.AOnly, BOnly: r.BOnly,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// num is a float64 that encodes NaN and ±Inf as null instead of failing.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

type jsonInterval struct {
	Value num `json:"value"`
	Low   num `json:"low"`
	High  num `json:"high"`
}

func interval(iv stats.Interval) jsonInterval {
	return jsonInterval{num(iv.Value), num(iv.Low), num(iv.High)}
}

type jsonDoc struct {
	SchemaVersion int                   `json:"schema_version"`
	Verdict       Verdict               `json:"verdict"`
	VerdictLine   string                `json:"verdict_line"`
	Meta          Meta                  `json:"meta"`
	Summaries     []jsonSummary         `json:"summaries"`
	Baseline      []jsonSummary         `json:"baseline"`
	Thresholds    []jsonOutcome         `json:"thresholds"`
	Comparisons   []jsonRow             `json:"comparisons"`
	Regressions   []compare.CaseChange  `json:"regressions"`
	Costs         []compare.CostLatency `json:"costs"`
	Warnings      []string              `json:"warnings"`
	Flaky         []FlakyCase           `json:"flaky"`
	// Reference, Ranking, FailedCases and TargetFailures are analysis'
	// fields of the same names.
	Reference      string                   `json:"reference"`
	Ranking        []analysis.Rank          `json:"ranking"`
	FailedCases    []analysis.FailedCase    `json:"failed_cases"`
	TargetFailures []analysis.TargetFailure `json:"target_failures"`
}

type jsonSummary struct {
	Suite                string                 `json:"suite"`
	Target               string                 `json:"target"`
	Model                string                 `json:"model"`
	N                    int                    `json:"n"`
	Passed               int                    `json:"passed"`
	Errors               int                    `json:"errors"`
	ErrorsByKind         map[providers.Kind]int `json:"errors_by_kind"`
	PassRate             jsonInterval           `json:"pass_rate"`
	Score                jsonInterval           `json:"score"`
	Latency              analysis.Distribution  `json:"latency"`
	LatencyTotal         analysis.Distribution  `json:"latency_total"`
	TTFT                 analysis.Distribution  `json:"ttft"`
	TokensPerSec         num                    `json:"output_tokens_per_second"`
	Usage                providers.Usage        `json:"usage"`
	CostUSD              num                    `json:"cost_usd"`
	CostKnown            bool                   `json:"cost_known"`
	JudgeUsage           providers.Usage        `json:"judge_usage"`
	JudgeCostUSD         num                    `json:"judge_cost_usd"`
	Cached               int                    `json:"cached"`
	CachedTimingExcluded int                    `json:"cached_timing_excluded"`
	Retries              int                    `json:"retries"`
	Cases                int                    `json:"cases"`
	Repeats              int                    `json:"repeats"`
	PassAtK              map[int]num            `json:"pass_at_k"`
	PassHatK             map[int]num            `json:"pass_hat_k"`
	PassAllK             num                    `json:"pass_all_k"`
	FlakyCases           []string               `json:"flaky_cases"`
}

type jsonOutcome struct {
	Threshold string `json:"threshold"`
	Source    string `json:"source"`
	Group     string `json:"group"`
	Observed  num    `json:"observed"`
	Display   string `json:"display"`
	N         int    `json:"n"`
	Pass      bool   `json:"pass"`
	Reason    string `json:"reason"`
}

type jsonRow struct {
	Suite       string       `json:"suite"`
	Metric      string       `json:"metric"`
	A           string       `json:"a"`
	B           string       `json:"b"`
	TargetA     string       `json:"target_a"`
	TargetB     string       `json:"target_b"`
	N           int          `json:"n"`
	Level       num          `json:"level"`
	Adjusted    bool         `json:"adjusted"`
	Family      int          `json:"family"`
	ValueA      num          `json:"value_a"`
	ValueB      num          `json:"value_b"`
	IntervalA   jsonInterval `json:"interval_a"`
	IntervalB   jsonInterval `json:"interval_b"`
	Delta       jsonInterval `json:"delta"`
	P           num          `json:"p"`
	PAdjusted   num          `json:"p_adjusted"`
	Significant bool         `json:"significant"`
	Method      string       `json:"method"`
	AOnly       int          `json:"a_only"`
	BOnly       int          `json:"b_only"`
}

func jsonSummaries(in []analysis.Summary) []jsonSummary {
	out := make([]jsonSummary, 0, len(in))
	for _, s := range in {
		j := jsonSummary{
			Suite: s.Suite, Target: s.Target, Model: s.Model, N: s.N, Passed: s.Passed, Errors: s.Errors,
			ErrorsByKind: s.ErrorsByKind, PassRate: interval(s.PassRate), Score: interval(s.Score),
			Latency: s.Latency, LatencyTotal: s.LatencyTotal, TTFT: s.TTFT, TokensPerSec: num(s.TokensPerSec), Usage: s.Usage,
			CostUSD: num(s.CostUSD), CostKnown: s.CostKnown, JudgeUsage: s.JudgeUsage, JudgeCostUSD: num(s.JudgeCostUSD), Cached: s.Cached, CachedTimingExcluded: s.CachedTimingExcluded, Retries: s.Retries, Cases: s.Cases, Repeats: s.Repeats,
			PassAllK: num(s.PassAllK), FlakyCases: s.FlakyCases,
		}
		if j.ErrorsByKind == nil {
			j.ErrorsByKind = map[providers.Kind]int{}
		}
		j.PassAtK, j.PassHatK = make(map[int]num, len(s.PassAtK)), make(map[int]num, len(s.PassHatK))
		for k, v := range s.PassAtK {
			j.PassAtK[k] = num(v)
		}
		for k, v := range s.PassHatK {
			j.PassHatK[k] = num(v)
		}
		if j.FlakyCases == nil {
			j.FlakyCases = []string{}
		}
		out = append(out, j)
	}
	return out
}

// nonNil returns xs, or an empty slice for nil, so lists encode as [].
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
