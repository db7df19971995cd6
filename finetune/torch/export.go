//go:build torch

package torch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// Built reports whether this binary was built with libtorch (the torch build tag).
func Built() bool { return true }

// ExportMerged loads dir (a LoRA adapter directory, e.g. a run trained without Merge) and writes out as a
// self-contained model directory: the base weights with the adapter folded in (W + (alpha/r)·B·A),
// config.json, the tokenizer, generation_config.json and the run's yardstick_checkpoint.json (so the chat
// template is kept). out may equal dir.
func ExportMerged(ctx context.Context, dir, out string) error {
	return onTorchThread(ctx, func() error { return exportMerged(dir, out) })
}

func exportMerged(dir, out string) error {
	l, err := loadDir(dir)
	if err != nil {
		return err
	}
	defer l.free()
	if l.m.lora == nil {
		return errors.New(dir + ": no LoRA adapter to merge")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := l.m.saveModel(out, true); err != nil {
		return err
	}
	if err := tokenize.Save(l.tok, out); err != nil {
		return err
	}
	gc := finetune.NewGenerationConfig(l.m.cfg, finetune.StopIDs(l.tok, l.tmpl))
	if err := gc.Save(filepath.Join(out, finetune.GenerationConfigFile)); err != nil {
		return err
	}
	ck, err := finetune.ReadCheckpoint(dir)
	if err != nil {
		ck = &finetune.Checkpoint{Done: true}
	}
	ck.Template, ck.DefaultSystem = l.tmpl.Name, l.tmpl.DefaultSystem
	ck.SavedAt = time.Now().UTC()
	return finetune.WriteCheckpoint(out, ck)
}
