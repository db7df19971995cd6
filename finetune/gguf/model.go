package gguf

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// TensorSource returns the float32 data (row-major, PyTorch order) of the
// tensor with the given Hugging Face name and shape. The writers call it
// once per tensor, in file order, and do not keep the slice, so a caller can
// stream a large model (for example, copying each tensor out of libtorch on
// demand).
type TensorSource func(hfName string, shape []int64) ([]float32, error)

// ModelOptions are WriteModel's settings; the zero value writes F32 with no
// tokenizer.
type ModelOptions struct {
	// Type of the 2-D weights: F32, F16, BF16 or Q8_0. Norm vectors are
	// always F32 (as llama.cpp writes them); a Q8_0 weight whose rows are not
	// a multiple of 32 falls back to F16, as llama.cpp's converter does.
	Type Type
	// Tokenizer, when set, is written as tokenizer.ggml.* metadata; it must
	// be a *tokenize.HF (byte-level BPE with the gpt2, smollm or llama-bpe
	// pre-tokenizer, or SentencePiece-style BPE with byte fallback). llama.cpp
	// and Ollama need it to use the file.
	Tokenizer tokenize.Tokenizer
	// ChatTemplate (Jinja) is written as tokenizer.chat_template; "" takes
	// the tokenizer's own, if any.
	ChatTemplate string
	// Name is general.name.
	Name string
}

// llama_ftype values for general.file_type.
var fileTypes = map[Type]int{F32: 0, F16: 1, Q8_0: 7, BF16: 32}

// WriteModel writes a LLaMA in GGUF v3, as llama.cpp's convert_hf_to_gguf.py
// does: llama.* hyper-parameters from cfg, the tensors of cfg.Tensors() in
// llama.cpp names and GGUF shapes, Q and K rows permuted for GGML's rope,
// and the tokenizer and chat template. The file is written atomically.
func WriteModel(path string, cfg *finetune.ModelConfig, src TensorSource, opts ModelOptions) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	if _, ok := fileTypes[opts.Type]; !ok {
		return fmt.Errorf("gguf: cannot write models of type %s (supported: F32, F16, BF16, Q8_0)", opts.Type)
	}
	h := &header{}
	if err := llamaHeader(h, cfg, "model", opts.Name); err != nil {
		return err
	}
	h.u32("general.file_type", fileTypes[opts.Type])
	if opts.Type == Q8_0 {
		h.u32("general.quantization_version", 2)
	}
	if opts.Tokenizer != nil {
		if err := tokenizerHeader(h, opts.Tokenizer, opts.ChatTemplate, cfg.VocabSize); err != nil {
			return err
		}
	} else if opts.ChatTemplate != "" {
		h.str("tokenizer.chat_template", opts.ChatTemplate)
	}
	var ts []outTensor
	for _, spec := range cfg.Tensors() {
		name, ok := GGUFName(spec.Name)
		if !ok {
			return fmt.Errorf("gguf: no llama.cpp name for tensor %s", spec.Name)
		}
		typ := opts.Type
		if len(spec.Shape) == 1 {
			typ = F32
		} else if typ == Q8_0 && spec.Shape[len(spec.Shape)-1]%32 != 0 {
			typ = F16
		}
		shape := slices.Clone(spec.Shape)
		slices.Reverse(shape)
		heads := qkHeads(spec.Name, cfg)
		ts = append(ts, outTensor{name: name, typ: typ, shape: shape, data: func() ([]byte, error) {
			data, err := fetch(src, spec)
			if err != nil {
				return nil, err
			}
			if heads > 0 {
				data = slices.Clone(data)
				if err := Permute(data, heads, int(spec.Shape[1])); err != nil {
					return nil, err
				}
			}
			return Quantize(typ, data)
		}})
	}
	if r := cfg.RopeScaling; r != nil && r.RopeType == "llama3" {
		factors := ropeFactors(cfg)
		ts = append(ts, outTensor{name: ropeFreqsTensor, typ: F32, shape: []int64{int64(len(factors))}, data: func() ([]byte, error) {
			return Quantize(F32, factors)
		}})
	}
	return writeGGUF(path, h, ts)
}

func fetch(src TensorSource, spec finetune.TensorSpec) ([]float32, error) {
	data, err := src(spec.Name, spec.Shape)
	if err != nil {
		return nil, fmt.Errorf("gguf: tensor %s: %w", spec.Name, err)
	}
	n := int64(1)
	for _, d := range spec.Shape {
		n *= d
	}
	if int64(len(data)) != n {
		return nil, fmt.Errorf("gguf: tensor %s: got %d values, want %d for shape %v", spec.Name, len(data), n, spec.Shape)
	}
	return data, nil
}

// llamaHeader writes general.* and llama.* keys for cfg.
func llamaHeader(h *header, cfg *finetune.ModelConfig, typ, name string) error {
	h.str("general.architecture", "llama")
	h.str("general.type", typ)
	if name != "" {
		h.str("general.name", name)
	}
	h.u32("llama.block_count", cfg.NumHiddenLayers)
	h.u32("llama.context_length", cfg.MaxPositionEmbeddings)
	h.u32("llama.embedding_length", cfg.HiddenSize)
	h.u32("llama.feed_forward_length", cfg.IntermediateSize)
	h.u32("llama.attention.head_count", cfg.NumAttentionHeads)
	h.u32("llama.attention.head_count_kv", cfg.KVHeads())
	h.f32("llama.rope.freq_base", cfg.RopeTheta)
	h.f32("llama.attention.layer_norm_rms_epsilon", cfg.RMSNormEps)
	h.u32("llama.vocab_size", cfg.VocabSize)
	h.u32("llama.rope.dimension_count", cfg.HeadDimension())
	if cfg.HeadDimension() != cfg.HiddenSize/cfg.NumAttentionHeads {
		h.u32("llama.attention.key_length", cfg.HeadDimension())
		h.u32("llama.attention.value_length", cfg.HeadDimension())
	}
	if r := cfg.RopeScaling; r != nil {
		switch r.RopeType {
		case "default":
		case "linear":
			h.str("llama.rope.scaling.type", "linear")
			h.f32("llama.rope.scaling.factor", r.Factor)
		case "llama3": // written as the rope_freqs.weight tensor (see WriteModel)
		default:
			return fmt.Errorf("gguf: rope_scaling %q cannot be written (supported: linear, llama3)", r.RopeType)
		}
	}
	return nil
}

// tokenizerHeader writes tokenizer.ggml.* for an HF tokenizer, as
// convert_hf_to_gguf.py does. The token list is padded to the model's
// vocabulary (llama.cpp wants one token per embedding row), with [PADn]
// tokens of type unused, as the converter pads.
func tokenizerHeader(h *header, tok tokenize.Tokenizer, chatTemplate string, vocab int) error {
	hf, ok := tok.(*tokenize.HF)
	if !ok {
		return fmt.Errorf("gguf: a %T tokenizer cannot be written to GGUF (llama.cpp supports BPE and SentencePiece vocabularies)", tok)
	}
	tj, _ := hf.Files()
	var doc struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		Normalizer    json.RawMessage `json:"normalizer"`
		PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
		PostProcessor json.RawMessage `json:"post_processor"`
		Model         struct {
			Vocab        map[string]int    `json:"vocab"`
			Merges       []json.RawMessage `json:"merges"`
			ByteFallback bool              `json:"byte_fallback"`
			UnkToken     *string           `json:"unk_token"`
		} `json:"model"`
	}
	if err := json.Unmarshal(tj, &doc); err != nil {
		return fmt.Errorf("gguf: tokenizer: %w", err)
	}
	n := hf.VocabSize()
	if n > vocab {
		return fmt.Errorf("gguf: the tokenizer has %d ids, more than the model's vocabulary of %d", n, vocab)
	}
	n = vocab
	tokens := make([]string, n)
	types := make([]int64, n)
	for t, id := range doc.Model.Vocab {
		if id >= 0 && id < n {
			tokens[id], types[id] = t, TokenNormal
		}
	}
	for _, a := range doc.AddedTokens {
		if a.ID >= 0 && a.ID < n {
			tokens[a.ID] = a.Content
			types[a.ID] = TokenUserDefined
			if a.Special {
				types[a.ID] = TokenControl
			}
		}
	}
	for id := range tokens {
		if types[id] == 0 { // an id with no token: llama.cpp pads such vocabularies
			tokens[id] = fmt.Sprintf("[PAD%d]", id)
			types[id] = TokenUnused
		}
	}
	merges := make([]string, 0, len(doc.Model.Merges))
	for _, raw := range doc.Model.Merges {
		var pair []string
		if json.Unmarshal(raw, &pair) == nil && len(pair) == 2 {
			merges = append(merges, pair[0]+" "+pair[1])
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("gguf: tokenizer merge %s: %w", raw, err)
		}
		merges = append(merges, s)
	}
	if doc.Model.ByteFallback {
		h.str("tokenizer.ggml.model", "llama")
		h.str("tokenizer.ggml.pre", "default")
		byteRe := regexp.MustCompile(`^<0x[0-9A-F]{2}>$`)
		rank := map[string]int{}
		for i, m := range merges {
			t := strings.Replace(m, " ", "", 1)
			if _, ok := rank[t]; !ok {
				rank[t] = i
			}
		}
		scores := make([]float64, n)
		for id, t := range tokens {
			if byteRe.MatchString(t) && types[id] == TokenNormal {
				types[id] = TokenByte
			}
			if r, ok := rank[t]; ok {
				scores[id] = -float64(r + 1)
			}
		}
		if u := doc.Model.UnkToken; u != nil {
			if id, ok := hf.TokenID(*u); ok {
				types[id] = TokenUnknown
				h.u32("tokenizer.ggml.unknown_token_id", int(id))
			}
		}
		h.strs("tokenizer.ggml.tokens", tokens)
		h.f32s("tokenizer.ggml.scores", scores)
		h.i32s("tokenizer.ggml.token_type", types)
		h.strs("tokenizer.ggml.merges", merges)
		h.boolean("tokenizer.ggml.add_space_prefix", strings.Contains(string(doc.Normalizer), `"Prepend"`))
	} else {
		pre, err := classifyPre(doc.PreTokenizer)
		if err != nil {
			return err
		}
		h.str("tokenizer.ggml.model", "gpt2")
		h.str("tokenizer.ggml.pre", pre)
		h.strs("tokenizer.ggml.tokens", tokens)
		h.i32s("tokenizer.ggml.token_type", types)
		h.strs("tokenizer.ggml.merges", merges)
	}
	sp := hf.Specials()
	if sp.BOS >= 0 {
		h.u32("tokenizer.ggml.bos_token_id", int(sp.BOS))
	}
	if sp.EOS >= 0 {
		h.u32("tokenizer.ggml.eos_token_id", int(sp.EOS))
	}
	if sp.Pad >= 0 {
		h.u32("tokenizer.ggml.padding_token_id", int(sp.Pad))
	}
	if id, ok := hf.TokenID("<|eot_id|>"); ok {
		h.u32("tokenizer.ggml.eot_token_id", int(id))
	}
	var tcfg struct {
		AddBOS *bool `json:"add_bos_token"`
		AddEOS *bool `json:"add_eos_token"`
	}
	// Without an explicit add_bos_token, a post-processor that starts every
	// sequence with a special token (Llama 3's TemplateProcessing) means BOS
	// is added, as gguf-py's SpecialVocab reads it.
	tcfg.AddBOS, tcfg.AddEOS = postProcessorAdds(doc.PostProcessor)
	if _, cj := hf.Files(); cj != nil {
		json.Unmarshal(cj, &tcfg) // keys present override the post-processor's
	}
	if tcfg.AddBOS != nil {
		h.boolean("tokenizer.ggml.add_bos_token", *tcfg.AddBOS)
	}
	if tcfg.AddEOS != nil {
		h.boolean("tokenizer.ggml.add_eos_token", *tcfg.AddEOS)
	}
	if chatTemplate == "" {
		chatTemplate = hf.ChatTemplate()
	}
	if chatTemplate != "" {
		h.str("tokenizer.chat_template", chatTemplate)
	}
	return nil
}

// classifyPre names the llama.cpp pre-tokenizer equivalent to an HF
// pre_tokenizer, comparing its structure with the ones Tokenizer builds.
func classifyPre(raw json.RawMessage) (string, error) {
	var got any
	if err := json.Unmarshal(raw, &got); err != nil {
		return "", fmt.Errorf("gguf: tokenizer pre_tokenizer: %w", err)
	}
	g := canonPre(got)
	for _, name := range []string{"gpt2", "smollm", "llama-bpe"} {
		b, _ := json.Marshal(preTokenizers[name])
		var want any
		json.Unmarshal(b, &want)
		if equalJSON(g, canonPre(want)) {
			return name, nil
		}
	}
	return "", errors.New("gguf: the tokenizer's pre_tokenizer has no llama.cpp equivalent (supported: GPT-2 ByteLevel, SmolLM's Digits+ByteLevel, Llama 3's Split+ByteLevel)")
}

// canonPre keeps the fields of a pre-tokenizer that change its output.
func canonPre(v any) any {
	o, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{"type": o["type"]}
	switch o["type"] {
	case "Sequence":
		var list []any
		items, _ := o["pretokenizers"].([]any)
		for _, it := range items {
			list = append(list, canonPre(it))
		}
		if len(list) == 1 {
			return list[0]
		}
		out["pretokenizers"] = list
	case "ByteLevel":
		out["add_prefix_space"] = o["add_prefix_space"]
		regex := true
		if b, ok := o["use_regex"].(bool); ok {
			regex = b
		}
		out["use_regex"] = regex
	case "Digits":
		out["individual_digits"] = o["individual_digits"]
	case "Split":
		out["pattern"], out["behavior"], out["invert"] = o["pattern"], o["behavior"], o["invert"]
	default:
		return o
	}
	return out
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// LoRAOptions are WriteLoRA's settings; the zero value writes F32.
type LoRAOptions struct {
	// Type of the adapter matrices: F32 or F16.
	Type Type
	// Name is general.name.
	Name string
}

// WriteLoRA writes a LoRA adapter in llama.cpp's GGUF adapter format (as
// convert_lora_to_gguf.py does): general.type "adapter", adapter.type
// "lora", adapter.lora.alpha, and for every adapted module
// blk.N.<tensor>.weight.lora_a (GGUF shape [in, rank]) and .lora_b ([rank,
// out]), with the B rows of Q and K permuted like the base weights. src is
// asked for the PEFT tensors of cfg.LoRATensors(lora) (A [rank, in], B [out,
// rank]). llama.cpp applies it with --lora; Ollama with an ADAPTER line.
func WriteLoRA(path string, cfg *finetune.ModelConfig, lora *finetune.LoRAConfig, src TensorSource, opts LoRAOptions) error {
	if opts.Type != F32 && opts.Type != F16 {
		return fmt.Errorf("gguf: cannot write LoRA adapters of type %s (supported: F32, F16)", opts.Type)
	}
	if lora.Rank <= 0 {
		return fmt.Errorf("gguf: LoRA rank %d", lora.Rank)
	}
	h := &header{}
	if err := llamaHeader(h, cfg, "adapter", opts.Name); err != nil {
		return err
	}
	h.str("adapter.type", "lora")
	h.f32("adapter.lora.alpha", lora.Alpha)
	var ts []outTensor
	for _, lt := range cfg.LoRATensors(lora) {
		base, ok := GGUFName(lt.Module + ".weight")
		if !ok {
			return fmt.Errorf("gguf: no llama.cpp name for %s", lt.Module)
		}
		heads := qkHeads(lt.Module+".weight", cfg)
		for _, part := range []struct {
			spec   finetune.TensorSpec
			suffix string
			isB    bool
		}{{lt.A, ".lora_a", false}, {lt.B, ".lora_b", true}} {
			shape := slices.Clone(part.spec.Shape)
			slices.Reverse(shape)
			ts = append(ts, outTensor{name: base + part.suffix, typ: opts.Type, shape: shape, data: func() ([]byte, error) {
				data, err := fetch(src, part.spec)
				if err != nil {
					return nil, err
				}
				if part.isB && heads > 0 {
					data = slices.Clone(data)
					if err := Permute(data, heads, int(part.spec.Shape[1])); err != nil {
						return nil, err
					}
				}
				return Quantize(opts.Type, data)
			}})
		}
	}
	return writeGGUF(path, h, ts)
}

// postProcessorAdds reads whether an HF post_processor adds a special token
// before (BOS) or after (EOS) a single sequence; nil when it says nothing.
func postProcessorAdds(raw json.RawMessage) (bos, eos *bool) {
	type item struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
	}
	var pp struct {
		Type       string            `json:"type"`
		Single     []item            `json:"single"`
		Processors []json.RawMessage `json:"processors"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &pp) != nil {
		return nil, nil
	}
	switch pp.Type {
	case "Sequence":
		for _, p := range pp.Processors {
			if b, e := postProcessorAdds(p); b != nil || e != nil {
				return b, e
			}
		}
	case "TemplateProcessing":
		if len(pp.Single) > 0 {
			b := pp.Single[0].SpecialToken != nil
			e := len(pp.Single) > 1 && pp.Single[len(pp.Single)-1].SpecialToken != nil
			return &b, &e
		}
	}
	return nil, nil
}
