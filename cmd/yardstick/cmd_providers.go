package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/internal/table"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

func (a *app) providersCommand() *cobra.Command {
	cmd := commandGroup("providers", "List provider schemes and configured targets, or check that targets answer", "")
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the provider schemes and the providers defined in yardstick.yaml",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(a.stdout, "schemes: %s\n", strings.Join(registry.Schemes(), ", "))
			if len(a.conf.Providers) == 0 {
				fmt.Fprintln(a.stdout, "no providers defined in yardstick.yaml; use -m scheme:model")
				return nil
			}
			t := table.Table{Header: []string{"NAME", "TYPE", "MODEL", "BASE URL"}}
			for _, p := range a.conf.Providers {
				t.Add(orDefault(p.Name, p.Type+":"+p.Model), p.Type, p.Model, orDefault(redactURL(p.BaseURL), "(default)"))
			}
			return t.Render(a.stdout, table.List)
		},
	})
	var models []string
	var timeout time.Duration
	check := &cobra.Command{
		Use:   "check [-m TARGET...]",
		Short: "Make one cheap call per target and explain each failure",
		Long: `Make one cheap call (a one-token answer) per target — the -m targets, or every
provider in yardstick.yaml — and say for each whether it answered, with a clear
reason when not: a missing key, a bad model name, an unreachable host.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(models) == 0 && len(a.conf.Providers) == 0 {
				return usageErrf("no target: give -m scheme:model or define providers in yardstick.yaml")
			}
			return a.checkProviders(cmd.Context(), models, timeout)
		},
	}
	check.Flags().StringArrayVarP(&models, "model", "m", nil, "target to check (repeatable)")
	check.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "time allowed per target")
	cmd.AddCommand(check)
	return cmd
}

func (a *app) checkProviders(ctx context.Context, models []string, timeout time.Duration) error {
	built, err := a.buildTargets(models, registry.Options{Getenv: a.getenv, Prices: a.prices()})
	if err != nil {
		return err
	}
	failed := 0
	for _, b := range built {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		resp, err := b.Provider.Generate(cctx, &providers.Request{
			Model:       b.Model,
			Messages:    []providers.Message{{Role: providers.RoleUser, Content: "Reply with the single word: ok"}},
			MaxTokens:   5,
			Temperature: providers.Float64(0),
		})
		cancel()
		if err != nil {
			failed++
			fmt.Fprintf(a.stdout, "✗ %s: %s\n", b.Name, redacted(explainProviderError(err)))
			continue
		}
		model := orDefault(resp.Model, b.Model)
		fmt.Fprintf(a.stdout, "✓ %s: answered as %s in %s\n", b.Name, model, time.Since(start).Round(time.Millisecond))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d targets failed the check", failed, len(built))
	}
	return nil
}

// explainProviderError turns a provider error into advice.
func explainProviderError(err error) string {
	var pe *providers.Error
	detail := err.Error()
	if errors.As(err, &pe) {
		detail = pe.Error()
	}
	switch providers.KindOf(err) {
	case providers.KindAuth:
		return "the key was refused: check the API key variable (" + detail + ")"
	case providers.KindNotFound:
		return "unknown model or deployment name (" + detail + ")"
	case providers.KindUnavailable:
		return "host unreachable or failing: check the base URL and that the server runs (" + detail + ")"
	case providers.KindTimeout:
		return "no answer in time (" + detail + ")"
	case providers.KindRateLimit:
		return "rate limited or out of quota (" + detail + ")"
	}
	return detail
}

// redactURL hides a password in a URL's user info ("https://user:xxxxx@host").
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
