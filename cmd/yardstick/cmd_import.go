package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/suites/importers"
)

func (a *app) importCommand() *cobra.Command {
	var dir, name, judge, match string
	var force bool
	pf := &cobra.Command{
		Use:   "promptfoo CONFIG",
		Short: "Write suites from a promptfoo config (prompts × providers × tests and their assertions)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			abs, err := filepath.Abs(args[0])
			if err != nil {
				return usageErr(err)
			}
			res, err := importers.Promptfoo(os.DirFS(filepath.Dir(abs)), filepath.Base(abs), importers.PromptfooOptions{Name: name, JudgeModel: judge})
			if err != nil {
				return usageErr(err)
			}
			return a.writeImport(cmd.Context(), res, args[0], dir, force)
		},
	}
	pf.Flags().StringVar(&judge, "judge-model", "", "grading model for llm-rubric assertions that name none (default openai:gpt-4o-mini)")
	oe := &cobra.Command{
		Use:   "openai-evals SAMPLES.jsonl",
		Short: "Write a suite from an openai/evals samples file (JSONL with input and ideal)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return usageErr(err)
			}
			defer f.Close()
			n := name
			if n == "" {
				n = strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0]))
				n = strings.Map(func(r rune) rune {
					if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
						return r
					}
					return '-'
				}, n)
			}
			res, err := importers.OpenAIEvals(f, args[0], importers.OpenAIEvalsOptions{Name: n, Match: match})
			if err != nil {
				return usageErr(err)
			}
			return a.writeImport(cmd.Context(), res, args[0], dir, force)
		},
	}
	oe.Flags().StringVar(&match, "match", importers.EvalMatch, "how answers are checked against ideal: match (starts with), includes, fuzzy, exact")
	for _, c := range []*cobra.Command{pf, oe} {
		c.Flags().StringVarP(&dir, "out", "o", ".", "directory to write the suite files to")
		c.Flags().StringVar(&name, "name", "", "suite name (default: from the source)")
		c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	}
	return commandGroup("import", "Write Yardstick suites from other tools' test files", "", pf, oe)
}

// writeImport writes the imported suites, validates each as `suites
// validate` would, and prints how to run them and what was not mapped.
func (a *app) writeImport(ctx context.Context, res *importers.Result, source, dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var paths []string
	for _, f := range res.Suites {
		p := filepath.Join(dir, f.Name)
		if _, err := os.Stat(p); err == nil && !force {
			return usageErrf("%s exists; use --force to overwrite it", p)
		}
		b, err := f.YAML(filepath.Base(source))
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		paths = append(paths, p)
	}
	var errs []error
	for i, p := range paths {
		s, _, err := loadSuite(p, a.suiteLoadOptions(judgeOffline, registry.Options{}))
		if err == nil {
			err = s.Check(ctx)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(a.stdout, "wrote %s (%d cases, %d suite scorers)\n", p, len(res.Suites[i].Suite.Cases), len(res.Suites[i].Suite.Scorers))
	}
	if len(errs) > 0 {
		return fmt.Errorf("the imported suite does not validate (please report this): %w", errors.Join(errs...))
	}
	if len(paths) > 0 {
		run := "yardstick run " + strings.Join(paths, " ")
		for _, t := range res.Targets {
			run += " -m " + t
		}
		if len(res.Targets) == 0 {
			run += " -m PROVIDER:MODEL"
		}
		fmt.Fprintf(a.stdout, "run: %s\n", run)
	}
	if len(res.Approximated) > 0 {
		fmt.Fprintf(a.stdout, "approximated (%d):\n", len(res.Approximated))
		for _, is := range res.Approximated {
			fmt.Fprintf(a.stdout, "  %s\n", is)
		}
	}
	if len(res.Unmapped) > 0 {
		fmt.Fprintf(a.stdout, "not mapped (%d):\n", len(res.Unmapped))
		for _, is := range res.Unmapped {
			fmt.Fprintf(a.stdout, "  %s\n", is)
		}
	}
	return nil
}
