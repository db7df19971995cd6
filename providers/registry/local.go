package registry

import (
	"fmt"
	"strconv"

	"github.com/yardstick-eval/yardstick/finetune/torch"
)

// Scheme "local": a model directory served in-process by finetune/torch, e.g. "-m local:./runs/support-ft"
// (Model is the directory: a Yardstick run or checkpoint, a Hugging Face LLaMA model directory, or a PEFT
// LoRA adapter directory; or a GGUF file, or "ollama:NAME[:TAG]" from the local Ollama store). options.threads sets libtorch's intra-op threads (default: all cores) and
// options.max_tokens the reply length when a request sets none (default 256), options.max_batch how
// many concurrent requests one batched generation serves (default 8). The model is loaded here, at
// Build time. The cache scope includes torch.Fingerprint(dir), so retraining into the same directory does
// not serve cached answers of the old model. Local models have no price. In a binary built without the
// torch build tag Build fails with finetune.ErrNotBuilt's message (how to rebuild).
func init() { register("local", buildLocal) }

func buildLocal(s Spec) (Adapter, error) {
	if err := optionKeysIn(s.Options, "threads", "max_tokens", "max_batch"); err != nil {
		return Adapter{}, err
	}
	var opts torch.ProviderOptions
	for key, dst := range map[string]*int{"threads": &opts.Threads, "max_tokens": &opts.MaxTokens, "max_batch": &opts.MaxBatch} {
		if v, ok := s.Options[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Adapter{}, fmt.Errorf("options.%s: %q is not a non-negative integer", key, v)
			}
			*dst = n
		}
	}
	fp, err := torch.Fingerprint(s.Model)
	if err != nil {
		return Adapter{}, fmt.Errorf("local model %s: %w", s.Model, err)
	}
	p, err := torch.NewProvider(s.Model, opts)
	if err != nil {
		return Adapter{}, err
	}
	return Adapter{Provider: p, Name: "local", BaseURL: "local://" + fp}, nil
}
