package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	goopenai "github.com/sashabaranov/go-openai"
	"github.com/spf13/pflag"

	"github.com/yardstick-eval/yardstick/finetune/hosted"
)

type hostedFlags struct {
	provider string
	suffix   string
	poll     time.Duration
	dryRun   bool
}

func (h *hostedFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&h.provider, "provider", "", `fine-tune on a provider's engine instead of locally: "openai" (--base is then the provider's model, e.g. gpt-4o-mini-2024-07-18)`)
	fl.StringVar(&h.suffix, "suffix", "", "with --provider: a suffix for the tuned model's name")
	fl.DurationVar(&h.poll, "poll", 10*time.Second, "with --provider: first interval between job polls (doubles up to 1m)")
	fl.BoolVar(&h.dryRun, "dry-run", false, "with --provider: validate the data and print the estimated cost, without uploading")
}

// finetuneHosted validates the data, then runs (or re-attaches to) a
// fine-tuning job on the provider, and prints the tuned model as a target.
func (a *app) finetuneHosted(ctx context.Context, f *finetuneFlags) error {
	h := f.hosted
	if h.provider != "openai" {
		return usageErrf("--provider %q: hosted fine-tuning supports openai", h.provider)
	}
	if f.data == "" || f.out == "" || f.base == "" || f.base == "scratch" {
		return usageErrf("--provider openai needs --data FILE, --out DIR and --base MODEL (e.g. gpt-4o-mini-2024-07-18)")
	}
	key := a.getenv("OPENAI_API_KEY")
	if key == "" {
		return usageErrf("OPENAI_API_KEY is not set")
	}
	epochs := int(f.cfg.Epochs)
	file, err := os.Open(f.data)
	if err != nil {
		return usageErr(err)
	}
	rep, err := hosted.Validate(file, f.data, f.base, epochs)
	file.Close()
	if err != nil {
		return usageErr(err)
	}
	price := "unknown (no price for " + f.base + ")"
	if rep.PriceKnown {
		price = fmt.Sprintf("$%.2f", rep.EstimatedUSD)
	}
	fmt.Fprintf(a.stderr, "%s: %d examples, %d tokens (longest %d); %d epochs ≈ %s\n", f.data, rep.Examples, rep.Tokens, rep.MaxTokens, rep.Epochs, price)
	if h.dryRun {
		return nil
	}
	cfg := goopenai.DefaultConfig(key)
	if u := a.getenv("OPENAI_BASE_URL"); u != "" {
		cfg.BaseURL = u
	}
	st, err := hosted.Run(ctx, goopenai.NewClientWithConfig(cfg), hosted.Options{
		Base: f.base, Data: f.data, Out: f.out, Epochs: epochs, Suffix: h.suffix, PollMin: h.poll,
		OnEvent: func(e goopenai.FineTuneEvent) { fmt.Fprintf(a.stderr, "  %s\n", e.Message) },
	})
	if st != nil && st.JobID != "" {
		fmt.Fprintf(a.stderr, "job %s: %s (recorded in %s)\n", st.JobID, st.Status, filepath.Join(f.out, hosted.StateName))
	}
	if err != nil {
		return err // a failed job: exit 1 with the provider's message; Ctrl-C: 130, re-run to re-attach
	}
	fmt.Fprintf(a.stdout, "%s\n", st.Target)
	fmt.Fprintf(a.stderr, "compare it with its base: yardstick run SUITE -m %s -m openai:%s\n", st.Target, f.base)
	return nil
}
