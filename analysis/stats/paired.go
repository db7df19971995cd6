package stats

import "math"

// McNemarInterval is the interval for B's pass rate minus A's over n paired
// pass/fail outcomes that inverts the exact McNemar test (McNemarExact): it
// excludes 0 exactly when McNemarExact(AOnly, BOnly) < 1 − confidence, so a
// report never prints a "significant" p-value beside an interval that covers
// 0, or the reverse.
//
// Method: write the difference as δ·(2π − 1), where δ is the probability that
// a pair is discordant and π the probability that a discordant pair favours B.
// π gets the Clopper–Pearson interval [πL, πU] of BOnly out of the
// d = AOnly + BOnly discordant pairs (conditional on d, the inversion of the
// exact McNemar test), δ the Clopper–Pearson interval [δL, δU] of d out of n,
// both at the given confidence, and the interval is the range of δ·(2π − 1)
// over that rectangle. With no discordant pair it is [−δU, +δU]: no sign of a
// difference, but the width still says how many cases stand behind that. The
// coverage of the product is at least 1 − 2·(1 − confidence) by Bonferroni's
// inequality and, as both Clopper–Pearson intervals are conservative,
// usually at or above the nominal level. Value is (BOnly − AOnly)/n. n = 0
// gives NaN.
func McNemarInterval(t PairedCounts, confidence float64) Interval {
	n := t.N()
	if n <= 0 || t.Both < 0 || t.AOnly < 0 || t.BOnly < 0 || t.Neither < 0 || !(confidence > 0 && confidence < 1) {
		return nanInterval()
	}
	d := t.AOnly + t.BOnly
	v := float64(t.BOnly-t.AOnly) / float64(n)
	dl, du := clopperPearson(d, n, confidence)
	pl, pu := 0.0, 1.0
	if d > 0 {
		pl, pu = clopperPearson(t.BOnly, d, confidence)
	}
	lo := math.Min(dl*(2*pl-1), du*(2*pl-1))
	hi := math.Max(dl*(2*pu-1), du*(2*pu-1))
	return Interval{Value: v, Low: math.Min(lo, v), High: math.Max(hi, v)}
}

// clopperPearson is the exact (Clopper–Pearson 1934) two-sided interval for
// x successes out of n: the α/2 and 1 − α/2 quantiles of Beta(x, n−x+1) and
// Beta(x+1, n−x), found by bisection on the regularised incomplete beta.
func clopperPearson(x, n int, confidence float64) (float64, float64) {
	a := (1 - confidence) / 2
	lo, hi := 0.0, 1.0
	if x > 0 {
		lo = betaQuantile(a, float64(x), float64(n-x+1))
	}
	if x < n {
		hi = betaQuantile(1-a, float64(x+1), float64(n-x))
	}
	return lo, hi
}

// betaQuantile solves I_p(a, b) = q for p by bisection.
func betaQuantile(q, a, b float64) float64 {
	lo, hi := 0.0, 1.0
	for range 200 {
		mid := (lo + hi) / 2
		if RegIncBeta(mid, a, b) < q {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-15 {
			break
		}
	}
	return (lo + hi) / 2
}

// RegIncBeta is the regularised incomplete beta function I_x(a, b), by the
// continued fraction of DLMF 8.17.22 evaluated with the modified Lentz
// method, using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction
// converges slowly. x outside [0, 1] or a non-positive a or b give NaN.
func RegIncBeta(x, a, b float64) float64 {
	switch {
	case !(a > 0 && b > 0) || !(x >= 0 && x <= 1):
		return math.NaN()
	case x == 0:
		return 0
	case x == 1:
		return 1
	}
	if x > (a+1)/(a+b+2) {
		return 1 - RegIncBeta(1-x, b, a)
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	const tiny = 1e-300
	f, c, d := 1.0, 1.0, 0.0
	for i := 0; i <= 300; i++ {
		m := float64(i / 2)
		var num float64
		switch {
		case i == 0:
			num = 1
		case i%2 == 0:
			num = m * (b - m) * x / ((a + 2*m - 1) * (a + 2*m))
		default:
			num = -(a + m) * (a + b + m) * x / ((a + 2*m) * (a + 2*m + 1))
		}
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		d = 1 / d
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		cd := c * d
		f *= cd
		if math.Abs(1-cd) < 1e-15 {
			break
		}
	}
	return front * (f - 1) / a
}

// StudentTTwoSided is P(|T| ≥ |t|) for Student's t with df degrees of
// freedom: I_{df/(df+t²)}(df/2, 1/2). df ≤ 0 gives NaN.
func StudentTTwoSided(t, df float64) float64 {
	if !(df > 0) || math.IsNaN(t) {
		return math.NaN()
	}
	if math.IsInf(t, 0) {
		return 0
	}
	return RegIncBeta(df/(df+t*t), df/2, 0.5)
}

// StudentTQuantile is the two-sided critical value t with
// P(|T| ≥ t) = 1 − confidence for df degrees of freedom.
func StudentTQuantile(confidence, df float64) float64 {
	if !(df > 0) || !(confidence > 0 && confidence < 1) {
		return math.NaN()
	}
	lo, hi := 0.0, 1.0
	for StudentTTwoSided(hi, df) > 1-confidence {
		hi *= 2
		if hi > 1e12 {
			return math.Inf(1)
		}
	}
	for range 200 {
		mid := (lo + hi) / 2
		if StudentTTwoSided(mid, df) > 1-confidence {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-12*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// PairedT is the paired t-test and its interval for the mean of the
// per-unit differences b[i] − a[i] (b the candidate): the interval
// mean ± t(confidence, n−1)·sd/√n and the two-sided p-value of "the mean
// difference is 0", which is below 1 − confidence exactly when the interval
// excludes 0. With repeats, pass a and b as per-case means, so that the unit
// of sampling is the case. Fewer than two pairs give a NaN interval and p
// (one case is no evidence). Differences all equal to d (no variance to
// estimate) use the exact sign-flip test instead: p = 1 when d is 0, else
// 2^(1−n) (every difference has the same sign), with the interval [d, d] when
// that p is below 1 − confidence and the hull of d and 0 otherwise, so the
// interval and the p-value still agree. Lengths must match.
func PairedT(a, b []float64, confidence float64) (Interval, float64) {
	n := len(a)
	if n != len(b) || n < 2 || !(confidence > 0 && confidence < 1) {
		if n == len(b) && n == 1 {
			v := b[0] - a[0]
			return Interval{Value: v, Low: math.NaN(), High: math.NaN()}, math.NaN()
		}
		return nanInterval(), math.NaN()
	}
	var sum float64
	for i := range a {
		sum += b[i] - a[i]
	}
	mean := sum / float64(n)
	var ss float64
	for i := range a {
		e := b[i] - a[i] - mean
		ss += e * e
	}
	se := math.Sqrt(ss / float64(n-1) / float64(n))
	if se == 0 || se < 1e-12*math.Abs(mean) {
		if mean == 0 {
			return Interval{0, 0, 0}, 1
		}
		p := math.Min(1, math.Pow(2, float64(1-n)))
		if p < 1-confidence {
			return Interval{mean, mean, mean}, p
		}
		return Interval{Value: mean, Low: math.Min(0, mean), High: math.Max(0, mean)}, p
	}
	df := float64(n - 1)
	h := StudentTQuantile(confidence, df) * se
	return Interval{Value: mean, Low: mean - h, High: mean + h}, StudentTTwoSided(mean/se, df)
}

// NoChangeBound is the Clopper–Pearson upper bound, at the given two-sided
// confidence, of the probability that a case changes when none of n cases
// did: 1 − ((1 − confidence)/2)^(1/n). A difference of two rates bounded in
// [−1, 1] that was 0 on each of n cases lies within ±NoChangeBound.
func NoChangeBound(n int, confidence float64) float64 {
	if n <= 0 || !(confidence > 0 && confidence < 1) {
		return math.NaN()
	}
	return 1 - math.Pow((1-confidence)/2, 1/float64(n))
}
