package stats

import (
	"math"
	"time"
)

// Quantile is the q-quantile (q in [0, 1]) of sorted, an ascending slice, by
// linear interpolation between closest ranks: with h = (n−1)·q, it is
// sorted[⌊h⌋] + (h−⌊h⌋)·(sorted[⌊h⌋+1] − sorted[⌊h⌋]). This is Hyndman & Fan's
// definition 7, the default of numpy.percentile ("linear"), R's quantile and
// Excel's PERCENTILE.INC. It does not check that sorted is sorted. Empty
// input or q outside [0, 1] gives NaN.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	lo, frac := rank(n, q)
	if frac == 0 {
		return sorted[lo]
	}
	a, b := sorted[lo], sorted[lo+1]
	return a + frac*(b-a)
}

// Percentile is Quantile(sorted, p/100) for p in [0, 100].
func Percentile(sorted []float64, p float64) float64 {
	return Quantile(sorted, p/100)
}

// PercentileDuration is Percentile over durations (linear interpolation,
// numpy's default), rounded to the nanosecond. sorted must be ascending.
// Empty input or p outside [0, 100] gives 0 and false.
func PercentileDuration(sorted []time.Duration, p float64) (time.Duration, bool) {
	n := len(sorted)
	q := p / 100
	if n == 0 || !(q >= 0 && q <= 1) {
		return 0, false
	}
	lo, frac := rank(n, q)
	if frac == 0 {
		return sorted[lo], true
	}
	a, b := sorted[lo], sorted[lo+1]
	return a + time.Duration(math.Round(frac*float64(b-a))), true
}

// rank splits h = (n−1)·q into its integer part (clamped so that lo+1 < n
// when frac > 0) and fraction.
func rank(n int, q float64) (int, float64) {
	h := float64(n-1) * q
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return n - 1, 0
	}
	return lo, h - float64(lo)
}

// Mean is the arithmetic mean of xs, NaN when xs is empty.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// PassAtK is the unbiased estimator of pass@k from Chen et al. (2021,
// "Evaluating Large Language Models Trained on Code"): the probability that at
// least one of k samples, drawn without replacement from n attempts of which c
// passed, passes: 1 − C(n−c, k)/C(n, k). It is computed as the product
// 1 − ∏_{i=n−c+1}^{n} (1 − k/i), which never forms a binomial coefficient and
// so neither overflows nor loses precision for large n. It is 1 when
// n − c < k. k outside [1, n] or c outside [0, n] gives NaN.
func PassAtK(n, c, k int) float64 {
	if k < 1 || k > n || c < 0 || c > n {
		return math.NaN()
	}
	if n-c < k {
		return 1
	}
	prod := 1.0
	for i := n - c + 1; i <= n; i++ {
		prod *= 1 - float64(k)/float64(i)
	}
	return 1 - prod
}

// PassHatK is the unbiased estimator of pass^k (Yao et al. 2024, τ-bench):
// the probability that all of k samples, drawn without replacement from n
// attempts of which c passed, pass: C(c, k)/C(n, k) = ∏_{i=0}^{k−1} (c−i)/(n−i).
// It is 0 when c < k. k outside [1, n] or c outside [0, n] gives NaN.
func PassHatK(n, c, k int) float64 {
	if k < 1 || k > n || c < 0 || c > n {
		return math.NaN()
	}
	if c < k {
		return 0
	}
	prod := 1.0
	for i := range k {
		prod *= float64(c-i) / float64(n-i)
	}
	return prod
}
