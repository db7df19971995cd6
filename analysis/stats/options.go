package stats

import "hash/fnv"

// Options are the statistical knobs shared by every package under analysis:
// one name per knob, one place to set it. The zero value is the default: 95%
// intervals, DefaultResamples percentile-bootstrap resamples, seed 0.
type Options struct {
	// Confidence is the level of every interval and the significance
	// threshold of every test (significant when p < 1 − Confidence);
	// outside (0, 1) means 0.95.
	Confidence float64
	// Resamples is the number of bootstrap resamples; ≤ 0 means
	// DefaultResamples (2000).
	Resamples int
	// Seed seeds every bootstrap (mixed with the identity of what is
	// resampled, see SeedFor), so the same results always give the same
	// intervals.
	Seed uint64
	// BCa selects the bias-corrected and accelerated bootstrap for one-sample
	// means instead of the percentile bootstrap. Paired differences always
	// use the percentile bootstrap, whose p-value it inverts.
	BCa bool
}

// Level is Confidence, or 0.95 when it is outside (0, 1).
func (o Options) Level() float64 {
	if o.Confidence > 0 && o.Confidence < 1 {
		return o.Confidence
	}
	return 0.95
}

// Bootstrap is the BootstrapConfig for a resampling identified by parts (see
// SeedFor), at confidence Level.
func (o Options) Bootstrap(parts ...string) BootstrapConfig {
	return BootstrapConfig{Resamples: o.Resamples, Confidence: o.Level(), Seed: SeedFor(o.Seed, parts...), BCa: o.BCa}
}

// SeedFor mixes seed with a hash of parts, so that one quantity (say the
// score of suite "support" and target "gpt") always gets the same bootstrap
// stream wherever it is computed, and independent of what else is.
func SeedFor(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return seed ^ h.Sum64()
}
