package gguf

import (
	"fmt"
	"math"

	"github.com/yardstick-eval/yardstick/finetune"
)

// ropeFreqsTensor holds Llama 3.1/3.2 rope scaling in a GGUF file: one factor
// per rotary frequency, by which llama.cpp divides the frequency.
const ropeFreqsTensor = "rope_freqs.weight"

// llama3OriginalContext is the original_max_position_embeddings the fitted
// rope_scaling states. Llama 3's formula depends only on its ratios to the
// low and high frequency factors, so any value gives the same frequencies;
// 8192 is the one Llama 3.1 and 3.2 state.
const llama3OriginalContext = 8192

// ropeScalingFromFactors recovers Hugging Face's llama3 rope_scaling from
// llama.cpp's per-frequency factors: factor is the largest; the frequencies
// between the unscaled and fully scaled ones fix the two wavelength bounds.
// The fit is checked by recomputing every factor.
func ropeScalingFromFactors(cfg *finetune.ModelConfig, factors []float32) (*finetune.RopeScaling, error) {
	plain := *cfg
	plain.RopeScaling = nil
	inv := plain.RopeInvFreq()
	if len(factors) != len(inv) {
		return nil, fmt.Errorf("%d factors for %d rotary frequencies", len(factors), len(inv))
	}
	allOne := true
	factor := 0.0
	for _, f := range factors {
		factor = max(factor, float64(f))
		allOne = allOne && f == 1
	}
	if allOne {
		return nil, nil
	}
	// In the smooth band, s = (1/f − 1/factor)/(1 − 1/factor) rises linearly
	// in 1/wavelength from 0 (at old/low) to 1 (at old/high).
	var xs, ss []float64
	for i, f := range factors {
		if f == 1 || math.Abs(float64(f)-factor) < 1e-6*factor {
			continue
		}
		xs = append(xs, inv[i]/(2*math.Pi)) // 1/wavelength
		ss = append(ss, (1/float64(f)-1/factor)/(1-1/factor))
	}
	r := &finetune.RopeScaling{RopeType: "llama3", Factor: factor, OriginalMaxPositionEmbeddings: llama3OriginalContext}
	old := float64(llama3OriginalContext)
	if len(xs) >= 2 {
		// Least squares s = a·x + b: high wavelength bound old/high at s = 1, old/low at s = 0.
		n := float64(len(xs))
		var sx, sy, sxx, sxy float64
		for i := range xs {
			sx, sy, sxx, sxy = sx+xs[i], sy+ss[i], sxx+xs[i]*xs[i], sxy+xs[i]*ss[i]
		}
		a := (n*sxy - sx*sy) / (n*sxx - sx*sx)
		b := (sy - a*sx) / n
		// s = (old·x − low)/(high − low)  ⇒  a = old/(high−low), b = −low/(high−low).
		d := old / a
		r.LowFreqFactor = -b * d
		r.HighFreqFactor = r.LowFreqFactor + d
	} else {
		// Too few frequencies in the band to fit both bounds: take Llama 3's
		// published low_freq_factor 1 (and high_freq_factor 4 when none is in
		// the band); the check below decides whether that describes the file.
		r.LowFreqFactor, r.HighFreqFactor = 1, 4
		if len(xs) == 1 && ss[0] > 0 {
			r.HighFreqFactor = 1 + (old*xs[0]-1)/ss[0]
		}
	}
	check := *cfg
	check.RopeScaling = r
	got := check.RopeInvFreq()
	for i, f := range factors {
		want := inv[i] / float64(f)
		if math.Abs(got[i]-want) > 1e-4*want {
			return nil, fmt.Errorf("rope factors are not Llama 3 rope scaling (frequency %d: fitted %g, file %g)", i, got[i], want)
		}
	}
	r.LowFreqFactor = round6(r.LowFreqFactor)
	r.HighFreqFactor = round6(r.HighFreqFactor)
	return r, nil
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// ropeFactors are llama.cpp's per-frequency factors for cfg's llama3
// rope_scaling (what convert_hf_to_gguf.py stores in rope_freqs.weight).
func ropeFactors(cfg *finetune.ModelConfig) []float32 {
	plain := *cfg
	plain.RopeScaling = nil
	base, scaled := plain.RopeInvFreq(), cfg.RopeInvFreq()
	out := make([]float32, len(base))
	for i := range base {
		out[i] = float32(base[i] / scaled[i])
	}
	return out
}
