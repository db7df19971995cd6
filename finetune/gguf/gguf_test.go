package gguf

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files the writer tests produce")

func open(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// Each dequantiser against gguf.quants.dequantize, bit for bit.
func TestDequantizeMatchesGGUFPy(t *testing.T) {
	for _, typ := range []Type{F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS} {
		t.Run(typ.String(), func(t *testing.T) {
			f := open(t, filepath.Join("testdata", "quant_"+typ.String()+".gguf"))
			info, ok := f.Tensor("w")
			if !ok || info.Type != typ || !slices.Equal(info.HFShape(), []int64{2, 256}) {
				t.Fatalf("tensor w: %+v", info)
			}
			got, err := f.ReadTensor("w")
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.ReadTensor("expected")
			if err != nil {
				t.Fatal(err)
			}
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("element %d: got %g, gguf-py %g", i, got[i], want[i])
			}
			var nonzero int
			for _, v := range got {
				if v != 0 {
					nonzero++
				}
			}
			if nonzero < 400 {
				t.Errorf("only %d non-zero values: fixture too weak", nonzero)
			}
		})
	}
}

func TestDequantizeErrors(t *testing.T) {
	if err := Dequantize(Q4_0, make([]byte, 18), make([]float32, 16)); err == nil {
		t.Error("partial block accepted")
	}
	if err := Dequantize(Q4_0, make([]byte, 17), make([]float32, 32)); err == nil {
		t.Error("short data accepted")
	}
	if err := Dequantize(IQ2_XXS, make([]byte, 66), make([]float32, 256)); err == nil || !strings.Contains(err.Error(), "IQ2_XXS") {
		t.Errorf("unsupported type: %v", err)
	}
}

// The quantisers the writer uses against gguf.quants.quantize.
func TestQuantizeMatchesGGUFPy(t *testing.T) {
	b, err := os.ReadFile("testdata/quantize_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx map[string]json.RawMessage
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	var in64 []float64
	json.Unmarshal(fx["input"], &in64)
	in := make([]float32, len(in64))
	for i, v := range in64 {
		in[i] = float32(v)
	}
	for _, typ := range []Type{F16, BF16, Q8_0} {
		var want string
		json.Unmarshal(fx[typ.String()], &want)
		got, err := Quantize(typ, in)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != want {
			t.Errorf("%s: bytes differ from gguf-py", typ)
		}
	}
}

func TestPermuteInverse(t *testing.T) {
	for _, c := range []struct{ heads, hd, cols int }{{4, 8, 3}, {3, 64, 2}, {1, 2, 1}} {
		n := c.heads * c.hd * c.cols
		orig := make([]float32, n)
		for i := range orig {
			orig[i] = float32(i)
		}
		x := slices.Clone(orig)
		if err := Permute(x, c.heads, c.cols); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(x, orig) && c.hd > 2 {
			t.Errorf("%+v: permute changed nothing", c)
		}
		// Row 1 of GGUF head 0 is HF row hd/2 (the partner of row 0).
		if x[1*c.cols] != orig[(c.hd/2)*c.cols] {
			t.Errorf("%+v: GGUF row 1 = %g, want HF row %d", c, x[c.cols], c.hd/2)
		}
		if err := Unpermute(x, c.heads, c.cols); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x, orig) {
			t.Errorf("%+v: unpermute(permute(x)) != x", c)
		}
	}
	if err := Unpermute(make([]float32, 12), 4, 3); err == nil {
		t.Error("odd head dimension accepted")
	}
}

// hfTensors reads a GGUF of HF-named F32 tensors (tiny_llama_hf.gguf).
func hfTensors(t *testing.T, path string) map[string][]float32 {
	f := open(t, path)
	out := map[string][]float32{}
	for _, ti := range f.Tensors() {
		d, err := f.ReadTensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		out[ti.Name] = d
	}
	return out
}

func tinyTensors(t *testing.T, f *File) (map[string][]float32, map[string][]int64) {
	data, shapes := map[string][]float32{}, map[string][]int64{}
	if err := f.ForEachHF(func(name string, shape []int64, d []float32) error {
		data[name], shapes[name] = d, shape
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return data, shapes
}

// The tiny LLaMA as transformers' GGUF loader sees it: config and every
// tensor (HF names, Q/K unpermuted), exactly.
func TestTinyLlamaMatchesTransformers(t *testing.T) {
	f := open(t, "testdata/tiny_llama.gguf")
	cfg, err := f.ModelConfig()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("testdata/tiny_llama_config.json")
	var tc struct {
		HiddenSize, IntermediateSize, NumHiddenLayers, NumAttentionHeads, NumKeyValueHeads int
		HeadDim, VocabSize, MaxPositionEmbeddings, BosTokenID, EosTokenID, PadTokenID      int
		RMSNormEps, RopeTheta                                                              float64
		TieWordEmbeddings                                                                  bool
	}
	var raw map[string]any
	json.Unmarshal(b, &raw)
	num := func(k string) int { return int(raw[k].(float64)) }
	tc.HiddenSize, tc.IntermediateSize, tc.NumHiddenLayers = num("hidden_size"), num("intermediate_size"), num("num_hidden_layers")
	tc.NumAttentionHeads, tc.NumKeyValueHeads, tc.HeadDim = num("num_attention_heads"), num("num_key_value_heads"), num("head_dim")
	tc.VocabSize, tc.MaxPositionEmbeddings = num("vocab_size"), num("max_position_embeddings")
	tc.BosTokenID, tc.EosTokenID, tc.PadTokenID = num("bos_token_id"), num("eos_token_id"), num("pad_token_id")
	tc.RMSNormEps, tc.RopeTheta, tc.TieWordEmbeddings = raw["rms_norm_eps"].(float64), raw["rope_theta"].(float64), raw["tie_word_embeddings"].(bool)
	switch {
	case cfg.HiddenSize != tc.HiddenSize, cfg.IntermediateSize != tc.IntermediateSize, cfg.NumHiddenLayers != tc.NumHiddenLayers,
		cfg.NumAttentionHeads != tc.NumAttentionHeads, cfg.KVHeads() != tc.NumKeyValueHeads, cfg.HeadDimension() != tc.HeadDim,
		cfg.VocabSize != tc.VocabSize, cfg.MaxPositionEmbeddings != tc.MaxPositionEmbeddings,
		*cfg.BOSTokenID != tc.BosTokenID, cfg.EOSTokenID[0] != tc.EosTokenID, *cfg.PadTokenID != tc.PadTokenID,
		float32(cfg.RMSNormEps) != float32(tc.RMSNormEps), cfg.RopeTheta != tc.RopeTheta, cfg.TieWordEmbeddings != tc.TieWordEmbeddings:
		t.Errorf("config differs from transformers':\n got %+v\nwant %+v", cfg, tc)
	}
	if cfg.RMSNormEps != 1e-5 {
		t.Errorf("rms_norm_eps %v, want the float32's shortest form 1e-05", cfg.RMSNormEps)
	}
	want := hfTensors(t, "testdata/tiny_llama_hf.gguf")
	got, shapes := tinyTensors(t, f)
	if len(got) != len(want) {
		t.Fatalf("%d tensors, transformers has %d", len(got), len(want))
	}
	specs := cfg.Tensors()
	if len(specs) != len(got) {
		t.Errorf("config lists %d tensors, file has %d", len(specs), len(got))
	}
	for _, s := range specs {
		if !slices.Equal(shapes[s.Name], s.Shape) {
			t.Errorf("%s: shape %v, want %v", s.Name, shapes[s.Name], s.Shape)
		}
		if i := sameBits(got[s.Name], want[s.Name]); i >= 0 {
			t.Errorf("%s: element %d differs from transformers' (%g vs %g)", s.Name, i, got[s.Name][i], want[s.Name][i])
		}
	}
}

func TestTemplateAndStops(t *testing.T) {
	f := open(t, "testdata/tiny_llama.gguf")
	tmpl, err := f.Template()
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Name != finetune.TemplateChatML || tmpl.DefaultSystem != "You are a helpful AI assistant named SmolLM, trained by Hugging Face" {
		t.Errorf("template %+v", tmpl)
	}
	tok, err := f.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	end, _ := tok.TokenID("<|im_end|>")
	if s := f.StopTokens(); !slices.Equal(s, []int32{end}) || tok.Specials().EOS != end {
		t.Errorf("stops %v, eos %d, want <|im_end|> = %d", s, tok.Specials().EOS, end)
	}
	ex := finetune.Example{Messages: []providers.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello"}}}
	ids, _, err := finetune.Encode(tok, tmpl, ex, 512)
	if err != nil {
		t.Fatal(err)
	}
	text := tok.Decode(ids)
	if !strings.HasPrefix(text, "<|im_start|>system\nYou are a helpful") || !strings.HasSuffix(text, "<|im_start|>assistant\nhello<|im_end|>\n") {
		t.Errorf("rendered %q", text)
	}

	l3 := open(t, "testdata/tok_llama-bpe.gguf")
	eot, _ := mustTok(t, l3).TokenID("<|eot_id|>")
	eos, _ := mustTok(t, l3).TokenID("<|end_of_text|>")
	if s := l3.StopTokens(); !slices.Equal(s, []int32{eos, eot}) {
		t.Errorf("llama3 stops %v, want [%d %d]", s, eos, eot)
	}
	if tm, err := l3.Template(); err != nil || tm.Name != finetune.TemplateLlama3 {
		t.Errorf("llama3 file without a chat template: %+v %v", tm, err)
	}
}

func mustTok(t *testing.T, f *File) interface {
	TokenID(string) (int32, bool)
} {
	tok, err := f.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A chat template none of the built-in formats matches is rendered as Jinja.
func TestTemplateJinjaFallback(t *testing.T) {
	src := "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
	f := open(t, "testdata/tok_spm.gguf")
	f.meta.values["tokenizer.chat_template"] = Value{typ: TypeString, s: src}
	tm, err := f.Template()
	if err != nil || tm.Name != finetune.TemplateJinja || tm.Jinja != src {
		t.Fatalf("%+v %v", tm, err)
	}
	tok, _ := f.Tokenizer()
	ids, err := finetune.RenderPrompt(tok, tm, "", []providers.Message{{Role: "user", Content: "hi"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Decode(ids); got != "<s>[INST] hi [/INST]" && got != "<s> [INST] hi [/INST]" {
		t.Errorf("prompt %q", got)
	}
	f.meta.values["tokenizer.chat_template"] = Value{typ: TypeString, s: "{% for %}"}
	if _, err := f.Template(); err == nil || !strings.Contains(err.Error(), "tokenizer.chat_template") {
		t.Errorf("broken template: %v", err)
	}
}
