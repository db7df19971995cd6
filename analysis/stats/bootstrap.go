package stats

import (
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// DefaultResamples is the number of bootstrap resamples used when a
// BootstrapConfig leaves Resamples at zero.
const DefaultResamples = 2000

// BootstrapConfig configures a bootstrap interval. The zero value means 2000
// resamples, 95% confidence, seed 0, percentile method.
type BootstrapConfig struct {
	Resamples  int     // ≤ 0: DefaultResamples
	Confidence float64 // outside (0, 1): 0.95
	Seed       uint64  // seeds a math/rand/v2 PCG; same seed and data, same interval
	// BCa selects the bias-corrected and accelerated interval (Efron 1987),
	// with the acceleration from the jackknife, instead of the plain
	// percentile interval. BCa corrects the percentile interval's
	// under-coverage for skewed data at small n.
	BCa bool
}

func (c BootstrapConfig) resamples() int {
	if c.Resamples <= 0 {
		return DefaultResamples
	}
	return c.Resamples
}

func (c BootstrapConfig) confidence() float64 {
	if !(c.Confidence > 0 && c.Confidence < 1) {
		return 0.95
	}
	return c.Confidence
}

// BootstrapMean is the bootstrap confidence interval for the mean of xs:
// Value is the sample mean, Low and High the quantiles α/2 and 1−α/2 of the
// means of cfg.Resamples resamples of xs drawn with replacement (quantiles by
// linear interpolation, as numpy.percentile), BCa-adjusted when cfg.BCa.
//
// The result depends only on the multiset of xs and cfg (xs is copied and
// sorted before resampling). It costs O(Resamples·n) time and O(n+Resamples)
// memory. Empty xs gives a NaN interval; one value, or all values equal, gives
// the degenerate interval [x, x].
func BootstrapMean(xs []float64, cfg BootstrapConfig) Interval {
	num := slices.Clone(xs)
	slices.Sort(num)
	iv, _ := bootstrapRatio(num, nil, cfg)
	return iv
}

// BootstrapRatio is the cluster bootstrap interval for Σnum/Σden, where
// num[i] and den[i] are the sum and the count (or weight) of cluster i: whole
// clusters are resampled with replacement, so values that are not independent
// within a cluster (repeats of one case, several targets answering one case)
// are not counted as independent evidence. With den all 1 it equals
// BootstrapMean(num). Percentile or BCa as cfg says (the BCa acceleration
// comes from the leave-one-cluster-out jackknife).
//
// The result depends only on the multiset of (num[i], den[i]) pairs and cfg.
// Lengths must match and every den must be positive, or the interval is NaN.
func BootstrapRatio(num, den []float64, cfg BootstrapConfig) Interval {
	if len(num) != len(den) {
		return nanInterval()
	}
	type pair struct{ n, d float64 }
	ps := make([]pair, len(num))
	for i := range num {
		if !(den[i] > 0) {
			return nanInterval()
		}
		ps[i] = pair{num[i], den[i]}
	}
	slices.SortFunc(ps, func(a, b pair) int {
		if c := cmpFloat(a.n, b.n); c != 0 {
			return c
		}
		return cmpFloat(a.d, b.d)
	})
	n, d := make([]float64, len(ps)), make([]float64, len(ps))
	for i, p := range ps {
		n[i], d[i] = p.n, p.d
	}
	iv, _ := bootstrapRatio(n, d, cfg)
	return iv
}

// PairedBootstrap is the paired bootstrap for the mean difference b[i] − a[i]
// over pairs (b is the candidate, a the reference): the interval is
// BootstrapMean of the differences, and p is the two-sided percentile-test
// p-value for "the mean difference is 0",
// p = min(1, 2·min(#{θ* ≤ 0}+1, #{θ* ≥ 0}+1)/(B+1)), which is below α exactly
// when the percentile interval at level 1−α excludes 0 (up to the +1
// correction that keeps p above 0). a and b must have the same length.
func PairedBootstrap(a, b []float64, cfg BootstrapConfig) (Interval, float64, error) {
	if len(a) != len(b) {
		return nanInterval(), math.NaN(), errors.New("stats: paired samples differ in length")
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	slices.Sort(d)
	iv, thetas := bootstrapRatio(d, nil, cfg)
	if len(thetas) == 0 {
		if len(d) == 0 {
			return iv, math.NaN(), nil
		}
		if iv.Value == 0 {
			return iv, 1, nil
		}
		return iv, 0, nil // all differences equal and non-zero: no resampling variability
	}
	var le, ge int
	for _, t := range thetas {
		if t <= 0 {
			le++
		}
		if t >= 0 {
			ge++
		}
	}
	p := 2 * float64(min(le, ge)+1) / float64(len(thetas)+1)
	return iv, math.Min(1, p), nil
}

// bootstrapRatio resamples clusters (num[i], den[i]); den nil means all 1.
// Inputs must already be in canonical (sorted) order. It returns the
// interval and the sorted bootstrap statistics, or nil statistics when the
// interval is degenerate (no data or no variability).
func bootstrapRatio(num, den []float64, cfg BootstrapConfig) (Interval, []float64) {
	n := len(num)
	if n == 0 {
		return nanInterval(), nil
	}
	var sn, sd float64
	for i := range num {
		sn += num[i]
		if den != nil {
			sd += den[i]
		}
	}
	if den == nil {
		sd = float64(n)
	}
	theta := sn / sd
	if n == 1 || constantRatio(num, den) {
		return Interval{theta, theta, theta}, nil
	}
	B := cfg.resamples()
	rng := indexer{pcg: rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15), n: uint64(n), thresh: -uint64(n) % uint64(n)}
	thetas := make([]float64, B)
	for b := range thetas {
		var s, w float64
		if den == nil {
			for range n {
				s += num[rng.next()]
			}
			w = float64(n)
		} else {
			for range n {
				j := rng.next()
				s += num[j]
				w += den[j]
			}
		}
		thetas[b] = s / w
	}
	slices.Sort(thetas)
	alpha := 1 - cfg.confidence()
	qlo, qhi := alpha/2, 1-alpha/2
	if cfg.BCa {
		qlo, qhi = bcaLevels(num, den, sn, sd, theta, thetas, alpha)
	}
	return Interval{
		Value: theta,
		Low:   Quantile(thetas, qlo),
		High:  Quantile(thetas, qhi),
	}, thetas
}

// indexer draws uniform indexes in [0, n) from a PCG with Lemire's
// multiply-and-reject method (exactly uniform), called on the concrete
// generator to keep the inner loop free of interface calls.
type indexer struct {
	pcg       *rand.PCG
	n, thresh uint64
}

func (r *indexer) next() uint64 {
	for {
		hi, lo := bits.Mul64(r.pcg.Uint64(), r.n)
		if lo >= r.thresh {
			return hi
		}
	}
}

func constantRatio(num, den []float64) bool {
	r0 := num[0]
	if den != nil {
		r0 /= den[0]
	}
	for i := range num {
		r := num[i]
		if den != nil {
			r /= den[i]
		}
		if r != r0 {
			return false
		}
	}
	return true
}

// bcaLevels returns the BCa-adjusted quantile levels (Efron & Tibshirani 1993,
// §14.3): z0 from the share of bootstrap statistics below θ̂ (ties counted
// half), acceleration a from the jackknife.
func bcaLevels(num, den []float64, sn, sd, theta float64, thetas []float64, alpha float64) (float64, float64) {
	// Ties with θ̂ count half (mid-rank), which matters for discrete data
	// such as 0/1 scores, where many resample means equal θ̂ exactly.
	below := 0
	for _, t := range thetas {
		if t < theta {
			below += 2
		} else if t == theta {
			below++
		}
	}
	z0 := NormalQuantile(float64(below) / float64(2*len(thetas)))
	n := len(num)
	jack := make([]float64, n)
	var jm float64
	for i := range num {
		w := float64(n - 1)
		if den != nil {
			w = sd - den[i]
		}
		jack[i] = (sn - num[i]) / w
		jm += jack[i]
	}
	jm /= float64(n)
	var s2, s3 float64
	for _, j := range jack {
		d := jm - j
		s2 += d * d
		s3 += d * d * d
	}
	a := 0.0
	if s2 > 0 {
		a = s3 / (6 * math.Pow(s2, 1.5))
	}
	adj := func(q float64) float64 {
		zq := NormalQuantile(q)
		return NormalCDF(z0 + (z0+zq)/(1-a*(z0+zq)))
	}
	lo, hi := adj(alpha/2), adj(1-alpha/2)
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return alpha / 2, 1 - alpha/2 // z0 infinite: every resample on one side; fall back to percentile
	}
	return lo, hi
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
