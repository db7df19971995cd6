package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/internal/suggest"
	"github.com/yardstick-eval/yardstick/internal/table"
	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/suites"
	"github.com/yardstick-eval/yardstick/suites/builtin"
	"github.com/yardstick-eval/yardstick/suites/score"
)

func (a *app) suitesCommand() *cobra.Command {
	cmd := commandGroup("suites", "Validate, list and export suites", "")
	cmd.AddCommand(&cobra.Command{
		Use:   "validate SUITE...",
		Short: "Check suite files and their whole datasets without calling any model",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var errs []error
			for _, arg := range args {
				s, origin, err := loadSuite(arg, a.suiteLoadOptions(judgeOffline, registry.Options{}))
				if err == nil {
					err = s.Check(cmd.Context())
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(a.stdout, "ok  %s (%s, version %q)\n", origin, s.Name, s.Version)
			}
			if len(errs) > 0 {
				return usageErr(errors.Join(errs...))
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in suites",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t table.Table
			for _, name := range builtin.Names() {
				s, err := builtin.Load(name, a.suiteLoadOptions(judgeOffline, registry.Options{}))
				if err != nil {
					return err
				}
				t.Add(name, s.Description)
			}
			return t.Render(a.stdout, table.List)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "scorers [TYPE...]",
		Short: "Print the scorer reference: each type's meaning, fields, default normalisation and examples",
		Args:  usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, t := range args {
				if score.Fields(t) == nil {
					return usageErr(fmt.Errorf("unknown scorer %q%s (known: %s)", t, suggest.Hint(t, score.Types()), strings.Join(score.Types(), ", ")))
				}
			}
			if err := score.WriteReferenceText(a.stdout, args...); err != nil {
				return err
			}
			_, err := fmt.Fprintln(a.stdout)
			return err
		},
	})
	var split, out string
	export := &cobra.Command{
		Use:   "export SUITE [--split train] [-o FILE]",
		Short: "Write a suite split as OpenAI chat fine-tuning JSONL (the fine-tuner's input)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := loadSuite(args[0], a.suiteLoadOptions(judgeOffline, registry.Options{}))
			if err != nil {
				return usageErr(err)
			}
			var exportErr error // ExportChat's own errors are about the suite: exit 2
			export := func(w io.Writer) error {
				exportErr = suites.ExportChat(cmd.Context(), s, split, w)
				return exportErr
			}
			if out == "" || out == "-" {
				err = export(a.stdout)
			} else {
				// Written whole or not at all: a failed export leaves no
				// half-written training file behind.
				err = writeFileAtomic(out, export)
			}
			if err != nil && err == exportErr {
				return usageErr(err)
			}
			return err
		},
	}
	export.Flags().StringVar(&split, "split", "train", `split to export ("all" for every case)`)
	export.Flags().StringVarP(&out, "out", "o", "", "output file (default stdout)")
	cmd.AddCommand(export)
	return cmd
}
