// Package finetune is the pure-Go half of Yardstick's local fine-tuner: the
// configuration, data and file formats that the libtorch trainer in
// finetune/torch builds on. It always builds without cgo.
//
// It provides:
//   - ModelConfig, a Hugging Face LlamaConfig (config.json) with validation,
//     rotary frequencies, the LlamaForCausalLM tensor names and shapes, and
//     presets for small models trained from scratch (TinyConfig, SmallConfig);
//   - TrainConfig and LoRAConfig with defaults, validation and the learning-rate
//     schedule (linear warmup, cosine decay to a floor);
//   - dataset readers for the OpenAI chat fine-tuning JSONL format and
//     prompt/completion JSONL, streamed with file:line errors;
//   - chat templates (yardstick, chatml, llama3, zephyr), Encode (an example to token
//     ids plus a loss mask on assistant tokens) and RenderPrompt (the same
//     format at inference, ending with the assistant header);
//   - batching with deterministic per-epoch shuffling and a hash-based
//     train/eval split;
//   - the run directory layout, checkpoint metadata, generation_config.json and
//     PEFT adapter_config.json.
//
// It does not run models, compute gradients or touch tensors' values: that is
// finetune/torch, which returns ErrNotBuilt unless built with -tags torch.
//
// # Run directory layout
//
// A training run writes a directory that is also a loadable model:
//
//	RUN/
//	  config.json                  ModelConfig (Hugging Face LlamaConfig)
//	  model.safetensors            weights, LlamaForCausalLM tensor names (full fine-tune, from-scratch, or LoRA merged)
//	  adapter_config.json          LoRA runs: PEFT adapter config (base_model_name_or_path = the base model dir)
//	  adapter_model.safetensors    LoRA runs: PEFT tensor names (base_model.model.….lora_A.weight / lora_B.weight)
//	  tokenizer.json               Hugging Face tokenizer (+ tokenizer_config.json), or
//	  tokenizer.bytes              marker for the byte-level tokenizer
//	  generation_config.json       bos/eos/pad ids and sampling defaults
//	  yardstick_checkpoint.json    Checkpoint metadata; written LAST, so its presence marks a complete checkpoint
//	  optimizer.safetensors        AdamW state for resuming (optional in the final export)
//	  checkpoints/step-00000100/   intermediate checkpoints, same files as above
//
// LatestCheckpoint finds the newest complete checkpoint of a run for resuming.
package finetune
