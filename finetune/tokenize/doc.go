// Package tokenize turns text into token ids and back for Yardstick's local
// models. It has two implementations of one small Tokenizer interface:
//
//   - Bytes, a byte-level tokenizer for models trained from scratch: ids 0–255
//     are the bytes of the UTF-8 text, followed by a few special tokens used by
//     the chat template. It round-trips any string and needs no vocabulary file
//     (a run directory marks it with a small tokenizer.bytes file).
//
//   - HF, a loader for Hugging Face tokenizer.json files of the BPE family:
//     byte-level BPE (GPT-2, SmolLM/SmolLM2, Llama 3, Qwen2-style) and
//     SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama, Mistral).
//     It handles added and special tokens (lstrip/rstrip/single_word), the
//     ByteLevel, Split (any regex, look-ahead included), Digits, Metaspace and
//     Sequence pre-tokenizers, the NFC/NFD/NFKC/NFKD/Lowercase/Prepend/Replace
//     normalizers, BPE with ignore_merges, byte_fallback, unk and fuse_unk, and
//     the ByteLevel, Metaspace, Replace, ByteFallback, Fuse and Strip decoders.
//     Ids and decoded text match Python's tokenizers exactly on the fixtures
//     it produced (testdata/make_tokenizers.py: four tokenizers, 232 strings
//     each). The two standard split regexes (GPT-2's and Llama 3's) run through
//     hand-written scanners; any other pattern through regexp2.
//
// Why not github.com/sugarme/tokenizer: v0.3.0 could not be used as is. Its
// ByteLevel pre-tokenizer regex lacks the `\s+(?!\S)|\s+` alternatives (Go's
// regexp has no look-ahead), so runs of spaces and newlines tokenize differently
// from Python; added/special tokens written in the text are not recognised; a
// Llama-3 tokenizer.json panics on load (its Split regex uses `(?!`); and it
// needs modules absent from go.sum. Measured on this package's fixtures: 7 of
// 30 SmolLM2-style strings gave different ids and the Llama-3-style file
// panicked. This package uses github.com/dlclark/regexp2 for the regexes.
//
// GGUF files carry no tokenizer.json: package finetune/gguf builds the
// equivalent tokenizer.json from their tokenizer.ggml.* metadata and loads it
// with ParseHF.
//
// Encode never adds BOS/EOS or applies a tokenizer.json post-processor: the chat
// template in package finetune decides where special tokens go. The package
// does not train tokenizers, does not support Unigram or WordPiece models, and
// ignores tokenizer.json's truncation, padding and post_processor.
package tokenize
