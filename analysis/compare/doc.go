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
// with an error counts as a failure with score 0, as in bench.Summary; arms
// with errors get a warning, since an infrastructure failure then reads as a
// regression.
//
// # Statistics (all from analysis/stats)
//
//   - pass_rate, when every paired case has exactly one result in each arm:
//     exact McNemar test on the discordant pairs (stats.McNemarExact) for p,
//     and Newcombe's paired score interval (method 10, stats.NewcombePaired)
//     for the difference B − A. Method "mcnemar-exact".
//   - pass_rate with repeats on either side, and score always: the per-case
//     differences d = B − A of the case means; the interval is the percentile
//     paired bootstrap of mean(d) (stats.PairedBootstrap, Options.BootstrapIters
//     resamples, seeded); p is the larger of the bootstrap's two-sided
//     percentile p-value and the Wilcoxon signed-rank p-value of d
//     (stats.WilcoxonSignedRank, exact for ≤ 50 untied differences). Method
//     "paired-bootstrap+wilcoxon". The bootstrap p alone agrees with the
//     interval (p < α exactly when the interval excludes 0) but is too small
//     for a handful of cases (two cases that both improved give p ≈ 0.001);
//     the Wilcoxon p is exact at small n under the null that the two arms are
//     exchangeable (the "same model twice" case). The maximum of two valid
//     p-values is valid, keeps "significant ⇒ interval excludes 0", and costs
//     little power when n is large, where the two agree.
//   - Each arm's own interval (Row.IntervalA, Row.IntervalB), over the
//     paired cases: for pass_rate with one result per case in both arms, the
//     Wilson score interval of the arm's passes (stats.Wilson); otherwise (pass
//     rate with repeats, and score always) the seeded percentile bootstrap
//     interval of the mean of the arm's per-case means (stats.BootstrapMean,
//     Options.BootstrapIters resamples). These describe each arm alone; the
//     difference is judged by Delta, whose paired interval is narrower than
//     what two overlapping arm intervals suggest.
//   - Holm's step-down adjustment over every row of one Compare call (suites
//     × metrics × arm pairs) gives PAdjusted; a row is Significant when
//     PAdjusted < 1 − Options.Level. The family-wise false-alarm rate is
//     therefore at most 1 − Level for the whole comparison.
//
// Each row's bootstrap seed is Options.Seed mixed with a hash of the row's
// identity (suite, metric, arms), so a row's interval does not change when
// other suites or pairs are added; an arm's own bootstrap seed mixes in the
// suite, metric and that arm only, so the same arm over the same cases has the
// same interval in every row it appears in.
//
// # Refusal
//
// Two arms are comparable only when, in every suite they share, they ran the
// same set of cases with the same prompt hashes (compared on their common
// prefix, so a baseline's short hash matches a run's full one) under the same
// suite version, and they share every suite. Otherwise Compare returns an
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
