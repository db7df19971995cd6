package gguf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/safetensors"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// tiny loads the tiny LLaMA fixture: config, HF tensors, the file.
func tiny(t *testing.T) (*finetune.ModelConfig, map[string][]float32, *File) {
	f := open(t, "testdata/tiny_llama.gguf")
	cfg, err := f.ModelConfig()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := tinyTensors(t, f)
	return cfg, data, f
}

func source(data map[string][]float32) TensorSource {
	return func(name string, shape []int64) ([]float32, error) { return data[name], nil }
}

// writeGolden writes with write into testdata/name under -update, else into
// a temporary file that must be byte-identical to the committed one (which
// testdata/make_fixtures.py checked with gguf-py and transformers).
func writeGolden(t *testing.T, name string, write func(path string) error) string {
	t.Helper()
	golden := filepath.Join("testdata", name)
	path := golden
	if !*update {
		path = filepath.Join(t.TempDir(), name)
	}
	if err := write(path); err != nil {
		t.Fatal(err)
	}
	if !*update {
		got, _ := os.ReadFile(path)
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update, then make_fixtures.py)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the committed golden file checked by gguf-py (run go test -update, then make_fixtures.py)", name)
		}
	}
	return path
}

func TestWriteModelRoundTrip(t *testing.T) {
	cfg, data, src := tiny(t)
	tok, err := src.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	wantTJ, wantCJ, _ := src.TokenizerJSON()
	texts := []string{"Hello world 12345", "안녕하세요 😀", "  \n\n  x", "<|im_start|>user\nhi<|im_end|>"}
	for _, typ := range []Type{F32, F16, BF16, Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			write := func(path string) error {
				return WriteModel(path, cfg, source(data), ModelOptions{Type: typ, Tokenizer: tok, Name: "tiny-roundtrip"})
			}
			var path string
			if typ == F16 || typ == Q8_0 {
				path = writeGolden(t, "written_"+typ.String()+".gguf", write)
			} else {
				path = filepath.Join(t.TempDir(), "m.gguf")
				if err := write(path); err != nil {
					t.Fatal(err)
				}
			}
			f := open(t, path)
			got, err := f.ModelConfig()
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(cfg)
			b, _ := json.Marshal(got)
			if string(a) != string(b) {
				t.Errorf("config:\n got %s\nwant %s", b, a)
			}
			if s, _ := f.Metadata().String("general.name"); s != "tiny-roundtrip" {
				t.Errorf("general.name %q", s)
			}
			tj, cj, err := f.TokenizerJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tj, wantTJ) || !bytes.Equal(cj, wantCJ) {
				t.Errorf("tokenizer differs after the round trip")
			}
			tok2, _ := f.Tokenizer()
			for _, s := range texts {
				if !slices.Equal(tok.Encode(s), tok2.Encode(s)) {
					t.Errorf("%q: ids differ after the round trip", s)
				}
			}
			if tm, err := f.Template(); err != nil || tm.Name != finetune.TemplateChatML || tm.DefaultSystem == "" {
				t.Errorf("template %+v %v", tm, err)
			}
			back, shapes := tinyTensors(t, f)
			for _, spec := range cfg.Tensors() {
				want := data[spec.Name]
				if !slices.Equal(shapes[spec.Name], spec.Shape) {
					t.Errorf("%s: shape %v", spec.Name, shapes[spec.Name])
				}
				ti, _ := f.Tensor(mustGGUFName(t, spec.Name))
				wt := typ
				if len(spec.Shape) == 1 {
					wt = F32
				}
				if ti.Type != wt {
					t.Errorf("%s stored as %s, want %s", spec.Name, ti.Type, wt)
				}
				// Each stored value must be exactly what the type makes of
				// the original: quantisation works row by row, and the Q/K
				// permutation moves whole rows.
				q, _ := Quantize(wt, want)
				exp := make([]float32, len(want))
				Dequantize(wt, q, exp)
				if i := sameBits(back[spec.Name], exp); i >= 0 {
					t.Errorf("%s: element %d = %g, want %g", spec.Name, i, back[spec.Name][i], exp[i])
				}
			}
		})
	}
}

func mustGGUFName(t *testing.T, hf string) string {
	n, ok := GGUFName(hf)
	if !ok {
		t.Fatalf("no GGUF name for %s", hf)
	}
	return n
}

func TestWriteLoRA(t *testing.T) {
	cfg, _, _ := tiny(t)
	lora := &finetune.LoRAConfig{Rank: 4, Alpha: 8, TargetModules: []string{finetune.LoRAAllLinear}}
	rng := rand.New(rand.NewPCG(1, 2))
	data := map[string][]float32{}
	for _, lt := range cfg.LoRATensors(lora) {
		for _, s := range []finetune.TensorSpec{lt.A, lt.B} {
			v := make([]float32, safetensors.NumElements(s.Shape))
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			data[s.Name] = v
		}
	}
	path := writeGolden(t, "written_lora.gguf", func(path string) error {
		return WriteLoRA(path, cfg, lora, source(data), LoRAOptions{Type: F32, Name: "tiny-lora"})
	})
	f := open(t, path)
	m := f.Metadata()
	if s, _ := m.String("general.type"); s != "adapter" {
		t.Errorf("general.type %q", s)
	}
	if s, _ := m.String("adapter.type"); s != "lora" {
		t.Errorf("adapter.type %q", s)
	}
	if a, _ := m.Float("adapter.lora.alpha"); a != 8 {
		t.Errorf("alpha %v", a)
	}
	lts := cfg.LoRATensors(lora)
	if len(f.Tensors()) != 2*len(lts) || len(lts) != 2*7 {
		t.Fatalf("%d tensors for %d modules", len(f.Tensors()), len(lts))
	}
	for _, lt := range lts {
		base := mustGGUFName(t, lt.Module+".weight")
		a, okA := f.Tensor(base + ".lora_a")
		b, okB := f.Tensor(base + ".lora_b")
		// llama.cpp: a.ne = [in, rank], b.ne = [rank, out].
		if !okA || !okB || !slices.Equal(a.Shape, []int64{lt.In, 4}) || !slices.Equal(b.Shape, []int64{4, lt.Out}) {
			t.Fatalf("%s: a %v b %v", base, a.Shape, b.Shape)
		}
		ga, _ := f.ReadTensor(a.Name)
		gb, _ := f.ReadTensor(b.Name)
		if sameBits(ga, data[lt.A.Name]) >= 0 {
			t.Errorf("%s: A changed", base)
		}
		heads := 0
		switch {
		case strings.HasSuffix(lt.Module, "q_proj"):
			heads = cfg.NumAttentionHeads
		case strings.HasSuffix(lt.Module, "k_proj"):
			heads = cfg.KVHeads()
		}
		if heads > 0 {
			if sameBits(gb, data[lt.B.Name]) < 0 {
				t.Errorf("%s: B of a Q/K projection not permuted", base)
			}
			Unpermute(gb, heads, 4)
		}
		if i := sameBits(gb, data[lt.B.Name]); i >= 0 {
			t.Errorf("%s: B element %d differs", base, i)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	cfg, data, _ := tiny(t)
	dir := t.TempDir()
	if err := WriteModel(filepath.Join(dir, "x.gguf"), cfg, source(data), ModelOptions{Type: Q4_K}); err == nil || !strings.Contains(err.Error(), "Q4_K") {
		t.Errorf("Q4_K: %v", err)
	}
	short := func(name string, shape []int64) ([]float32, error) { return make([]float32, 3), nil }
	err := WriteModel(filepath.Join(dir, "y.gguf"), cfg, short, ModelOptions{Type: F16})
	if err == nil || !strings.Contains(err.Error(), "model.embed_tokens.weight") {
		t.Errorf("short tensor: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "y.gguf")); err == nil {
		t.Error("a failed write left its file behind")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := WriteLoRA(filepath.Join(dir, "l.gguf"), cfg, &finetune.LoRAConfig{Rank: 2, TargetModules: []string{"q_proj"}}, source(data), LoRAOptions{Type: Q8_0}); err == nil {
		t.Error("Q8_0 LoRA accepted")
	}
}

// The committed written_*.gguf files (which the round-trip tests require the
// writer to reproduce byte for byte) passed testdata/check_written.py: gguf-py
// and transformers read them as llama.cpp's own converter output.
func TestWrittenFilesCheckedByGGUFPy(t *testing.T) {
	b, err := os.ReadFile("testdata/written_check.json")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"written_F16.gguf", "written_Q8_0.gguf", "written_lora.gguf"} {
		if r, ok := res[name]; !ok || !r.OK {
			t.Errorf("%s: check_written.py verdict %+v", name, r)
		}
	}
}

// Hugging Face tokenizers (not GGUF-derived) written to GGUF: the Llama 3
// and SmolLM2 style byte-level ones and the SentencePiece-style one. The
// written vocabulary tokenizes every test string as the original does.
func TestWriteHFTokenizers(t *testing.T) {
	cases := loadTokCases(t)
	for _, c := range []struct{ file, fixture, model, pre string }{
		{"llama3.json", "llama-bpe", "gpt2", "llama-bpe"},
		{"smol.json", "smollm", "gpt2", "smollm"},
		{"llama2.json", "spm", "llama", "default"},
	} {
		t.Run(c.file, func(t *testing.T) {
			tok, err := tokenize.LoadHF(filepath.Join("..", "tokenize", "testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			cfg := finetune.TinyConfig(tok.VocabSize() + 3) // embedding rows beyond the tokenizer's ids
			zero := func(name string, shape []int64) ([]float32, error) {
				return make([]float32, safetensors.NumElements(shape)), nil
			}
			path := filepath.Join(t.TempDir(), "m.gguf")
			if err := WriteModel(path, cfg, zero, ModelOptions{Type: F16, Tokenizer: tok}); err != nil {
				t.Fatal(err)
			}
			f := open(t, path)
			m := f.Metadata()
			if s, _ := m.String("tokenizer.ggml.model"); s != c.model {
				t.Errorf("model %q", s)
			}
			if s, _ := m.String("tokenizer.ggml.pre"); s != c.pre {
				t.Errorf("pre %q", s)
			}
			bos, ok := m.Bool("tokenizer.ggml.add_bos_token")
			if c.file == "llama3.json" && (!ok || !bos) {
				t.Errorf("Llama 3's BOS post-processor: add_bos_token %v %v", bos, ok)
			}
			if toks, _ := m.Strings("tokenizer.ggml.tokens"); len(toks) != cfg.VocabSize || toks[len(toks)-1] != fmt.Sprintf("[PAD%d]", cfg.VocabSize-1) {
				t.Errorf("%d tokens for a vocabulary of %d, last %q", len(toks), cfg.VocabSize, toks[len(toks)-1])
			}
			back, err := f.Tokenizer()
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for _, tc := range cases[c.fixture] {
				if !tc.Lossy && !slices.Equal(back.Encode(tc.Text), tok.Encode(tc.Text)) {
					if bad++; bad <= 3 {
						t.Errorf("%q: %v, original %v", tc.Text, back.Encode(tc.Text), tok.Encode(tc.Text))
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d texts differ", bad)
			}
		})
	}
}
