// Package stats holds the statistics Yardstick reports and gates on: confidence
// intervals for a proportion (Wilson score) and for a mean (seeded bootstrap,
// percentile or BCa), paired tests for two runs over the same cases (exact
// McNemar, Newcombe's paired score interval, paired bootstrap, Wilcoxon
// signed-rank), multiple-comparison adjustment (Holm, Benjamini–Hochberg),
// unbiased pass@k and pass^k, linear-interpolation percentiles and the normal
// quantile.
//
// It is a leaf: it imports only the standard library and knows nothing of
// results, suites or reports. Functions are pure and safe for concurrent use;
// every random procedure takes an explicit seed and returns the same answer for
// the same inputs and seed (bootstrap inputs are sorted first, so the answer
// depends on the multiset of values, not on their order).
//
// Conventions: confidence is a level in (0, 1), e.g. 0.95, and intervals are
// two-sided and equal-tailed. An argument out of range yields NaN in the
// affected result rather than a panic; callers treat NaN as missing data.
//
// What it does not do: it does not decide what to compare, pair records, or
// format numbers for people (package bench and analysis/gate do), and it does not
// implement exact unconditional tests or small-sample corrections beyond those
// documented on each function.
package stats
