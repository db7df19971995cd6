// Package gguf reads and writes GGUF, the model file format of llama.cpp and
// of every model in Ollama's store, for Yardstick's local LLaMA.
//
// Reading: Open parses a GGUF v2/v3 header (metadata and tensor directory)
// and reads tensor data on demand with ReadAt, so a file is never held in
// memory whole. Dequantize decodes F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
// Q5_1 and the K-quants Q2_K, Q3_K, Q4_K, Q5_K and Q6_K (Ollama's default
// Q4_K_M files mix Q4_K and Q6_K) and IQ4_NL, IQ4_XS to float32, bit for bit as the Python gguf
// package does (the tests check each on fixtures made with it:
// testdata/make_fixtures.py).
//
// LLaMA: ModelConfig turns the llama.* metadata into a Hugging Face
// LlamaConfig (Llama 3.1/3.2's rope_freqs factors become its llama3
// rope_scaling); ForEachHF streams every tensor in Hugging Face names and
// shapes with llama.cpp's Q/K row permutation undone (Unpermute), so the
// weights equal those transformers' GGUF loader produces; Tokenizer builds
// the tokenizer of tokenizer.ggml.* (byte-level BPE with the gpt2, smollm and
// llama-bpe pre-tokenizers; SentencePiece BPE) as a tokenize.HF equivalent
// to the one transformers derives; Template maps tokenizer.chat_template to
// one of finetune's chat templates, or renders it with a Jinja engine
// (finetune.TemplateJinja); StopTokens lists eos/eot/eom.
//
// Writing: WriteModel writes a LLaMA (F32, F16, BF16 or Q8_0) with its
// tokenizer and chat template, as convert_hf_to_gguf.py does, and WriteLoRA
// a LoRA adapter in llama.cpp's GGUF adapter format; both stream tensors one
// at a time from a TensorSource.
//
// Why not github.com/gpustack/gguf-parser-go: it parses the container well,
// but it is built for estimating memory and serving (it brings Ollama/HF
// registry clients and their dependencies), has no writer and no
// dequantisers, and would still leave this package to write everything
// above. The container is small (one header, little-endian scalars, arrays
// and strings), so this package reads and writes it itself, with limits on
// every length a header declares and errors naming the file, offset and key.
//
// Not supported: architectures other than llama (the error names them),
// mixture-of-experts, the other IQ*, TQ* and MXFP4 quantisations (the error names
// the type).
package gguf
