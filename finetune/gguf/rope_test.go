package gguf

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
)

// Llama 3.1/3.2 rope factors computed as convert_hf_to_gguf.py computes
// rope_freqs.weight (testdata/rope_factors.json) give back their rope_scaling.
func TestRopeScalingFromFactors(t *testing.T) {
	b, err := os.ReadFile("testdata/rope_factors.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx []struct {
		Model       string               `json:"model"`
		Theta       float64              `json:"rope_theta"`
		HeadDim     int                  `json:"head_dim"`
		RopeScaling finetune.RopeScaling `json:"rope_scaling"`
		Factors     []float32            `json:"factors"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	for _, c := range fx {
		cfg := finetune.TinyConfig(16)
		cfg.HeadDim, cfg.RopeTheta = c.HeadDim, c.Theta
		r, err := ropeScalingFromFactors(cfg, c.Factors)
		if err != nil {
			t.Fatalf("%s: %v", c.Model, err)
		}
		if *r != c.RopeScaling {
			t.Errorf("%s: fitted %+v, want %+v", c.Model, *r, c.RopeScaling)
		}
		fitted := *cfg
		fitted.RopeScaling = r
		for i, f := range ropeFactors(&fitted) {
			if math.Abs(float64(f-c.Factors[i])) > 1e-5*float64(c.Factors[i]) {
				t.Errorf("%s: factor %d = %g, llama.cpp's %g", c.Model, i, f, c.Factors[i])
			}
		}
	}
	cfg := finetune.TinyConfig(16)
	bad := make([]float32, cfg.HeadDimension()/2)
	for i := range bad {
		bad[i] = float32(1 + i%3)
	}
	if _, err := ropeScalingFromFactors(cfg, bad); err == nil {
		t.Error("arbitrary factors fitted")
	}
}

func TestWriteLlama3RopeRoundTrip(t *testing.T) {
	cfg, data, _ := tiny(t)
	c := *cfg
	c.RopeScaling = &finetune.RopeScaling{RopeType: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192}
	c.RopeTheta = 500000
	c.HeadDim = 32 // 16 frequencies: one in the smooth band
	c.NumAttentionHeads, c.NumKeyValueHeads = 1, 1
	src := func(name string, shape []int64) ([]float32, error) {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		return make([]float32, n), nil
	}
	path := filepath.Join(t.TempDir(), "l3.gguf")
	if err := WriteModel(path, &c, src, ModelOptions{Type: F16}); err != nil {
		t.Fatal(err)
	}
	f := open(t, path)
	if ti, ok := f.Tensor(ropeFreqsTensor); !ok || ti.Type != F32 || ti.Shape[0] != 16 {
		t.Fatalf("rope_freqs %+v", ti)
	}
	got, err := f.ModelConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got.RopeScaling == nil || *got.RopeScaling != *c.RopeScaling {
		t.Errorf("rope_scaling %+v", got.RopeScaling)
	}
	_ = data
	if err := f.ForEachHF(func(name string, _ []int64, _ []float32) error {
		if name == ropeFreqsTensor {
			t.Error("rope_freqs passed on as a weight")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
