package gguf

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
const (
	TokenNormal      = 1
	TokenUnknown     = 2
	TokenControl     = 3
	TokenUserDefined = 4
	TokenUnused      = 5
	TokenByte        = 6
)

// Pre-tokenizer types (tokenizer.ggml.pre) the gpt2 tokenizer model supports.
var preTokenizers = map[string]any{
	// GPT-2's ByteLevel regex.
	"gpt2":    byteLevel(true),
	"default": byteLevel(true),
	// SmolLM/SmolLM2: single digits split off, then GPT-2's ByteLevel.
	"smollm": map[string]any{"type": "Sequence", "pretokenizers": []any{
		map[string]any{"type": "Digits", "individual_digits": true},
		byteLevel(true),
	}},
	// Llama 3: its split regex, then ByteLevel without a regex ("llama3" and
	// "llama-v3" are older spellings llama.cpp still reads).
	"llama-bpe": llama3Pre,
	"llama3":    llama3Pre,
	"llama-v3":  llama3Pre,
}

var llama3Pre = map[string]any{"type": "Sequence", "pretokenizers": []any{
	map[string]any{"type": "Split", "pattern": map[string]any{"Regex": llama3Pattern}, "behavior": "Isolated", "invert": false},
	byteLevel(false),
}}

const llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

func byteLevel(regex bool) map[string]any {
	return map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": regex}
}

// PreTokenizers lists the tokenizer.ggml.pre values Tokenizer supports for
// the gpt2 (byte-level BPE) tokenizer model.
func PreTokenizers() []string {
	var out []string
	for k := range preTokenizers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Tokenizer builds the file's tokenizer from tokenizer.ggml.*: the gpt2
// model (byte-level BPE with merges; pre-tokenizers gpt2, smollm,
// llama-bpe) or the llama model (SentencePiece BPE with byte fallback, merges
// derived from the scores as transformers' GGUF loader derives them).
//
// The result is a *tokenize.HF built from an equivalent tokenizer.json and
// tokenizer_config.json, so it behaves exactly as the Hugging Face tokenizer
// transformers makes of the same file, and tokenize.Save writes it as those
// two files. Control and user-defined tokens become added tokens (control
// ones special), recognised in text; Specials() has the bos, eos and padding
// ids of the metadata; the chat template is tokenizer.chat_template.
func (f *File) Tokenizer() (*tokenize.HF, error) {
	tj, cj, err := f.TokenizerJSON()
	if err != nil {
		return nil, err
	}
	return tokenize.ParseHF(tj, cj, f.path)
}

// TokenizerJSON returns the tokenizer.json and tokenizer_config.json
// equivalent to the file's tokenizer (see Tokenizer).
func (f *File) TokenizerJSON() (tokenizerJSON, configJSON []byte, err error) {
	m := &f.meta
	bad := func(field, format string, args ...any) error {
		return &FormatError{File: f.path, Offset: -1, Field: field, Err: fmt.Errorf(format, args...)}
	}
	model, ok := m.String("tokenizer.ggml.model")
	if !ok {
		return nil, nil, bad("tokenizer.ggml.model", "missing: the file has no tokenizer")
	}
	tokens, ok := m.Strings("tokenizer.ggml.tokens")
	if !ok || len(tokens) == 0 {
		return nil, nil, bad("tokenizer.ggml.tokens", "missing or not a list of strings")
	}
	types, _ := m.Ints("tokenizer.ggml.token_type")
	if types != nil && len(types) != len(tokens) {
		return nil, nil, bad("tokenizer.ggml.token_type", "%d entries for %d tokens", len(types), len(tokens))
	}
	typeOf := func(i int) int64 {
		if types == nil {
			return TokenNormal
		}
		return types[i]
	}
	vocab := make(map[string]int, len(tokens))
	var added []map[string]any
	for i, t := range tokens {
		if _, dup := vocab[t]; dup {
			// transformers keeps the first id; so do we (the HF vocab is a map).
			continue
		}
		vocab[t] = i
		switch typeOf(i) {
		case TokenControl, TokenUserDefined, TokenUnknown:
			if t == "" {
				continue
			}
			added = append(added, map[string]any{
				"id": i, "content": t, "single_word": false, "lstrip": false, "rstrip": false,
				"normalized": false, "special": typeOf(i) != TokenUserDefined, // as transformers adds them
			})
		}
	}
	idToken := func(key string) any {
		v, ok := m.Int(key)
		if !ok || v < 0 || v >= int64(len(tokens)) {
			return nil
		}
		return tokens[v]
	}
	doc := map[string]any{"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": added, "post_processor": nil}
	bpe := map[string]any{"type": "BPE", "dropout": nil, "continuing_subword_prefix": nil, "end_of_word_suffix": nil,
		"fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": vocab}
	switch model {
	case "gpt2":
		pre, _ := m.String("tokenizer.ggml.pre")
		if pre == "" {
			pre = "default"
		}
		pt, ok := preTokenizers[pre]
		if !ok {
			return nil, nil, bad("tokenizer.ggml.pre", "pre-tokenizer %q is not supported (supported: %s)", pre, strings.Join(PreTokenizers(), ", "))
		}
		merges, ok := m.Strings("tokenizer.ggml.merges")
		if !ok {
			return nil, nil, bad("tokenizer.ggml.merges", "missing: a gpt2 tokenizer needs its merges")
		}
		bpe["merges"] = merges
		bpe["ignore_merges"] = pre == "llama-bpe"
		doc["normalizer"] = nil
		doc["pre_tokenizer"] = pt
		doc["decoder"] = map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}
	case "llama":
		scores, ok := m.Floats("tokenizer.ggml.scores")
		if !ok || len(scores) != len(tokens) {
			return nil, nil, bad("tokenizer.ggml.scores", "missing or not one score per token: a llama (SentencePiece) tokenizer needs them")
		}
		merges, ok := m.Strings("tokenizer.ggml.merges")
		if !ok {
			merges = spmMerges(tokens, scores)
		}
		bpe["merges"] = merges
		bpe["byte_fallback"] = true
		bpe["fuse_unk"] = true
		if u := idToken("tokenizer.ggml.unknown_token_id"); u != nil {
			bpe["unk_token"] = u
		}
		prefix := true
		if v, ok := m.Bool("tokenizer.ggml.add_space_prefix"); ok {
			prefix = v
		}
		norms := []any{}
		if prefix {
			norms = append(norms, map[string]any{"type": "Prepend", "prepend": "▁"})
		}
		norms = append(norms, map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"})
		doc["normalizer"] = map[string]any{"type": "Sequence", "normalizers": norms}
		doc["pre_tokenizer"] = nil
		decs := []any{
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
			map[string]any{"type": "ByteFallback"},
			map[string]any{"type": "Fuse"},
		}
		if prefix {
			decs = append(decs, map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0})
		}
		doc["decoder"] = map[string]any{"type": "Sequence", "decoders": decs}
	default:
		return nil, nil, bad("tokenizer.ggml.model", "%q tokenizers are not supported (supported: gpt2, llama)", model)
	}
	doc["model"] = bpe
	cfg := map[string]any{
		"bos_token": idToken("tokenizer.ggml.bos_token_id"),
		"eos_token": idToken("tokenizer.ggml.eos_token_id"),
		"pad_token": idToken("tokenizer.ggml.padding_token_id"),
		"unk_token": idToken("tokenizer.ggml.unknown_token_id"),
	}
	if b, ok := m.Bool("tokenizer.ggml.add_bos_token"); ok {
		cfg["add_bos_token"] = b
	}
	if b, ok := m.Bool("tokenizer.ggml.add_eos_token"); ok {
		cfg["add_eos_token"] = b
	}
	if t := f.ChatTemplate(); t != "" {
		cfg["chat_template"] = t
	}
	if tokenizerJSON, err = json.Marshal(doc); err != nil {
		return nil, nil, err
	}
	if configJSON, err = json.Marshal(cfg); err != nil {
		return nil, nil, err
	}
	return tokenizerJSON, configJSON, nil
}

// spmMerges derives BPE merges from a SentencePiece vocabulary as
// transformers' GGUFTokenizerSkeleton does: every split of every token into
// two vocabulary tokens is a merge; a token's splits are ordered by the
// scores of their halves (descending), and all merges by the score of the
// merged token (descending, stable).
func spmMerges(tokens []string, scores []float64) []string {
	vocab := make(map[string]float64, len(tokens))
	order := make([]string, 0, len(tokens))
	for i, t := range tokens {
		if _, dup := vocab[t]; !dup {
			order = append(order, t)
		}
		vocab[t] = scores[i] // Python's dict keeps the last score, the first position
	}
	type mg struct {
		l, r  string
		score float64
	}
	var all []mg
	for _, t := range order {
		var local []mg
		for i := range t {
			if i == 0 {
				continue
			}
			if !utf8.RuneStart(t[i]) {
				continue
			}
			l, r := t[:i], t[i:]
			if _, ok := vocab[l]; !ok {
				continue
			}
			if _, ok := vocab[r]; !ok {
				continue
			}
			local = append(local, mg{l, r, vocab[t]})
		}
		// Python: sorted(local, key=(vocab[l], vocab[r]), reverse=True) is a
		// stable sort on the reversed key.
		sort.SliceStable(local, func(i, j int) bool {
			a, b := local[i], local[j]
			if vocab[a.l] != vocab[b.l] {
				return vocab[a.l] > vocab[b.l]
			}
			return vocab[a.r] > vocab[b.r]
		})
		all = append(all, local...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].score > all[j].score })
	out := make([]string, len(all))
	for i, m := range all {
		out[i] = m.l + " " + m.r
	}
	return out
}

// ChatTemplate is tokenizer.chat_template (Jinja), or "" when the file has
// none.
func (f *File) ChatTemplate() string {
	s, _ := f.meta.String("tokenizer.chat_template")
	return s
}

// StopTokens lists the ids generation should stop at: eos, eot and eom
// (tokenizer.ggml.eos_token_id, eot_token_id, eom_token_id), without
// duplicates, in that order.
func (f *File) StopTokens() []int32 {
	var out []int32
	n, _ := f.meta.Value("tokenizer.ggml.tokens")
	for _, k := range []string{"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		v, ok := f.meta.Int(k)
		if !ok || v < 0 || (n.Len() > 0 && v >= int64(n.Len())) {
			continue
		}
		id := int32(v)
		dup := false
		for _, x := range out {
			dup = dup || x == id
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}
