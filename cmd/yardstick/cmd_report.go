package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/internal/table"
	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/reports"
)

// resultsArg accepts a results file or a run directory holding one.
func resultsArg(arg string) (string, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return "", usageErrf("%s: no such results file or run directory", arg)
	}
	if st.IsDir() {
		p := filepath.Join(arg, resultsName)
		if _, err := os.Stat(p); err != nil {
			return "", usageErrf("%s: not a run directory (no %s)", arg, resultsName)
		}
		return p, nil
	}
	return arg, nil
}

func isTruncated(err error) bool { return errors.Is(err, bench.ErrTruncated) }

type analysisFlags struct {
	thresholds []string
	suites     []string
	baseline   string
	force      bool
}

func (f *analysisFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.thresholds, "threshold", nil, `threshold to judge (repeatable), e.g. "pass_rate >= 0.85"`)
	cmd.Flags().StringArrayVar(&f.suites, "suite", nil, "also judge the thresholds declared in this suite (repeatable)")
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "baseline file for comparisons and delta() thresholds")
	cmd.Flags().BoolVar(&f.force, "force", false, "compare with --baseline even when cases, prompts or suite versions differ")
}

// build parses the flags into an analysis of resultsPath.
func (a *app) buildAnalysis(f *analysisFlags, resultsPath string) (analysisJob, error) {
	ths, err := flagThresholds(f.thresholds)
	if err != nil {
		return analysisJob{}, err
	}
	if len(f.suites) > 0 {
		ss, err := loadSuites(f.suites, a.suiteLoadOptions(judgeOffline, registry.Options{}))
		if err != nil {
			return analysisJob{}, err
		}
		sths, err := suiteThresholds(ss)
		if err != nil {
			return analysisJob{}, err
		}
		ths = append(sths, ths...)
	}
	if err := checkDeltaBaseline(ths, f.baseline != ""); err != nil {
		return analysisJob{}, err
	}
	an := analysisJob{resultsPath: resultsPath, thresholds: ths, force: f.force, runID: filepath.Base(filepath.Dir(resultsPath)),
		gitSHA: a.getenv("GITHUB_SHA"), gitRef: a.getenv("GITHUB_REF_NAME")}
	if m, err := bench.ReadManifest(filepath.Join(filepath.Dir(resultsPath), bench.ManifestName)); err == nil {
		an.started = m.Start
		if len(m.Targets) > 0 {
			an.reference = m.Targets[0].Name
		}
		if len(m.Suites) == 1 {
			an.title = m.Suites[0].Name
		}
	}
	if f.baseline != "" {
		if an.baseline, err = loadBaseline(f.baseline); err != nil {
			return analysisJob{}, err
		}
	}
	return an, nil
}

func (a *app) reportCommand() *cobra.Command {
	var (
		af     analysisFlags
		format string
		out    string
	)
	cmd := &cobra.Command{
		Use:   "report RESULTS|RUN_DIR",
		Short: "Render a report from a results file without calling any model",
		Long: `Render a report from results.jsonl (or a run directory) without calling any
model. Formats: ` + fmt.Sprint(reports.Formats) + `.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := resultsArg(args[0])
			if err != nil {
				return err
			}
			an, err := a.buildAnalysis(&af, path)
			if err != nil {
				return err
			}
			in, err := an.analyze()
			if err != nil {
				return err
			}
			rep, err := reports.New(format, in, resultsOf(path))
			if err != nil {
				return usageErr(err)
			}
			if out == "" || out == "-" {
				return rep(a.stdout)
			}
			return writeFileAtomic(out, rep)
		},
	}
	af.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "text", "report format")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of stdout")
	return cmd
}

func (a *app) gateCommand() *cobra.Command {
	var af analysisFlags
	cmd := &cobra.Command{
		Use:   "gate RESULTS|RUN_DIR --threshold EXPR... [--suite SUITE] [--baseline FILE]",
		Short: "Judge thresholds over a results file; exit 99 when one is crossed",
		Long: `Judge thresholds over an existing results file, per suite × target, and print
each threshold with its observed value. Missing data is a breach. Exit codes:
0 every threshold held, 99 one was crossed, 2 bad thresholds or input.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.gate(cmd.Context(), args[0], af)
		},
	}
	af.register(cmd)
	return cmd
}

func (a *app) gate(_ context.Context, arg string, af analysisFlags) error {
	path, err := resultsArg(arg)
	if err != nil {
		return err
	}
	an, err := a.buildAnalysis(&af, path)
	if err != nil {
		return err
	}
	if len(an.thresholds) == 0 {
		return usageErrf("no thresholds: give --threshold EXPR or --suite SUITE with thresholds")
	}
	in, err := an.analyze()
	if err != nil {
		return err
	}
	if err := printOutcomes(a.stdout, in.Outcomes); err != nil {
		return err
	}
	if gate.Failed(in.Outcomes) {
		return errThresholds
	}
	return nil
}

// printOutcomes prints the verdict, then one line per threshold outcome.
func printOutcomes(w io.Writer, outcomes []gate.Outcome) error {
	failed := 0
	for _, o := range outcomes {
		if !o.Pass {
			failed++
		}
	}
	if failed == 0 {
		fmt.Fprintf(w, "✓ all %d thresholds held\n", len(outcomes))
	} else {
		fmt.Fprintf(w, "✗ %d of %d thresholds crossed\n", failed, len(outcomes))
	}
	return outcomesTable(outcomes).Render(w, table.List)
}

// printQuiet is what run -q prints: the verdict line, then the crossed
// thresholds, if any.
func printQuiet(w io.Writer, in *reports.Input) error {
	fmt.Fprintln(w, reports.VerdictLine(in))
	var crossed []gate.Outcome
	for _, o := range in.Outcomes {
		if !o.Pass {
			crossed = append(crossed, o)
		}
	}
	if len(crossed) == 0 {
		return nil
	}
	return outcomesTable(crossed).Render(w, table.List)
}

// outcomesTable has one row per threshold outcome: mark, expression,
// group, what was observed, and where the threshold came from.
func outcomesTable(outcomes []gate.Outcome) *table.Table {
	var t table.Table
	for _, o := range outcomes {
		mark := "✓"
		if !o.Pass {
			mark = "✗"
		}
		observed := fmt.Sprintf("observed %s (n=%d)", o.Display, o.N)
		if o.N == 0 && o.Reason != "" {
			observed = o.Reason
		} else if o.Reason != "" {
			observed += ": " + o.Reason
		}
		source := ""
		if o.Source != "" {
			source = "[" + o.Source + "]"
		}
		t.Add(mark, o.Threshold, o.Group, observed, source)
	}
	return &t
}
