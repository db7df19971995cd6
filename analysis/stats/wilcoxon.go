package stats

import (
	"math"
	"slices"
)

// WilcoxonExactMax is the largest number of non-zero differences for which
// WilcoxonSignedRank computes the exact null distribution.
const WilcoxonExactMax = 50

// WilcoxonResult is the outcome of a Wilcoxon signed-rank test.
type WilcoxonResult struct {
	N     int     // non-zero differences ranked
	WPlus float64 // sum of the ranks of the positive differences
	P     float64 // two-sided p-value
	Exact bool    // P is from the exact distribution, not the normal approximation
}

// WilcoxonSignedRank tests whether the differences d (candidate − reference,
// one per pair) are symmetric about 0. Zero differences are dropped
// (Wilcoxon's method, scipy's zero_method="wilcox"); tied |d| get average
// ranks. When at most WilcoxonExactMax differences remain and none are tied,
// P is exact: min(1, 2·min(P(W⁺ ≤ w), P(W⁺ ≥ w))) over the 2^N equally likely
// sign assignments. Otherwise P uses the normal approximation with mean
// N(N+1)/4, variance N(N+1)(2N+1)/24 − Σ(t³−t)/48 over tie groups of size t,
// and a continuity correction of 0.5 towards the mean (scipy's
// wilcoxon(..., correction=True, method="approx")). No non-zero differences
// gives P = 1.
func WilcoxonSignedRank(d []float64) WilcoxonResult {
	type obs struct {
		abs float64
		pos bool
	}
	xs := make([]obs, 0, len(d))
	for _, v := range d {
		if v != 0 && !math.IsNaN(v) {
			xs = append(xs, obs{math.Abs(v), v > 0})
		}
	}
	n := len(xs)
	if n == 0 {
		return WilcoxonResult{P: 1}
	}
	slices.SortFunc(xs, func(a, b obs) int { return cmpFloat(a.abs, b.abs) })
	var wplus, tieTerm float64
	ties := false
	for i := 0; i < n; {
		j := i
		for j+1 < n && xs[j+1].abs == xs[i].abs {
			j++
		}
		r := float64(i+j+2) / 2 // average of ranks i+1 … j+1
		for k := i; k <= j; k++ {
			if xs[k].pos {
				wplus += r
			}
		}
		if t := float64(j - i + 1); t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		i = j + 1
	}
	res := WilcoxonResult{N: n, WPlus: wplus}
	nf := float64(n)
	if n <= WilcoxonExactMax && !ties {
		res.Exact = true
		res.P = wilcoxonExactP(n, int(wplus))
		return res
	}
	mean := nf * (nf + 1) / 4
	sd := math.Sqrt(nf*(nf+1)*(2*nf+1)/24 - tieTerm/48)
	if sd == 0 {
		res.P = 1
		return res
	}
	diff := wplus - mean
	if diff > 0 {
		diff = math.Max(0, diff-0.5)
	} else if diff < 0 {
		diff = math.Min(0, diff+0.5)
	}
	res.P = math.Min(1, 2*NormalCDF(-math.Abs(diff)/sd))
	return res
}

// wilcoxonExactP counts the sign assignments of ranks 1..n by their W⁺ (a
// subset-sum table) and returns the two-sided p-value of w.
func wilcoxonExactP(n, w int) float64 {
	maxSum := n * (n + 1) / 2
	counts := make([]float64, maxSum+1) // ≤ 2^50 fits a float64 exactly
	counts[0] = 1
	for r := 1; r <= n; r++ {
		for s := maxSum; s >= r; s-- {
			counts[s] += counts[s-r]
		}
	}
	total := math.Ldexp(1, n)
	var le, ge float64
	for s, c := range counts {
		if s <= w {
			le += c
		}
		if s >= w {
			ge += c
		}
	}
	return math.Min(1, 2*math.Min(le, ge)/total)
}
