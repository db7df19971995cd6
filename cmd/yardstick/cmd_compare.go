package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/bench/baseline"
	"github.com/yardstick-eval/yardstick/reports"
)

func (a *app) compareCommand() *cobra.Command {
	var (
		force  bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Compare two runs (or a baseline and a run) case by case, with paired tests",
		Long: `Compare two runs case by case. A and B are results files, run directories or
baseline files; B is the candidate. Pass rates are compared with the exact
McNemar test and Newcombe's paired interval, mean scores with a paired bootstrap
interval; p-values are Holm-adjusted across suites and metrics, and "~" marks a
difference that is not significant at 95%.

The runs must have used the same cases, prompts and suite versions; otherwise
the comparison is refused with the reasons, unless --force, which compares the
cases both have.`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := compare.DefaultOptions()
			opts.Force = force
			c := compare.New(opts)
			labels := armLabels(args[0], args[1])
			for i, arg := range args {
				if err := addArm(c, labels[i], arg); err != nil {
					return err
				}
			}
			cmp, err := c.CompareRuns(labels[0], labels[1])
			if err != nil {
				return comparisonErr(err)
			}
			for _, w := range cmp.Warnings {
				fmt.Fprintf(a.stderr, "yardstick: warning: %s\n", w)
			}
			in := &reports.Input{Meta: reports.Meta{Title: labels[1] + " vs " + labels[0], Baseline: labels[0]}, Comparisons: cmp.Rows, Costs: cmp.Costs, Warnings: cmp.Warnings, Regressions: cmp.Regressions}
			rep, err := reports.New(format, in, nil)
			if err != nil {
				return usageErr(err)
			}
			return rep(a.stdout)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "compare the cases both runs have even when cases, prompts or suite versions differ")
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text, markdown, json or pr")
	return cmd
}

// addArm adds a results file, run directory or baseline file to c as label.
func addArm(c *compare.Comparer, label, arg string) error {
	if isBaselineFile(arg) {
		b, err := baseline.Load(arg)
		if err != nil {
			return usageErr(err)
		}
		return usageErrIf(c.AddSeq(label, b.Results()))
	}
	path, err := resultsArg(arg)
	if err != nil {
		return err
	}
	return usageErrIf(c.AddSeq(label, resultsOf(path)))
}

func usageErrIf(err error) error {
	if err != nil {
		return usageErr(err)
	}
	return nil
}

// armLabels names the two arms after their run directories or files,
// disambiguated when they are alike.
func armLabels(a, b string) [2]string {
	name := func(p string) string {
		p = strings.TrimSuffix(filepath.Clean(p), "/"+resultsName)
		if filepath.Base(p) == resultsName {
			p = filepath.Dir(p)
		}
		return filepath.Base(p)
	}
	la, lb := name(a), name(b)
	if la == lb {
		la, lb = "A:"+la, "B:"+lb
	}
	return [2]string{la, lb}
}
