package main

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/reports"
)

// analysis turns a results file into everything a report shows, reading the
// file once: summaries, threshold outcomes, flaky cases and paired
// comparisons (against the baseline when there is one, else between the
// run's targets, against the first).
type analysisJob struct {
	resultsPath string
	thresholds  []gate.Threshold
	baseline    *baselineInput // may be nil
	reference   string         // target the others are compared with; "": the first target seen
	force       bool           // compare with the baseline despite different cases or prompts
	title       string
	runID       string
	started     time.Time
	gitSHA      string // from $GITHUB_SHA, for the report header
	gitRef      string // from $GITHUB_REF_NAME
}

// runArm labels the analysed run in comparisons.
const runArm = "run"

// analyze reads the results file. When the run cannot be compared with the
// baseline (different cases, prompts or suite versions, without force), it
// returns the input without comparisons together with that usage error;
// any other error comes with a nil input.
func (an analysisJob) analyze() (*reports.Input, error) {
	f, err := os.Open(an.resultsPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum := analysis.NewSummarizer(analysis.DefaultSummaryOptions())
	gopts := gate.DefaultOptions()
	gopts.GroupBy = []string{"suite", "target"}
	ev := gate.NewEvaluator(an.thresholds, gopts)
	copts := compare.DefaultOptions()
	copts.Force = an.force
	cmp := compare.New(copts)
	flakes := analysis.NewFlakyTracker()
	reference := an.reference
	for r, err := range bench.ReadResults(f, an.resultsPath) {
		if err != nil {
			// A torn last line (a killed writer) loses one result, not the report.
			if isTruncated(err) {
				continue
			}
			return nil, usageErr(err)
		}
		if reference == "" {
			reference = r.Target
		}
		sum.Add(r)
		ev.Add(r)
		cmp.Add(runArm, r)
		flakes.Add(r)
	}
	in := &reports.Input{
		Meta: reports.Meta{
			Title:   an.title,
			RunID:   an.runID,
			Started: an.started,
			Version: bench.Version(),
			GitSHA:  an.gitSHA,
			GitRef:  an.gitRef,
		},
		Summaries: sum.Close(),
	}
	for _, fc := range flakes.Flaky() {
		in.Flaky = append(in.Flaky, reports.FlakyCase{Suite: fc.Suite, Target: fc.Target, CaseID: fc.CaseID, Passed: fc.Passed, Runs: fc.Runs})
	}

	var (
		comparison *compare.Comparison
		refused    error // the baseline comparison's refusal; in is still complete otherwise
	)
	if an.baseline != nil {
		label := an.baseline.label()
		baseSum := analysis.NewSummarizer(analysis.DefaultSummaryOptions())
		for r, err := range an.baseline.results() {
			if err != nil {
				return nil, usageErr(err)
			}
			ev.AddBaseline(r)
			baseSum.Add(r)
			cmp.Add(label, r)
		}
		in.Baseline = baseSum.Close()
		in.Meta.Baseline = an.baseline.path
		if comparison, err = cmp.CompareRuns(label, runArm); err != nil {
			// The run's own summaries and outcomes are still worth a report:
			// return them with the refusal, so a caller that has just spent
			// money on the run can write them before reporting the error.
			refused = comparisonErr(err)
			in.Warnings = append(in.Warnings, "no comparison with "+label+": "+err.Error())
		} else {
			in.Regressions = comparison.Regressions
		}
	} else if len(targetsOf(in.Summaries)) > 1 {
		if comparison, err = cmp.CompareTargets(runArm, reference); err != nil {
			return nil, comparisonErr(err)
		}
	}
	if comparison != nil {
		in.Comparisons = comparison.Rows
		in.Costs = comparison.Costs
		in.Warnings = comparison.Warnings
	}
	in.Outcomes = ev.Outcomes()
	if refused != nil {
		// delta() outcomes paired results the comparison refused to pair:
		// they must not read as verdicts.
		for i, o := range in.Outcomes {
			if isDelta(an.thresholds, o.Threshold) {
				in.Outcomes[i].Pass = false
				in.Outcomes[i].Reason = "the baseline is not comparable with this run (see the warnings); pass --force to judge the cases both have"
			}
		}
	}
	return in, refused
}

// isDelta reports whether expr is one of ths and a delta() threshold.
func isDelta(ths []gate.Threshold, expr string) bool {
	for _, t := range ths {
		if t.Delta && t.Expr == expr {
			return true
		}
	}
	return false
}

// comparisonErr makes an incompatible comparison a usage error with advice.
func comparisonErr(err error) error {
	var ie *compare.IncompatibleError
	if errors.As(err, &ie) {
		return usageErrf("%v; pass --force to compare the cases both have", err)
	}
	return err
}

func targetsOf(ss []analysis.Summary) map[string]bool {
	out := map[string]bool{}
	for _, s := range ss {
		out[s.Target] = true
	}
	return out
}

// resultsOf streams a results file for the reporters that need every result.
func resultsOf(path string) iter.Seq2[*bench.Result, error] {
	return func(yield func(*bench.Result, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		for r, err := range bench.ReadResults(f, path) {
			if err != nil && isTruncated(err) {
				continue
			}
			if !yield(r, err) {
				return
			}
		}
	}
}

// writeRunReports writes a run's reports into dir, each atomically:
// summary.json, report.md (verdict first, sized for a pull-request comment or
// $GITHUB_STEP_SUMMARY), junit.xml and the self-contained report.html.
func writeRunReports(dir string, in *reports.Input, an analysisJob) error {
	var baseline iter.Seq2[*bench.Result, error]
	if an.baseline != nil {
		baseline = an.baseline.results()
	}
	files := []struct {
		name string
		rep  reports.Reporter
	}{
		{"summary.json", func(w io.Writer) error { return reports.JSON(w, in) }},
		{"report.md", func(w io.Writer) error { return reports.PR(w, in, reports.PROptions{}) }},
		{"junit.xml", func(w io.Writer) error { return reports.JUnit(w, in, resultsOf(an.resultsPath)) }},
		{"report.html", func(w io.Writer) error {
			return reports.HTML(w, in, resultsOf(an.resultsPath), reports.HTMLOptions{Baseline: baseline})
		}},
	}
	// One report that cannot be written does not cost the others.
	var errs []error
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.rep); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	return errors.Join(errs...)
}

// writeFileAtomic writes what rep writes to path through a temporary file in
// the same folder, so path holds either its old content or the whole new one.
// The file is readable by all (0644), like one made by os.Create.
func writeFileAtomic(path string, rep reports.Reporter) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := rep(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// printSummary prints the run's summary to w in format ("none" prints nothing).
func printSummary(w io.Writer, format string, in *reports.Input) error {
	if format == "none" {
		return nil
	}
	rep, err := reports.New(format, in, nil)
	if err != nil {
		return err
	}
	return rep(w)
}

func checkFormat(format string) error {
	switch format {
	case "text", "markdown", "json", "none":
		return nil
	}
	return usageErrf("--format %q: want text, markdown, json or none", format)
}
