package finetune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// File names in a model or run directory.
const (
	ConfigFile           = "config.json"
	ModelFile            = "model.safetensors"
	GenerationConfigFile = "generation_config.json"
	CheckpointFile       = "yardstick_checkpoint.json"
	OptimizerFile        = "optimizer.safetensors"
	AdapterConfigFile    = "adapter_config.json"
	AdapterModelFile     = "adapter_model.safetensors"
	CheckpointsDir       = "checkpoints"
)

// ModelConfig is a Hugging Face LlamaConfig as stored in config.json: a
// LLaMA-architecture decoder (RMSNorm, rotary embeddings, SwiGLU MLP,
// grouped-query attention, optionally tied embeddings). Fields not listed here
// are kept in Extra and written back by Save, so a user's config round-trips.
type ModelConfig struct {
	Architectures         []string     `json:"architectures,omitempty"`
	ModelType             string       `json:"model_type,omitempty"`
	HiddenSize            int          `json:"hidden_size"`
	IntermediateSize      int          `json:"intermediate_size"`
	NumHiddenLayers       int          `json:"num_hidden_layers"`
	NumAttentionHeads     int          `json:"num_attention_heads"`
	NumKeyValueHeads      int          `json:"num_key_value_heads,omitempty"` // 0: same as NumAttentionHeads
	HeadDim               int          `json:"head_dim,omitempty"`            // 0: HiddenSize / NumAttentionHeads
	RMSNormEps            float64      `json:"rms_norm_eps"`
	RopeTheta             float64      `json:"rope_theta"`
	RopeScaling           *RopeScaling `json:"rope_scaling"`
	VocabSize             int          `json:"vocab_size"`
	MaxPositionEmbeddings int          `json:"max_position_embeddings"`
	TieWordEmbeddings     bool         `json:"tie_word_embeddings"`
	BOSTokenID            *int         `json:"bos_token_id"`
	EOSTokenID            TokenIDs     `json:"eos_token_id"`
	PadTokenID            *int         `json:"pad_token_id"`
	HiddenAct             string       `json:"hidden_act,omitempty"` // "" means silu, the LlamaConfig default
	TorchDtype            string       `json:"torch_dtype,omitempty"`
	InitializerRange      float64      `json:"initializer_range,omitempty"`
	AttentionBias         bool         `json:"attention_bias"`
	MLPBias               bool         `json:"mlp_bias"`

	// Extra holds config.json fields this struct does not model, verbatim.
	Extra map[string]json.RawMessage `json:"-"`
}

// RopeScaling is config.json's rope_scaling. Supported types: "default",
// "linear" (positions divided by Factor) and "llama3" (Llama 3.1's
// frequency-dependent scaling). Older files spell RopeType as "type".
type RopeScaling struct {
	RopeType                      string  `json:"rope_type"`
	Factor                        float64 `json:"factor,omitempty"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
}

// UnmarshalJSON accepts "rope_type" or the legacy "type".
func (r *RopeScaling) UnmarshalJSON(b []byte) error {
	type plain RopeScaling
	var aux struct {
		plain
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = RopeScaling(aux.plain)
	if r.RopeType == "" {
		r.RopeType = aux.Type
	}
	return nil
}

// TokenIDs is a token id field that config.json spells as an int or a list
// of ints (eos_token_id). It marshals a single id as an int. Nil means null.
type TokenIDs []int

// UnmarshalJSON accepts null, an integer or a list of integers.
func (t *TokenIDs) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*t = nil
		return nil
	}
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*t = TokenIDs{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want an integer or a list of integers, got %s", b)
	}
	*t = many
	return nil
}

// MarshalJSON writes nil as null, one id as an integer, several as a list.
func (t TokenIDs) MarshalJSON() ([]byte, error) {
	switch len(t) {
	case 0:
		if t == nil {
			return []byte("null"), nil
		}
		return []byte("[]"), nil
	case 1:
		return json.Marshal(t[0])
	default:
		return json.Marshal([]int(t))
	}
}

type modelConfigJSON ModelConfig

// knownConfigKeys are the JSON keys ModelConfig models itself.
var knownConfigKeys = func() map[string]bool {
	m := map[string]bool{}
	b, _ := json.Marshal(modelConfigJSON{NumKeyValueHeads: 1, HeadDim: 1, Architectures: []string{""}, ModelType: "x", HiddenAct: "x", TorchDtype: "x", InitializerRange: 1})
	var keys map[string]json.RawMessage
	json.Unmarshal(b, &keys)
	for k := range keys {
		m[k] = true
	}
	return m
}()

// UnmarshalJSON decodes config.json, keeping unknown fields in Extra.
func (c *ModelConfig) UnmarshalJSON(b []byte) error {
	var plain modelConfigJSON
	if err := json.Unmarshal(b, &plain); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*c = ModelConfig(plain)
	for k, v := range all {
		if !knownConfigKeys[k] {
			if c.Extra == nil {
				c.Extra = map[string]json.RawMessage{}
			}
			c.Extra[k] = v
		}
	}
	return nil
}

// MarshalJSON writes the modelled fields and Extra, keys sorted, as
// transformers does.
func (c ModelConfig) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(modelConfigJSON(c))
	if err != nil {
		return nil, err
	}
	if len(c.Extra) == 0 {
		// Re-marshal through a map so keys come out sorted.
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		return json.Marshal(m)
	}
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	for k, v := range c.Extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// LoadModelConfig reads a config.json; path may be the file or its directory.
// The config is validated; errors are *InputError naming the file, line and
// field.
func LoadModelConfig(path string) (*ModelConfig, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, ConfigFile)
	} else if err == nil && hasGGUFMagic(path) {
		return nil, modelDirHint(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if hint := modelDirHint(filepath.Dir(path)); hint != nil && filepath.Base(path) == ConfigFile {
			return nil, hint
		}
		return nil, &InputError{File: path, Err: err}
	}
	return ParseModelConfig(data, path)
}

// ErrGGUFModel is wrapped by the error LoadModelConfig returns for a GGUF
// file given where a model directory was expected.
var ErrGGUFModel = errors.New("is a GGUF model file, not a Hugging Face model directory")

// modelDirHint explains why dir cannot be a model directory: it is a GGUF
// file, another file, or does not exist. nil when dir is a directory.
func modelDirHint(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &InputError{File: dir, Err: errors.New("no such model directory (want a Hugging Face model directory, a Yardstick run directory, a .gguf file or ollama:NAME)")}
	case err != nil || st.IsDir():
		return nil
	}
	if hasGGUFMagic(dir) {
		return &InputError{File: dir, Err: fmt.Errorf("%w: load it as a GGUF model (finetune --base %s, or the target local:%s)", ErrGGUFModel, dir, dir)}
	}
	return &InputError{File: dir, Err: errors.New("is a file, not a model directory (want a Hugging Face model directory with config.json, a .gguf file or ollama:NAME)")}
}

// ParseModelConfig parses and validates config.json content; name is used in
// errors.
func ParseModelConfig(data []byte, name string) (*ModelConfig, error) {
	var c ModelConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, jsonInputError(data, name, err)
	}
	if err := c.Validate(); err != nil {
		var ie *InputError
		if errors.As(err, &ie) && ie.File == "" {
			ie.File = name
			ie.Line = fieldLine(data, ie.Field)
		}
		return nil, err
	}
	return &c, nil
}

// jsonInputError converts a json error into an *InputError with a line.
func jsonInputError(data []byte, name string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &InputError{File: name, Line: lineOf(data, se.Offset), Err: fmt.Errorf("invalid JSON: %v", se)}
	case errors.As(err, &te):
		return &InputError{File: name, Line: lineOf(data, te.Offset), Field: te.Field, Err: fmt.Errorf("want %s, got JSON %s", jsonKind(te.Type), te.Value)}
	default:
		return &InputError{File: name, Err: err}
	}
}

// fieldLine finds the line of `"field":` in a JSON document (0 if absent).
func fieldLine(data []byte, field string) int {
	if field == "" {
		return 0
	}
	i := bytes.Index(data, []byte(`"`+field+`"`))
	if i < 0 {
		return 0
	}
	return lineOf(data, int64(i))
}

// Save writes the config as indented JSON with sorted keys, atomically.
func (c *ModelConfig) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// HeadDimension is the per-head size: HeadDim, or HiddenSize/NumAttentionHeads.
func (c *ModelConfig) HeadDimension() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	if c.NumAttentionHeads == 0 {
		return 0
	}
	return c.HiddenSize / c.NumAttentionHeads
}

// KVHeads is the number of key/value heads (grouped-query attention).
func (c *ModelConfig) KVHeads() int {
	if c.NumKeyValueHeads > 0 {
		return c.NumKeyValueHeads
	}
	return c.NumAttentionHeads
}

// Validate checks that the config describes a model finetune/torch can build.
// It returns all problems joined, each an *InputError with Field set.
func (c *ModelConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Field: field, Err: fmt.Errorf(format, args...)})
	}
	if len(c.Architectures) > 0 && !slices.Contains(c.Architectures, "LlamaForCausalLM") {
		bad("architectures", "%q: only LlamaForCausalLM is supported", c.Architectures)
	}
	if c.ModelType != "" && c.ModelType != "llama" {
		bad("model_type", "%q: only llama is supported", c.ModelType)
	}
	positive := []struct {
		field string
		v     int
	}{
		{"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"vocab_size", c.VocabSize}, {"max_position_embeddings", c.MaxPositionEmbeddings},
	}
	for _, p := range positive {
		if p.v <= 0 {
			bad(p.field, "must be positive, got %d", p.v)
		}
	}
	if c.NumKeyValueHeads < 0 {
		bad("num_key_value_heads", "must be positive, got %d", c.NumKeyValueHeads)
	}
	if c.HeadDim < 0 {
		bad("head_dim", "must be positive, got %d", c.HeadDim)
	}
	if c.NumAttentionHeads > 0 {
		if c.HeadDim == 0 && c.HiddenSize%c.NumAttentionHeads != 0 {
			bad("num_attention_heads", "%d does not divide hidden_size %d (set head_dim to override)", c.NumAttentionHeads, c.HiddenSize)
		}
		if kv := c.KVHeads(); kv > 0 && c.NumAttentionHeads%kv != 0 {
			bad("num_key_value_heads", "%d does not divide num_attention_heads %d", kv, c.NumAttentionHeads)
		}
		if hd := c.HeadDimension(); hd%2 != 0 {
			bad("head_dim", "rotary embeddings need an even head dimension, got %d", hd)
		}
	}
	if !(c.RMSNormEps > 0) {
		bad("rms_norm_eps", "must be positive, got %g", c.RMSNormEps)
	}
	if !(c.RopeTheta > 0) {
		bad("rope_theta", "must be positive, got %g", c.RopeTheta)
	}
	if r := c.RopeScaling; r != nil {
		switch r.RopeType {
		case "default":
		case "linear":
			if !(r.Factor > 0) {
				bad("rope_scaling", "linear: factor must be positive, got %g", r.Factor)
			}
		case "llama3":
			switch {
			case !(r.Factor > 0):
				bad("rope_scaling", "llama3: factor must be positive, got %g", r.Factor)
			case !(r.LowFreqFactor > 0) || !(r.HighFreqFactor > r.LowFreqFactor):
				bad("rope_scaling", "llama3: need 0 < low_freq_factor < high_freq_factor, got %g and %g", r.LowFreqFactor, r.HighFreqFactor)
			case r.OriginalMaxPositionEmbeddings <= 0:
				bad("rope_scaling", "llama3: original_max_position_embeddings must be positive")
			}
		default:
			bad("rope_scaling", "type %q is not supported (supported: default, linear, llama3)", r.RopeType)
		}
	}
	if c.HiddenAct != "" && c.HiddenAct != "silu" {
		bad("hidden_act", "%q: only silu (SwiGLU) is supported", c.HiddenAct)
	}
	switch c.TorchDtype {
	case "", "float32", "float16", "bfloat16":
	default:
		bad("torch_dtype", "%q: want float32, float16 or bfloat16", c.TorchDtype)
	}
	if c.AttentionBias {
		bad("attention_bias", "biases in attention projections are not supported")
	}
	if c.MLPBias {
		bad("mlp_bias", "biases in MLP projections are not supported")
	}
	checkID := func(field string, id int) {
		if c.VocabSize > 0 && (id < 0 || id >= c.VocabSize) {
			bad(field, "%d is outside the vocabulary [0, %d)", id, c.VocabSize)
		}
	}
	if c.BOSTokenID != nil {
		checkID("bos_token_id", *c.BOSTokenID)
	}
	if c.PadTokenID != nil {
		checkID("pad_token_id", *c.PadTokenID)
	}
	for _, id := range c.EOSTokenID {
		checkID("eos_token_id", id)
	}
	return errors.Join(errs...)
}

// RopeInvFreq returns the rotary inverse frequencies θ_i, i < HeadDimension()/2,
// with rope_scaling applied, by the formulas of transformers'
// modeling_rope_utils (computed in float64; transformers uses float32).
func (c *ModelConfig) RopeInvFreq() []float64 {
	dim := c.HeadDimension()
	inv := make([]float64, dim/2)
	for i := range inv {
		inv[i] = 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(dim))
	}
	r := c.RopeScaling
	if r == nil {
		return inv
	}
	switch r.RopeType {
	case "linear":
		for i := range inv {
			inv[i] /= r.Factor
		}
	case "llama3":
		old := float64(r.OriginalMaxPositionEmbeddings)
		lowWavelen := old / r.LowFreqFactor
		highWavelen := old / r.HighFreqFactor
		for i, f := range inv {
			wavelen := 2 * math.Pi / f
			switch {
			case wavelen < highWavelen: // high frequency: unchanged
			case wavelen > lowWavelen:
				inv[i] = f / r.Factor
			default:
				smooth := (old/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
				inv[i] = (1-smooth)*f/r.Factor + smooth*f
			}
		}
	}
	return inv
}

// TensorSpec is a tensor's name and shape.
type TensorSpec struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
}

// Tensors lists the LlamaForCausalLM parameters with their Hugging Face names
// and shapes ([out, in] for linear weights), in state_dict order. lm_head.weight
// is omitted when embeddings are tied.
func (c *ModelConfig) Tensors() []TensorSpec {
	h, v, inter := int64(c.HiddenSize), int64(c.VocabSize), int64(c.IntermediateSize)
	q := int64(c.NumAttentionHeads * c.HeadDimension())
	kv := int64(c.KVHeads() * c.HeadDimension())
	out := []TensorSpec{{"model.embed_tokens.weight", []int64{v, h}}}
	for i := range c.NumHiddenLayers {
		p := fmt.Sprintf("model.layers.%d.", i)
		out = append(out,
			TensorSpec{p + "self_attn.q_proj.weight", []int64{q, h}},
			TensorSpec{p + "self_attn.k_proj.weight", []int64{kv, h}},
			TensorSpec{p + "self_attn.v_proj.weight", []int64{kv, h}},
			TensorSpec{p + "self_attn.o_proj.weight", []int64{h, q}},
			TensorSpec{p + "mlp.gate_proj.weight", []int64{inter, h}},
			TensorSpec{p + "mlp.up_proj.weight", []int64{inter, h}},
			TensorSpec{p + "mlp.down_proj.weight", []int64{h, inter}},
			TensorSpec{p + "input_layernorm.weight", []int64{h}},
			TensorSpec{p + "post_attention_layernorm.weight", []int64{h}},
		)
	}
	out = append(out, TensorSpec{"model.norm.weight", []int64{h}})
	if !c.TieWordEmbeddings {
		out = append(out, TensorSpec{"lm_head.weight", []int64{v, h}})
	}
	return out
}

// NumParams is the number of parameters (tied embeddings counted once).
func (c *ModelConfig) NumParams() int64 {
	var n int64
	for _, t := range c.Tensors() {
		p := int64(1)
		for _, d := range t.Shape {
			p *= d
		}
		n += p
	}
	return n
}

// LoRATargetModules are the linear layers LoRA can adapt, by their Hugging
// Face module names.
var LoRATargetModules = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// LoRATensor describes one adapted linear layer: its module path
// ("model.layers.3.self_attn.q_proj") and the PEFT names and shapes of its A
// ([rank, in]) and B ([out, rank]) matrices.
type LoRATensor struct {
	Module string
	In     int64
	Out    int64
	A, B   TensorSpec
}

// LoRATensors lists the adapter matrices for l over this model, layer by
// layer, modules in LoRATargetModules order.
func (c *ModelConfig) LoRATensors(l *LoRAConfig) []LoRATensor {
	shapes := map[string][2]int64{}
	for _, t := range c.Tensors() {
		if len(t.Shape) == 2 {
			shapes[t.Name] = [2]int64{t.Shape[0], t.Shape[1]}
		}
	}
	r := int64(l.Rank)
	var out []LoRATensor
	for i := range c.NumHiddenLayers {
		for _, m := range l.Targets() {
			group := "self_attn"
			if m == "gate_proj" || m == "up_proj" || m == "down_proj" {
				group = "mlp"
			}
			module := fmt.Sprintf("model.layers.%d.%s.%s", i, group, m)
			s := shapes[module+".weight"]
			out = append(out, LoRATensor{
				Module: module, Out: s[0], In: s[1],
				A: TensorSpec{PEFTTensorName(module, "lora_A"), []int64{r, s[1]}},
				B: TensorSpec{PEFTTensorName(module, "lora_B"), []int64{s[0], r}},
			})
		}
	}
	return out
}

// PEFTTensorName is the adapter_model.safetensors name PEFT uses for a LoRA
// matrix ("lora_A" or "lora_B") of a module of a causal LM.
func PEFTTensorName(module, which string) string {
	return "base_model.model." + module + "." + which + ".weight"
}

// SetTokenIDs sets bos/eos/pad from a tokenizer's specials (-1: null).
func (c *ModelConfig) SetTokenIDs(s tokenize.Specials) {
	ptr := func(id int32) *int {
		if id < 0 {
			return nil
		}
		v := int(id)
		return &v
	}
	c.BOSTokenID, c.PadTokenID = ptr(s.BOS), ptr(s.Pad)
	c.EOSTokenID = nil
	if s.EOS >= 0 {
		c.EOSTokenID = TokenIDs{int(s.EOS)}
	}
}

// TinyConfig is a ~0.8M-parameter (plus vocab×128 embedding) LLaMA for
// training from scratch in minutes on two CPU cores: hidden 128, 4 layers, 4
// heads with 2 key/value heads, SwiGLU width 384, context 512, tied
// embeddings, float32.
func TinyConfig(vocab int) *ModelConfig {
	return presetConfig(vocab, 128, 384, 4, 4, 2, 512)
}

// SmallConfig is a ~4.7M-parameter (plus vocab×256) LLaMA: hidden 256, 6
// layers, 8 heads with 4 key/value heads, SwiGLU width 768, context 1024.
func SmallConfig(vocab int) *ModelConfig {
	return presetConfig(vocab, 256, 768, 6, 8, 4, 1024)
}

func presetConfig(vocab, hidden, inter, layers, heads, kv, ctx int) *ModelConfig {
	return &ModelConfig{
		Architectures:         []string{"LlamaForCausalLM"},
		ModelType:             "llama",
		HiddenSize:            hidden,
		IntermediateSize:      inter,
		NumHiddenLayers:       layers,
		NumAttentionHeads:     heads,
		NumKeyValueHeads:      kv,
		HeadDim:               hidden / heads,
		RMSNormEps:            1e-5,
		RopeTheta:             10000,
		VocabSize:             vocab,
		MaxPositionEmbeddings: ctx,
		TieWordEmbeddings:     true,
		HiddenAct:             "silu",
		TorchDtype:            "float32",
		InitializerRange:      0.02,
	}
}

// Presets are the names PresetConfig accepts.
var Presets = []string{"tiny", "small"}

// PresetConfig returns the named preset ("tiny", "small") for a vocabulary.
func PresetConfig(name string, vocab int) (*ModelConfig, error) {
	switch name {
	case "tiny":
		return TinyConfig(vocab), nil
	case "small":
		return SmallConfig(vocab), nil
	}
	names := slices.Clone(Presets)
	sort.Strings(names)
	return nil, fmt.Errorf("finetune: unknown model preset %q (have %q)", name, names)
}

// writeFileAtomic writes data to a temporary file beside path and renames it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// hasGGUFMagic reports whether the file at path starts with "GGUF".
func hasGGUFMagic(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "GGUF"
}
