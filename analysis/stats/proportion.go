package stats

import "math"

// Interval is a point estimate with a two-sided confidence interval,
// Low ≤ Value ≤ High. Fields are NaN when the estimate is undefined (no data).
type Interval struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

func nanInterval() Interval { return Interval{math.NaN(), math.NaN(), math.NaN()} }

// Wilson is the Wilson score interval for a binomial proportion
// successes/n at the given confidence (Wilson 1927; recommended by Newcombe
// 1998 and Brown, Cai & DasGupta 2001 over the Wald interval). It has no
// continuity correction. Value is the sample proportion. The interval is
// clamped to [0, 1] and is exactly 0 (1) at the lower (upper) end when
// successes is 0 (n). n = 0, successes outside [0, n] or a confidence
// outside (0, 1) give a NaN interval.
func Wilson(successes, n int, confidence float64) Interval {
	z := zTwoSided(confidence)
	if n <= 0 || successes < 0 || successes > n || math.IsNaN(z) {
		return nanInterval()
	}
	nf := float64(n)
	p := float64(successes) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi := centre-half, centre+half
	if successes == 0 {
		lo = 0
	}
	if successes == n {
		hi = 1
	}
	return Interval{Value: p, Low: math.Max(0, lo), High: math.Min(1, hi)}
}

// PairedCounts is the 2×2 table of two pass/fail runs (A and B) over the same
// n units: Both passed, only A passed, only B passed, Neither passed.
type PairedCounts struct {
	Both    int
	AOnly   int
	BOnly   int
	Neither int
}

// N is the number of pairs.
func (t PairedCounts) N() int { return t.Both + t.AOnly + t.BOnly + t.Neither }

// NewcombePaired is the interval for the difference of two paired
// proportions, B's pass rate minus A's: Value = (BOnly − AOnly)/n.
//
// Method: Newcombe (1998, Statistics in Medicine 17:2635–2650) method 10, the
// hybrid score ("square-and-add") interval without continuity correction:
// Wilson intervals for each marginal proportion, combined with the estimated
// correlation φ between them, where φ's numerator Both·Neither − AOnly·BOnly
// is reduced by n/2 (and set to 0 when that crosses zero) when positive, and φ
// is 0 when any marginal total is 0 — the definition in Newcombe's paper and in
// Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency Tables"
// (2017), ch. 8. Coverage is close to nominal even for small n (Newcombe 1998;
// Fagerland et al. 2014). The interval is clamped to [-1, 1]. n = 0 gives NaN.
func NewcombePaired(t PairedCounts, confidence float64) Interval {
	n := t.N()
	if n <= 0 || t.Both < 0 || t.AOnly < 0 || t.BOnly < 0 || t.Neither < 0 {
		return nanInterval()
	}
	// Proportion 1 is B, proportion 2 is A, so the difference is B − A.
	x1, x2 := t.Both+t.BOnly, t.Both+t.AOnly
	w1, w2 := Wilson(x1, n, confidence), Wilson(x2, n, confidence)
	if math.IsNaN(w1.Value) || math.IsNaN(w2.Value) {
		return nanInterval()
	}
	p1, p2 := w1.Value, w2.Value
	// The 2×2 table with rows B pass/fail and columns A pass/fail.
	a, b, c, d := float64(t.Both), float64(t.BOnly), float64(t.AOnly), float64(t.Neither)
	var phi float64
	marg := (a + b) * (c + d) * (a + c) * (b + d)
	if marg > 0 {
		num := a*d - b*c
		switch {
		case num > float64(n)/2:
			num -= float64(n) / 2
		case num >= 0:
			num = 0
		}
		phi = num / math.Sqrt(marg)
	}
	dl1, du2 := p1-w1.Low, w2.High-p2
	du1, dl2 := w1.High-p1, p2-w2.Low
	theta := float64(t.BOnly-t.AOnly) / float64(n) // = p1 − p2, without its rounding
	lo := theta - math.Sqrt(math.Max(0, dl1*dl1-2*phi*dl1*du2+du2*du2))
	hi := theta + math.Sqrt(math.Max(0, dl2*dl2-2*phi*dl2*du1+du1*du1))
	return Interval{Value: theta, Low: math.Max(-1, lo), High: math.Min(1, hi)}
}

// McNemarExact is the two-sided p-value of the exact McNemar test: under the
// null hypothesis that A and B pass equally often, the aOnly discordant pairs
// out of aOnly+bOnly follow Binomial(aOnly+bOnly, 1/2), and
// p = min(1, 2·P(X ≤ min(aOnly, bOnly))). It is exact at every count (no
// normal approximation) and conservative, as every exact discrete test is.
// No discordant pairs gives p = 1; negative counts give NaN.
func McNemarExact(aOnly, bOnly int) float64 {
	if aOnly < 0 || bOnly < 0 {
		return math.NaN()
	}
	n := aOnly + bOnly
	k := min(aOnly, bOnly)
	if n == 0 || 2*k == n {
		return 1
	}
	return math.Min(1, 2*binomHalfCDF(k, n))
}

// binomHalfCDF is P(X ≤ k) for X ~ Binomial(n, 1/2) with k < n/2, summed
// from the k-th term down so that every term is computed in log space once
// and the rest by the ratio C(n,i−1)/C(n,i) = i/(n−i+1).
func binomHalfCDF(k, n int) float64 {
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	nf := float64(n)
	term := math.Exp(lg(nf+1) - lg(float64(k)+1) - lg(nf-float64(k)+1) - nf*math.Ln2)
	sum := term
	for i := k; i > 0 && term > sum*1e-17; i-- {
		term *= float64(i) / (nf - float64(i) + 1)
		sum += term
	}
	return sum
}
