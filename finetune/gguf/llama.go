package gguf

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/yardstick-eval/yardstick/finetune"
)

// Metadata keys of a llama-architecture file (prefix "llama.").
const (
	keyArch      = "general.architecture"
	keyAlignment = "general.alignment"
)

// ModelConfig builds the Hugging Face LlamaConfig equivalent to the file's
// llama.* metadata: dimensions, heads and key/value heads, rope base and
// linear rope scaling, RMSNorm epsilon, vocabulary size, context length,
// tied embeddings (when output.weight is absent) and the bos/eos/pad ids of
// tokenizer.ggml.*. Float32 values (rms eps) are given the shortest decimal
// that round-trips through float32, as config.json files state them. The
// result is validated.
func (f *File) ModelConfig() (*finetune.ModelConfig, error) {
	m := &f.meta
	bad := func(field, format string, args ...any) error {
		return &FormatError{File: f.path, Offset: -1, Field: field, Err: fmt.Errorf(format, args...)}
	}
	arch := f.Architecture()
	if arch != "llama" {
		if arch == "" {
			return nil, bad(keyArch, "missing")
		}
		return nil, bad(keyArch, "%q: only the llama architecture is supported", arch)
	}
	need := func(key string) (int, error) {
		v, ok := m.Int(key)
		if !ok {
			if _, present := m.Value(key); present {
				return 0, bad(key, "want an integer")
			}
			return 0, bad(key, "missing")
		}
		if v <= 0 || v > math.MaxInt32 {
			return 0, bad(key, "must be positive, got %d", v)
		}
		return int(v), nil
	}
	c := &finetune.ModelConfig{
		Architectures: []string{"LlamaForCausalLM"},
		ModelType:     "llama",
		HiddenAct:     "silu",
		TorchDtype:    "float32",
		RopeTheta:     10000,
	}
	var err error
	if c.HiddenSize, err = need("llama.embedding_length"); err != nil {
		return nil, err
	}
	if c.IntermediateSize, err = need("llama.feed_forward_length"); err != nil {
		return nil, err
	}
	if c.NumHiddenLayers, err = need("llama.block_count"); err != nil {
		return nil, err
	}
	if c.NumAttentionHeads, err = need("llama.attention.head_count"); err != nil {
		return nil, err
	}
	if c.MaxPositionEmbeddings, err = need("llama.context_length"); err != nil {
		return nil, err
	}
	if _, ok := m.Value("llama.attention.head_count_kv"); ok {
		if c.NumKeyValueHeads, err = need("llama.attention.head_count_kv"); err != nil {
			return nil, err
		}
	}
	if v, ok := m.Float("llama.attention.layer_norm_rms_epsilon"); ok {
		c.RMSNormEps = shortFloat(v, m, "llama.attention.layer_norm_rms_epsilon")
	} else {
		return nil, bad("llama.attention.layer_norm_rms_epsilon", "missing")
	}
	if v, ok := m.Float("llama.rope.freq_base"); ok {
		c.RopeTheta = shortFloat(v, m, "llama.rope.freq_base")
	}
	headDim := c.HiddenSize / c.NumAttentionHeads
	if v, ok := m.Int("llama.attention.key_length"); ok && int(v) != headDim {
		c.HeadDim = int(v)
		headDim = int(v)
	}
	if v, ok := m.Int("llama.attention.value_length"); ok && int(v) != headDim {
		return nil, bad("llama.attention.value_length", "%d differs from the key length %d: not a LLaMA", v, headDim)
	}
	if v, ok := m.Int("llama.rope.dimension_count"); ok && int(v) != headDim {
		return nil, bad("llama.rope.dimension_count", "rotary embeddings on %d of %d head dimensions (partial rotary) are not supported", v, headDim)
	}
	if s, ok := m.String("llama.rope.scaling.type"); ok && s != "none" {
		switch s {
		case "linear":
			fac, ok := m.Float("llama.rope.scaling.factor")
			if !ok {
				return nil, bad("llama.rope.scaling.factor", "missing for linear rope scaling")
			}
			c.RopeScaling = &finetune.RopeScaling{RopeType: "linear", Factor: shortFloat(fac, m, "llama.rope.scaling.factor")}
		default:
			return nil, bad("llama.rope.scaling.type", "%q rope scaling is not supported (supported: none, linear)", s)
		}
	}
	if n, ok := m.Int("llama.expert_count"); ok && n > 0 {
		return nil, bad("llama.expert_count", "mixture-of-experts models are not supported")
	}
	emb, ok := f.Tensor("token_embd.weight")
	if !ok {
		return nil, bad("token_embd.weight", "tensor missing")
	}
	if len(emb.Shape) != 2 || emb.Shape[0] != int64(c.HiddenSize) {
		return nil, bad("token_embd.weight", "shape %v, want [%d, vocab]", emb.Shape, c.HiddenSize)
	}
	c.VocabSize = int(emb.Shape[1])
	if v, ok := m.Int("llama.vocab_size"); ok && int(v) != c.VocabSize {
		return nil, bad("llama.vocab_size", "%d, but token_embd.weight has %d rows", v, c.VocabSize)
	}
	_, hasOutput := f.Tensor("output.weight")
	c.TieWordEmbeddings = !hasOutput
	id := func(key string) *int {
		v, ok := m.Int(key)
		if !ok || v < 0 || v >= int64(c.VocabSize) {
			return nil
		}
		i := int(v)
		return &i
	}
	c.BOSTokenID = id("tokenizer.ggml.bos_token_id")
	c.PadTokenID = id("tokenizer.ggml.padding_token_id")
	if e := id("tokenizer.ggml.eos_token_id"); e != nil {
		c.EOSTokenID = finetune.TokenIDs{*e}
	}
	if _, ok := f.Tensor(ropeFreqsTensor); ok {
		if c.RopeScaling != nil {
			return nil, bad(ropeFreqsTensor, "rope factors beside llama.rope.scaling.type %q", c.RopeScaling.RopeType)
		}
		factors, err := f.ReadTensor(ropeFreqsTensor)
		if err != nil {
			return nil, err
		}
		if c.RopeScaling, err = ropeScalingFromFactors(c, factors); err != nil {
			return nil, bad(ropeFreqsTensor, "%v", err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, &FormatError{File: f.path, Offset: -1, Err: fmt.Errorf("the llama.* metadata does not describe a usable model: %w", err)}
	}
	return c, nil
}

// shortFloat returns v with the shortest decimal representation of its
// stored precision (so float32 1e-5 reads 1e-05, not 9.999999747378752e-06).
func shortFloat(v float64, m *Metadata, key string) float64 {
	if val, ok := m.Value(key); ok && val.Type() == TypeFloat32 {
		s := strconv.FormatFloat(v, 'g', -1, 32)
		if r, err := strconv.ParseFloat(s, 64); err == nil {
			return r
		}
	}
	return v
}

// Tensor name mapping between llama.cpp's GGUF names and Hugging Face's
// LlamaForCausalLM names.
var (
	globalNames = map[string]string{
		"token_embd.weight":  "model.embed_tokens.weight",
		"output_norm.weight": "model.norm.weight",
		"output.weight":      "lm_head.weight",
	}
	blockNames = map[string]string{
		"attn_norm.weight":   "input_layernorm.weight",
		"ffn_norm.weight":    "post_attention_layernorm.weight",
		"attn_q.weight":      "self_attn.q_proj.weight",
		"attn_k.weight":      "self_attn.k_proj.weight",
		"attn_v.weight":      "self_attn.v_proj.weight",
		"attn_output.weight": "self_attn.o_proj.weight",
		"ffn_gate.weight":    "mlp.gate_proj.weight",
		"ffn_up.weight":      "mlp.up_proj.weight",
		"ffn_down.weight":    "mlp.down_proj.weight",
	}
	hfGlobal = invert(globalNames)
	hfBlock  = invert(blockNames)
	ggufRe   = regexp.MustCompile(`^blk\.(\d+)\.(.+)$`)
	hfRe     = regexp.MustCompile(`^model\.layers\.(\d+)\.(.+)$`)
)

func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// HFName maps a llama GGUF tensor name to its Hugging Face name
// ("blk.3.attn_q.weight" → "model.layers.3.self_attn.q_proj.weight").
func HFName(ggufName string) (string, bool) {
	if n, ok := globalNames[ggufName]; ok {
		return n, true
	}
	if m := ggufRe.FindStringSubmatch(ggufName); m != nil {
		if n, ok := blockNames[m[2]]; ok {
			return "model.layers." + m[1] + "." + n, true
		}
	}
	return "", false
}

// GGUFName maps a Hugging Face LlamaForCausalLM tensor name to llama.cpp's.
func GGUFName(hfName string) (string, bool) {
	if n, ok := hfGlobal[hfName]; ok {
		return n, true
	}
	if m := hfRe.FindStringSubmatch(hfName); m != nil {
		if n, ok := hfBlock[m[2]]; ok {
			return "blk." + m[1] + "." + n, true
		}
	}
	return "", false
}

// Unpermute undoes llama.cpp's reordering of the rows of a Q or K projection
// weight, in place. convert_hf_to_gguf.py stores each head's rows
// interleaved (the pairs rotated together side by side, as GGML's rope
// wants them) where Hugging Face stores the first halves of all pairs, then
// the second halves (rotate_half). data is row-major [heads·headDim, cols];
// heads is the number of attention heads for Q and of key/value heads for K.
func Unpermute(data []float32, heads, cols int) error {
	return permuteRows(data, heads, cols, false)
}

// Permute applies llama.cpp's Q/K row reordering (the inverse of Unpermute),
// in place.
func Permute(data []float32, heads, cols int) error {
	return permuteRows(data, heads, cols, true)
}

func permuteRows(data []float32, heads, cols int, toGGUF bool) error {
	if heads <= 0 || cols <= 0 || len(data)%(heads*cols) != 0 {
		return fmt.Errorf("gguf: cannot permute %d values as %d heads of rows of %d", len(data), heads, cols)
	}
	rows := len(data) / cols
	hd := rows / heads
	if hd%2 != 0 {
		return fmt.Errorf("gguf: head dimension %d is odd", hd)
	}
	half := hd / 2
	src := make([]float32, hd*cols)
	for h := range heads {
		blk := data[h*hd*cols : (h+1)*hd*cols]
		copy(src, blk)
		for i := range half {
			for j := range 2 {
				hfRow, ggRow := j*half+i, 2*i+j
				from, to := ggRow, hfRow
				if toGGUF {
					from, to = hfRow, ggRow
				}
				copy(blk[to*cols:(to+1)*cols], src[from*cols:(from+1)*cols])
			}
		}
	}
	return nil
}

// ForEachHF calls fn for every tensor of a llama file, dequantised to
// float32, with its Hugging Face name and PyTorch shape ([out, in] for
// linear weights), in file order. Q and K projections are unpermuted (see
// Unpermute), so the weights are exactly those transformers' GGUF loader
// produces. Only one tensor is in memory at a time; data must not be kept
// after fn returns unless copied (it is not reused, but holding every tensor
// defeats the streaming). A tensor this package cannot map or dequantise is
// an error naming it; fn's error stops the walk and is returned as is.
func (f *File) ForEachHF(fn func(hfName string, shape []int64, data []float32) error) error {
	cfg, err := f.ModelConfig()
	if err != nil {
		return err
	}
	var buf []byte
	for _, t := range f.tensors {
		if t.Name == ropeFreqsTensor { // part of the config (rope_scaling), not a weight
			continue
		}
		name, ok := HFName(t.Name)
		if !ok {
			return &FormatError{File: f.path, Offset: -1, Field: t.Name, Err: errors.New("tensor is not part of a LLaMA (unknown name)")}
		}
		data, err := f.readF32Buf(t, &buf)
		if err != nil {
			return err
		}
		shape := t.HFShape()
		if heads := qkHeads(name, cfg); heads > 0 {
			if err := Unpermute(data, heads, int(shape[len(shape)-1])); err != nil {
				return &FormatError{File: f.path, Offset: -1, Field: t.Name, Err: err}
			}
		}
		if err := fn(name, shape, data); err != nil {
			return err
		}
	}
	return nil
}

// qkHeads is the head count to permute an HF tensor by: attention heads for
// q_proj, key/value heads for k_proj, 0 for anything else.
func qkHeads(hfName string, cfg *finetune.ModelConfig) int {
	m := hfRe.FindStringSubmatch(hfName)
	if m == nil {
		return 0
	}
	switch m[2] {
	case "self_attn.q_proj.weight":
		return cfg.NumAttentionHeads
	case "self_attn.k_proj.weight":
		return cfg.KVHeads()
	}
	return 0
}
