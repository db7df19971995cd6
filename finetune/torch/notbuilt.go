//go:build !torch

package torch

import (
	"context"
	"fmt"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/providers"
)

// errNotBuilt wraps finetune.ErrNotBuilt, whose message says how to rebuild with libtorch.
var errNotBuilt = fmt.Errorf("finetune/torch: %w", finetune.ErrNotBuilt)

// Train fine-tunes a model; see the torch build. This build returns an error wrapping finetune.ErrNotBuilt.
func Train(ctx context.Context, opts TrainOptions) (*finetune.Checkpoint, error) {
	return nil, errNotBuilt
}

// NewProvider serves a local model; see the torch build. This build returns an error wrapping
// finetune.ErrNotBuilt.
func NewProvider(dir string, opts ProviderOptions) (providers.Provider, error) {
	return nil, errNotBuilt
}

// ExportMerged writes a full model with a LoRA adapter folded in; see the torch build. This build returns
// an error wrapping finetune.ErrNotBuilt.
func ExportMerged(ctx context.Context, dir, out string) error {
	return errNotBuilt
}

// Built reports whether this binary was built with libtorch (the torch build tag).
func Built() bool { return false }

// ExportGGUF writes a model or its LoRA adapter as GGUF; see the torch build. This build returns an error
// wrapping finetune.ErrNotBuilt.
func ExportGGUF(ctx context.Context, dir, out, typ string, adapter bool) error {
	return errNotBuilt
}
