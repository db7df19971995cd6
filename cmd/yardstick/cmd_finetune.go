package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/torch"
)

type finetuneFlags struct {
	data, evalData, base, out string
	resume                    bool
	cfg                       finetune.TrainConfig
	lora                      bool
	loraCfg                   finetune.LoRAConfig
	hosted                    hostedFlags // --provider: the provider's own fine-tuning engine
}

func (a *app) finetuneCommand() *cobra.Command {
	f := finetuneFlags{cfg: finetune.DefaultTrainConfig(), loraCfg: finetune.DefaultLoRAConfig()}
	cmd := &cobra.Command{
		Use:   "finetune --data FILE --out DIR [--base DIR|scratch]",
		Short: "Fine-tune a local LLaMA-architecture model (needs a -tags torch build)",
		Long: `Fine-tune a local LLaMA-architecture model on libtorch, on the CPU.

--data is OpenAI chat fine-tuning JSONL ({"messages":[…]}, the file you would
upload to a hosted fine-tuning service; 'yardstick suites export SUITE' writes
one) or prompt/completion JSONL. Loss is taken on the assistant's tokens only.
--base is a Hugging Face model directory (config.json, model.safetensors,
tokenizer.json: SmolLM2-135M or TinyLlama load as is) or "scratch[:PRESET]" for
a small model initialised at random with a byte-level tokenizer.

The trained model is written to --out, which a suite then runs as the target
local:OUT. Ctrl-C stops cleanly after writing a checkpoint; --resume continues
from the newest checkpoint in --out.

This command needs a binary built with libtorch: 'make build-torch' builds
bin/yardstick-torch.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.finetune(cmd.Context(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "training data: OpenAI chat JSONL or prompt/completion JSONL (required)")
	fl.StringVar(&f.evalData, "eval-data", "", "held-out data in the same formats (default: --eval-fraction of --data)")
	fl.StringVar(&f.base, "base", "scratch", `base model directory, or "scratch[:PRESET]" (presets: `+strings.Join(finetune.Presets, ", ")+`)`)
	fl.StringVarP(&f.out, "out", "o", "", "run directory for checkpoints and the final model (required)")
	fl.BoolVar(&f.resume, "resume", false, "continue from the newest checkpoint in --out")
	fl.Float64Var(&f.cfg.LearningRate, "lr", f.cfg.LearningRate, "peak learning rate")
	fl.Float64Var(&f.cfg.MinLRRatio, "min-lr-ratio", f.cfg.MinLRRatio, "cosine decay floor as a fraction of --lr")
	fl.IntVar(&f.cfg.WarmupSteps, "warmup", f.cfg.WarmupSteps, "linear warmup steps")
	fl.Float64Var(&f.cfg.Epochs, "epochs", f.cfg.Epochs, "passes over the training data (when --max-steps is 0)")
	fl.IntVar(&f.cfg.MaxSteps, "max-steps", 0, "optimizer steps (0: from --epochs)")
	fl.IntVar(&f.cfg.BatchSize, "batch-size", f.cfg.BatchSize, "sequences per micro-batch")
	fl.IntVar(&f.cfg.GradAccumulation, "grad-accum", f.cfg.GradAccumulation, "micro-batches per optimizer step")
	fl.IntVar(&f.cfg.SeqLen, "seq-len", f.cfg.SeqLen, "maximum tokens per training sequence")
	fl.Float64Var(&f.cfg.WeightDecay, "weight-decay", f.cfg.WeightDecay, "AdamW weight decay")
	fl.Float64Var(&f.cfg.GradClip, "grad-clip", f.cfg.GradClip, "maximum gradient norm (0: no clipping)")
	fl.Int64Var(&f.cfg.Seed, "seed", f.cfg.Seed, "seed for initialisation, shuffling, dropout and the eval split")
	fl.Float64Var(&f.cfg.EvalFraction, "eval-fraction", f.cfg.EvalFraction, "share of --data held out for eval loss")
	fl.IntVar(&f.cfg.EvalEvery, "eval-every", f.cfg.EvalEvery, "steps between eval-loss measurements")
	fl.IntVar(&f.cfg.CheckpointEvery, "checkpoint-every", f.cfg.CheckpointEvery, "steps between checkpoints")
	fl.IntVar(&f.cfg.LogEvery, "log-every", f.cfg.LogEvery, "steps between progress reports")
	fl.IntVar(&f.cfg.Threads, "threads", 0, "CPU threads for libtorch (0: all cores)")
	fl.StringVar(&f.cfg.Template, "template", "", "chat template: "+strings.Join(finetune.TemplateNames, ", ")+` ("": detect from the tokenizer)`)
	fl.BoolVar(&f.cfg.GradCheckpoint, "grad-checkpoint", false, "recompute each layer's activations in the backward pass (less memory, ~1/3 more compute)")
	fl.BoolVar(&f.lora, "lora", false, "train LoRA adapters instead of every weight")
	fl.IntVar(&f.loraCfg.Rank, "lora-rank", f.loraCfg.Rank, "LoRA rank")
	fl.Float64Var(&f.loraCfg.Alpha, "lora-alpha", f.loraCfg.Alpha, "LoRA alpha")
	fl.Float64Var(&f.loraCfg.Dropout, "lora-dropout", f.loraCfg.Dropout, "LoRA dropout")
	fl.StringSliceVar(&f.loraCfg.TargetModules, "lora-targets", f.loraCfg.TargetModules, `LoRA target modules, or "all-linear"`)
	fl.BoolVar(&f.loraCfg.Merge, "lora-merge", false, "also write model.safetensors with the adapters merged in")
	f.hosted.register(fl)
	cmd.AddCommand(a.finetuneExportCommand())
	return cmd
}

func (a *app) finetuneExportCommand() *cobra.Command {
	var format, typ, out string
	cmd := &cobra.Command{
		Use:   "export RUN --format gguf|gguf-lora|safetensors -o OUT",
		Short: "Write a fine-tuned model as GGUF (llama.cpp, Ollama) or a merged Hugging Face directory",
		Long: `Export a model trained by 'yardstick finetune' (RUN: its --out directory, a
checkpoint, or any model 'local:' serves).

  --format gguf         the whole model, LoRA merged in, as one GGUF file with the
                        tokenizer and chat template (--type f16, q8_0, bf16 or f32);
                        serve it with 'ollama create NAME -f Modelfile' (FROM ./OUT)
                        or llama.cpp
  --format gguf-lora    the LoRA adapter alone in llama.cpp's GGUF adapter format
                        (--type f32 or f16), for llama.cpp --lora or an Ollama
                        ADAPTER line on the base GGUF
  --format safetensors  a self-contained Hugging Face directory, LoRA merged in

The run directory itself is already a PEFT adapter (adapter_model.safetensors +
adapter_config.json) for Python's peft.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErrf("-o is required")
			}
			if !torch.Built() {
				return usageErr(finetune.ErrNotBuilt)
			}
			var err error
			switch format {
			case "gguf":
				err = torch.ExportGGUF(cmd.Context(), args[0], out, typ, false)
			case "gguf-lora":
				if typ == "" {
					typ = "f32"
				}
				err = torch.ExportGGUF(cmd.Context(), args[0], out, typ, true)
			case "safetensors":
				err = torch.ExportMerged(cmd.Context(), args[0], out)
			default:
				return usageErrf("--format %q: choose gguf, gguf-lora or safetensors", format)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s\n", out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "gguf", "gguf, gguf-lora or safetensors")
	fl.StringVar(&typ, "type", "", "GGUF weight type: f16 (default), q8_0, bf16, f32; gguf-lora: f32 (default) or f16")
	fl.StringVarP(&out, "out", "o", "", "output file (gguf, gguf-lora) or directory (safetensors)")
	return cmd
}

func (a *app) finetune(ctx context.Context, f *finetuneFlags) error {
	if f.hosted.provider != "" {
		return a.finetuneHosted(ctx, f)
	}
	if f.data == "" || f.out == "" {
		return usageErrf("--data and --out are required")
	}
	if f.lora {
		lc := f.loraCfg
		f.cfg.LoRA = &lc
	}
	if err := f.cfg.Validate(); err != nil {
		return usageErr(err)
	}
	// Check the data before loading a model: a bad line is reported with its
	// file:line at once.
	for _, path := range []string{f.data, f.evalData} {
		if path == "" {
			continue
		}
		if err := checkExamples(path); err != nil {
			return usageErr(err)
		}
	}
	if !torch.Built() {
		return usageErr(finetune.ErrNotBuilt)
	}
	tty := false
	if fd, ok := a.stderr.(*os.File); ok {
		tty = term.IsTerminal(int(fd.Fd()))
	}
	ck, err := torch.Train(ctx, torch.TrainOptions{
		Data:     f.data,
		EvalData: f.evalData,
		Base:     f.base,
		Out:      f.out,
		Config:   f.cfg,
		Resume:   f.resume,
		Progress: finetune.ProgressPrinter(a.stderr, tty),
	})
	if err != nil {
		var ie *finetune.InputError
		if errors.As(err, &ie) {
			return usageErr(err)
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return &exitError{code: exitInterrupted, err: errors.New(interruptedMessage(f, ck))}
		}
		return err
	}
	fmt.Fprintf(a.stdout, "trained %s: %d steps", f.out, ck.Step)
	if n := len(ck.TrainLoss); n > 0 {
		fmt.Fprintf(a.stdout, ", train loss %.4f", ck.TrainLoss[n-1].Loss)
	}
	if n := len(ck.EvalLoss); n > 0 {
		fmt.Fprintf(a.stdout, ", eval loss %.4f", ck.EvalLoss[n-1].Loss)
	}
	fmt.Fprintf(a.stdout, "\nrun it: yardstick run SUITE -m local:%s\n", f.out)
	return nil
}

// checkExamples reads a whole training file, reporting every bad line.
func checkExamples(path string) error {
	var errs []error
	n := 0
	for _, err := range finetune.ReadExamples(path) {
		if err != nil {
			errs = append(errs, err)
			if len(errs) >= 20 {
				break
			}
			continue
		}
		n++
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if n == 0 {
		return fmt.Errorf("%s: no examples", path)
	}
	return nil
}

// interruptedMessage says what an interrupted training run left behind: the checkpoint of the steps done,
// and how to continue.
func interruptedMessage(f *finetuneFlags, ck *finetune.Checkpoint) string {
	if ck == nil || ck.Step == 0 {
		return "interrupted before the first training step; no checkpoint was written"
	}
	return fmt.Sprintf("interrupted after step %d/%d; checkpoint written to %s (serve it as local:%[3]s, or continue with --resume --out %s)",
		ck.Step, ck.MaxSteps, finetune.CheckpointDir(f.out, ck.Step), f.out)
}
