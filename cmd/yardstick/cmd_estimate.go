package main

import (
	"fmt"
	"github.com/yardstick-eval/yardstick/internal/format"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/bench/estimate"
	"github.com/yardstick-eval/yardstick/internal/table"
	"github.com/yardstick-eval/yardstick/providers/pricing"
	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/suites"
)

func (a *app) estimateCommand() *cobra.Command {
	var (
		models []string
		split  string
		limit  int
		repeat int
	)
	cmd := &cobra.Command{
		Use:   "estimate SUITE... -m TARGET...",
		Short: "Estimate tokens and cost per target before anything is called",
		Long: `Count the input tokens of every case offline and estimate output tokens (likely:
the expected answer's length; at most: max_tokens), then price them per target.
Nothing is called and no key is needed.

OpenAI models are counted exactly with their tiktoken encoding (o200k_base or
cl100k_base) and OpenAI's chat framing; other models are approximated and
marked ≈ (see 'go doc ./bench/estimate' for the error to expect).`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(models) == 0 && len(a.conf.Providers) == 0 {
				return usageErrf("no target: give -m scheme:model")
			}
			if repeat < 1 {
				return usageErrf("--repeat must be at least 1")
			}
			if limit < 0 {
				return usageErrf("--limit must not be negative")
			}
			targets, err := a.estimateTargets(models)
			if err != nil {
				return err
			}
			ss, err := loadSuites(args, a.suiteLoadOptions(judgeOffline, registry.Options{}))
			if err != nil {
				return err
			}
			est, err := estimate.New(targets, estimate.Config{Repeats: repeat})
			if err != nil {
				return err
			}
			if _, err := checkCases(ss, suites.CasesOptions{Split: split, Limit: limit}); err != nil {
				return err
			}
			for c, err := range allCases(ss, suites.CasesOptions{Split: split, Limit: limit}) {
				if err != nil {
					return usageErr(err)
				}
				est.Add(c)
			}
			return printEstimate(a, est.Close())
		},
	}
	cmd.Flags().StringArrayVarP(&models, "model", "m", nil, "target to estimate (repeatable)")
	cmd.Flags().StringVar(&split, "split", "", `cases: a split name, "all", or "" for the suite's default split`)
	cmd.Flags().IntVar(&limit, "limit", 0, "only the first N cases of each suite")
	cmd.Flags().IntVar(&repeat, "repeat", 1, "repeats per case, as for run")
	return cmd
}

// estimateTargets resolves targets and their prices without building
// providers, so no key is needed.
func (a *app) estimateTargets(models []string) ([]estimate.Target, error) {
	var cfgs []registry.Config
	if len(models) == 0 {
		cfgs = a.conf.Providers
	}
	for _, m := range models {
		c, err := registry.Resolve(m, a.conf.Providers)
		if err != nil {
			return nil, usageErr(err)
		}
		cfgs = append(cfgs, c)
	}
	table := pricing.Default.Merge(a.prices())
	var out []estimate.Target
	for _, c := range cfgs {
		t := estimate.Target{Name: orDefault(c.Name, c.Type+":"+c.Model), Model: c.Model, Provider: c.Type, Price: c.Price}
		if t.Price == nil {
			if p, ok := table.Lookup(c.Type, c.Model); ok {
				t.Price = &p
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func printEstimate(a *app, rows []estimate.Row) error {
	t := table.Table{
		Header: []string{"target", "requests", "input tokens", "output likely", "output max", "cost likely", "cost max", "counted by"},
		Align:  table.Aligns("lrrrrrrl"),
	}
	var notes []string
	for _, r := range rows {
		approx := ""
		if r.Approximate {
			approx = "≈"
		}
		t.Add(r.Target, strconv.Itoa(r.Requests), approx+strconv.Itoa(r.InputTokens), approx+strconv.Itoa(r.OutputLikely), strconv.Itoa(r.OutputMax),
			usd(r.CostLikely), usd(r.CostMax), r.Method)
		if r.ImageTokens > 0 {
			notes = append(notes, fmt.Sprintf("%s: input tokens include %d for case images", r.Target, r.ImageTokens))
		}
		if r.LikelyAtMax > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d cases have no expected answer; their likely output is their max_tokens", r.Target, r.LikelyAtMax))
		}
		if r.DefaultMax > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d cases set no max_tokens; counted as %d", r.Target, r.DefaultMax, estimate.DefaultMaxTokens))
		}
		if r.CostLikely == nil {
			notes = append(notes, fmt.Sprintf("%s: no known price; set one under prices: or the provider's price: in yardstick.yaml", r.Target))
		}
	}
	if err := t.Render(a.stdout, table.List); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(a.stdout, "note: "+n)
	}
	return nil
}

func usd(v *float64) string {
	if v == nil {
		return "—"
	}
	return format.USD(*v)
}
