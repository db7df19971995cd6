// Package gate evaluates k6-style thresholds over a stream of benchmark
// results, so CI can fail a build when model quality, latency or cost crosses
// a line. A threshold is one line of a tiny language:
//
//	pass_rate >= 0.85
//	pass_rate{target:gpt} ci_low >= 0.8
//	latency p(95) < 2s
//	score{suite:support,split:test} mean >= 0.7
//	delta(pass_rate) >= -0.02
//
// Parse and Validate check an expression before any provider is called;
// an Evaluator consumes results (and, for delta thresholds, baseline results)
// one at a time and returns one Outcome per threshold. The CLI maps a failed
// Outcome to exit code 99; this package does not print or exit.
//
// # Grammar
//
// In EBNF; whitespace may separate any two tokens except a number and its
// unit, and "$" and its number:
//
//	threshold    = subject [ aggregation ] comparison quantity .
//	subject      = metric [ filter ]
//	             | "delta" "(" delta-metric [ filter ] ")" .
//	metric       = "pass_rate" | "error_rate" | "errors" | "score" | "cases"
//	             | "latency" | "ttft" | "tokens_per_second"
//	             | "cost" | "tokens" | "input_tokens" | "output_tokens" .
//	delta-metric = "pass_rate" | "score" .
//	filter       = "{" match { "," match } "}" .
//	match        = key ":" pattern .
//	key          = letter { letter | digit | "_" | "-" | "." } .
//	pattern      = bare | quoted .
//	bare         = bchar { bchar } .        (* any character but space , } and " *)
//	quoted       = `"` { char | `\"` | `\\` } `"` .
//	aggregation  = "value" | "rate" | "ci_low" | "ci_high" | "mean" | "avg"
//	             | "min" | "max" | "med" | "p" "(" number ")" | "sum" | "count" .
//	comparison   = "<" | "<=" | ">" | ">=" | "==" | "!=" .
//	quantity     = [ "-" | "+" ] [ "$" ] number [ unit ] .
//	number       = digits [ "." digits ] [ exponent ] | "." digits [ exponent ] .
//	exponent     = ( "e" | "E" ) [ "-" | "+" ] digits .
//	unit         = "%" | "ns" | "us" | "µs" | "ms" | "s" | "m" | "h" .
//
// Names are case-sensitive. Parse errors give the 1-based column (in
// characters) of the offending token, and suggest the nearest name.
//
// # Metrics
//
// Each result (one case × target × repeat) contributes to a metric as follows;
// an errored result is one whose Error is set, and it counts as a failure
// with score 0.
//
//	metric             samples                                 default    aggregations
//	pass_rate          every result: 1 passed, 0 not           value      value rate ci_low ci_high count
//	error_rate         every result: 1 errored, 0 not          value      value rate ci_low ci_high count
//	errors             every result; value = errored results   count      count value sum rate
//	score              every result's score in [0, 1]          mean       mean avg value ci_low ci_high min max med p(N) count
//	cases              distinct (suite, case_id)               count      count value
//	latency            results without error, seconds          mean       mean avg min max med p(N) count
//	ttft               results without error with a TTFT       mean       mean avg min max med p(N) count
//	tokens_per_second  results without error, output tok/s     mean       mean avg min max med p(N) count
//	cost               every result's cost in USD              sum        sum value mean avg min max med p(N) count
//	tokens             every result's input+output tokens      sum        sum value mean avg min max med p(N) count
//	input_tokens       every result's input tokens             sum        (as tokens)
//	output_tokens      every result's output tokens            sum        (as tokens)
//	delta(pass_rate)   paired cases, candidate − baseline      see below  ci_low ci_high value count
//	delta(score)       paired cases, candidate − baseline      see below  ci_low ci_high value count
//
// value is the metric's estimate (the rate, the mean score, the total);
// ci_low and ci_high are the ends of its two-sided confidence interval at
// Options.Confidence (95% by default): Wilson score for pass_rate and
// error_rate, seeded bootstrap of the mean for score. rate for errors is
// errors/results. count is the number of samples. p(N) is the N-th
// percentile, 0 ≤ N ≤ 100, by linear interpolation between closest ranks
// (numpy's default); med is p(50); avg is mean.
//
// # Units
//
// Observed values and thresholds are compared in base units: seconds,
// US dollars, fractions, counts. A duration threshold takes a unit (ns, us or
// µs, ms, s, m, h); a bare number is milliseconds, as in k6, so
// `latency p(95) < 500` means 500ms. Rates, scores and deltas are fractions
// and accept a percentage: `error_rate < 2%` is `error_rate < 0.02`; a bare
// number above 1 is rejected as a likely missing "%". Cost takes an optional
// "$" ("$5" or "5"). Counts, tokens and tokens_per_second take plain numbers.
// A count aggregation is always a plain number.
//
// # Filters
//
// {key:pattern,…} keeps the results whose field matches every pattern; keys
// are suite, target, model (the requested or the resolved model), case_id,
// error (the error kind; results without an error never match) and any other
// key names a case tag (split, difficulty, …; a result without the tag never
// matches). In a pattern "*" matches any run of characters, so
// {target:openai:*} keeps every OpenAI target; a pattern may contain ":" and
// may be quoted to hold spaces, commas or braces.
//
// # Missing data is a breach
//
// Unlike k6, a threshold with no samples fails with Reason "no data": no
// matching result, no successful result for latency, no streamed result for
// ttft, no baseline or no paired case for a delta. A cost threshold (other
// than cost count) fails when any matching result has no known price, since
// the total would be an undercount. An undefined value (NaN) fails.
//
// # Delta thresholds (non-inferiority against a baseline)
//
// delta(m) compares the run (candidate) with a baseline added through
// Evaluator.AddBaseline, as candidate minus baseline, over paired cases.
//
// Pairing: a candidate result pairs with the baseline results of the same
// suite and case_id and of the same target name, or, when the baseline has
// results for exactly one target, of that target whatever its name (the usual
// "new model against the committed baseline" case). Filters select candidate
// results only; their baseline partners are found by the pairing. Candidate
// cases without a partner are left out (and counted in the Reason when the
// threshold fails). Repeats are averaged per case on each side before pairing.
//
// Interval: when every paired case has exactly one result on each side and
// no baseline case is paired twice, delta(pass_rate) uses Newcombe's paired
// score interval (stats.NewcombePaired, method 10) and delta(score) the
// paired bootstrap of the mean difference (stats.PairedBootstrap). Otherwise
// (repeats, or several candidate targets sharing one baseline target) both
// use a cluster bootstrap over cases (stats.BootstrapRatio), so that
// correlated results of one case are not counted as independent evidence.
//
// Semantics: without an explicit aggregation, `delta(m) >= x` and
// `delta(m) > x` compare the LOWER end of the two-sided interval (ci_low), and
// `delta(m) <= x` and `delta(m) < x` the UPPER end (ci_high). So
// `delta(pass_rate) >= -0.02` passes when the lower bound of the paired 95%
// interval of (candidate − baseline) is at least −0.02: we are 95% confident
// (strictly, 97.5% one-sided) that the pass rate dropped by no more than two
// points. This is a non-inferiority test with margin 0.02: a run that is not
// worse still fails when there are too few cases to show it. == and != on a
// delta need an explicit aggregation.
//
// # What the package does not do
//
// It does not read results files, load baselines, decide exit codes or print;
// it does not correct for multiple thresholds (each is a separate rule, as in
// k6); and it does not evaluate during a run (thresholds are judged once, on
// the complete stream).
package gate
