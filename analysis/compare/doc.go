// Package compare pairs two streams of results case by case and says, with a
// paired test and a confidence interval, whether one arm is better or worse
// than the other: `yardstick compare runA/results.jsonl runB/results.jsonl`,
// every target of a run against a reference target, or a run against a
// committed baseline (bench/baseline yields a baseline as results).
//
// # Arms and pairing
//
// An arm is one target of one run (Arm{Run, Target}); the caller names runs
// when adding results (Comparer.Add). Two arms are paired per suite by case
// ID. A case run several times (repeats) enters the comparison once, as the
// mean over its repeats of pass (0 or 1) and of score, so repeats sharpen each
// case's value instead of counting as independent cases (a case is the unit
// of sampling). Duplicate results for one (suite, case, target, repeat) key
// are ignored after the first and reported in Comparison.Warnings. A result
// with an error counts as a failure with score 0, as in analysis.Summary; arms
// with errors get a warning, since an infrastructure failure then reads as a
// regression.
//
// # Statistics (all from analysis/stats)
//
// One interval per quantity, and it agrees with its test: a row's Delta
// excludes 0 exactly when the row is Significant, which is exactly when its
// Holm-adjusted p is below 1 − Confidence. Every report and every delta()
// threshold reads that same interval.
//
//   - pass_rate, when every paired case has exactly one result in each arm:
//     the exact McNemar test on the discordant pairs (stats.McNemarExact) for
//     p, and the interval that inverts it (stats.McNemarInterval: an exact
//     conditional interval for the share of discordant pairs favouring B,
//     scaled by an exact interval for the discordance rate). Method
//     "mcnemar-exact". With no discordant pair it is ±stats.NoChangeBound:
//     120 identical cases bound a change to about ±3 points, 12 to ±26.
//   - pass_rate with repeats on either side, and score always: the paired t
//     test and its t interval over the per-case differences d = B − A of the
//     case means (stats.PairedT), so n counts cases, not results, and repeats
//     sharpen each case's value instead of counting as independent evidence.
//     Method "paired-t". One case gives p 1 and [−1, +1]; differences all 0
//     give ±stats.NoChangeBound; differences all equal and non-zero use the
//     exact sign-flip p 2^(1−n).
//   - Holm's step-down adjustment per metric family (every pass_rate row of
//     one Compare call, suites × arm pairs; then every score row) gives
//     PAdjusted, and each row's interval is shown at the level that agrees
//     with the adjusted verdict (stats.HolmLevels; Row.Level, Row.Adjusted).
//     The family-wise false-alarm rate is at most 1 − Confidence per family.
//   - Each arm's own interval (Row.IntervalA, Row.IntervalB), over the
//     paired cases: for pass_rate, the Wilson interval with repeats clustered
//     by case (stats.ClusteredProportion: identical repeats count as one
//     case); for score, ArmScoreInterval (the seeded bootstrap of the mean of
//     per-case means). The Summarizer uses the same two functions with the
//     same seeds, so a target's interval over the same cases is the same in
//     the results table and in a comparison. These describe each arm alone;
//     the difference is judged by Delta.
//
// # Refusal
//
// Two arms are comparable only when, in every suite they share, they ran the
// same set of cases with the same prompt hashes (compared on their common
// prefix, so a baseline's short hash matches a run's full one) under the same
// suite version, and B ran no suite A lacks (a suite only the reference A
// ran is skipped, with a warning: a candidate may run a subset of the
// baseline's suites). Otherwise Compare returns an
// *IncompatibleError listing the reasons, unless Options.Force is set, in which
// case the comparison runs on the cases both arms have (prompt-changed cases
// included: measuring a prompt change is why one forces) and the reasons are
// recorded in Comparison.Warnings.
//
// # Memory
//
// The Comparer never keeps a Result: per arm and case it stores a few counters,
// sums, a 16-character prompt-hash prefix and an output excerpt of at most
// Options.ExcerptLen bytes (for the regression lists). 100,000 cases per arm
// take a few tens of megabytes (see BenchmarkAdd).
//
// What it does not do: it does not read files (the caller streams
// bench.ReadResults or baseline.Load into Add), format anything for people
// (package reports does), or evaluate thresholds (analysis/gate does).
package compare
