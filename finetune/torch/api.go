// Package torch trains, runs and serves LLaMA-architecture language models on libtorch through
// github.com/sugarme/gotch: the model (RMSNorm, rotary embeddings, SwiGLU, grouped-query attention, tied or
// untied embeddings), full and LoRA fine-tuning with AdamW, KV-cached generation, and the local
// providers.Provider behind `local:PATH` targets.
//
// Weights load from and save to safetensors with Hugging Face LlamaForCausalLM tensor names, so a Hugging
// Face model directory (config.json, model.safetensors, tokenizer.json — SmolLM2-135M, TinyLlama) loads as
// is, and LoRA adapters are written in PEFT's naming (adapter_model.safetensors + adapter_config.json).
// Everything runs in float32 on the CPU.
//
// Building: the real implementation is behind the `torch` build tag (cgo, libtorch 2.1.2; see
// scripts/libtorch.sh and `make build-torch`). Without the tag this package keeps the same exported API and
// every function returns an error wrapping finetune.ErrNotBuilt, so the default build stays pure Go.
//
// Concurrency: every libtorch call runs on one dedicated OS thread (see thread.go), so exported functions
// are safe for concurrent use and queue behind each other (the Provider gathers concurrent requests into
// batched generations); a Train in progress delays a Provider in the
// same process.
//
// Not here: data formats, chat templates, tokenizers, LR schedules and checkpoint metadata (package finetune
// and its subpackages); GPUs, mixed precision, multi-process training, quantisation.
package torch

import (
	"github.com/yardstick-eval/yardstick/finetune"
)

// TrainOptions configures Train.
type TrainOptions struct {
	// Data is the training file: OpenAI chat fine-tuning JSONL ({"messages":[…]}) or prompt/completion JSONL.
	Data string
	// EvalData is an optional held-out file in the same formats. When empty, Config.EvalFraction of Data's
	// examples (chosen by finetune.IsEval with Config.Seed) are held out instead.
	EvalData string
	// Base is a model directory (config.json, model.safetensors or a sharded index, tokenizer.json), or
	// "scratch" / "scratch:PRESET" (finetune.PresetConfig; default "tiny") for a randomly initialised model
	// with the byte-level tokenizer.
	Base string
	// Out is the run directory. Checkpoints go to Out/checkpoints/step-N (finetune.CheckpointDir; the newest
	// two are kept); the final model is written to Out itself, so Out is what `local:Out` serves. A scratch
	// run also writes its untrained initial model to Out/base (BaseDir), the baseline to compare against.
	Out string
	// Config holds the hyperparameters; Config.LoRA nil means full fine-tuning.
	Config finetune.TrainConfig
	// Resume continues from the newest complete checkpoint in Out (weights, optimizer moments, step and
	// data position), giving the same loss curve as an uninterrupted run. Without a checkpoint it starts
	// fresh.
	Resume bool
	// Progress, when set, is called every Config.LogEvery steps (EventStep), after each eval (EventEval),
	// checkpoint (EventCheckpoint) and at the end (EventDone). It runs on the torch thread: it must not block
	// for long nor call into this package.
	Progress func(finetune.Progress)
}

// ProviderOptions configures NewProvider.
type ProviderOptions struct {
	// Name is reported as Response.Model; default: the base name of the directory.
	Name string
	// Threads is libtorch's intra-op thread count for this provider's requests; 0 means runtime.NumCPU().
	Threads int
	// MaxTokens is used when a request leaves MaxTokens at 0; default 256.
	MaxTokens int
	// MaxBatch is how many concurrent requests one batched generation serves at most; default 8.
	MaxBatch int
}
