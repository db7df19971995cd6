package main

import (
	"errors"
	"fmt"
	"github.com/yardstick-eval/yardstick/suites"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/reports"
)

// analysisJob says which results to analyse and how; analyze hands them to
// analysis.Builder, the one owner of every summary, comparison and verdict.
type analysisJob struct {
	resultsPath   string
	thresholds    []gate.Threshold
	baseline      *baselineInput // may be nil
	reference     string         // target the others are compared with; "": every pair
	force         bool           // compare with the baseline despite different cases or prompts
	includeCached bool           // count cache hits in latency figures
	title         string
	runID         string
	started       time.Time
	gitSHA        string // from $GITHUB_SHA, for the report header
	gitRef        string // from $GITHUB_REF_NAME
}

// analyze reads the results file (and the baseline) once. When the run
// cannot be compared with the baseline (different cases, prompts or suite
// versions, without force), it returns the analysis without comparisons
// together with that usage error; any other error comes with a nil analysis.
func (an analysisJob) analyze() (*reports.Input, error) {
	f, err := os.Open(an.resultsPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opts := analysis.Options{Thresholds: an.thresholds, Force: an.force, Reference: an.reference,
		IncludeCachedLatency: an.includeCached}
	if an.baseline != nil {
		opts.BaselineLabel = an.baseline.label()
	}
	b := analysis.New(opts)
	if err := analysis.AddSeq(bench.LatestResults(f, an.resultsPath), b.Add); err != nil {
		return nil, usageErr(err)
	}
	if an.baseline != nil {
		if err := analysis.AddSeq(an.baseline.results(), b.AddBaseline); err != nil {
			return nil, usageErr(err)
		}
	}
	in, err := b.Close()
	if in == nil {
		return nil, comparisonErr(err)
	}
	in.Meta = analysis.Meta{Title: an.title, RunID: an.runID, Started: an.started, Version: bench.Version(),
		GitSHA: an.gitSHA, GitRef: an.gitRef}
	if an.baseline != nil {
		in.Meta.Baseline = an.baseline.path
	}
	return in, comparisonErr(err)
}

// targetFailures is the error for targets that did not really run (every
// request failed, or a circuit breaker stopped them): exit 1, naming each
// target and its cause, whatever the thresholds say.
func targetFailures(in *reports.Input) error {
	if in == nil || len(in.TargetFailures) == 0 {
		return nil
	}
	var errs []error
	for _, tf := range in.TargetFailures {
		errs = append(errs, fmt.Errorf("target %s did not run: %s", tf.Target, tf.Cause))
	}
	return errors.Join(errs...)
}

// comparisonErr makes an incompatible comparison a usage error with advice.
func comparisonErr(err error) error {
	var ie *compare.IncompatibleError
	if errors.As(err, &ie) {
		return usageErrf("%v; pass --force to compare the cases both have", err)
	}
	return err
}

// resultsOf streams a results file, the last record of each key, for the
// reporters that need every result.
func resultsOf(path string) iter.Seq2[*bench.Result, error] {
	return func(yield func(*bench.Result, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		for r, err := range bench.LatestResults(f, path) {
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
	files := []struct {
		name string
		rep  reports.Reporter
	}{
		{"summary.json", func(w io.Writer) error { return reports.JSON(w, in) }},
		{"report.md", func(w io.Writer) error { return reports.PR(w, in, reports.PROptions{}) }},
	}
	// One report that cannot be written does not cost the others.
	var errs []error
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.rep); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	// The two per-case reports share one read of the results file.
	perCase := []struct {
		name string
		rep  func(io.Writer, iter.Seq2[*bench.Result, error]) error
	}{
		{"junit.xml", func(w io.Writer, rs iter.Seq2[*bench.Result, error]) error { return reports.JUnit(w, in, rs) }},
		{"report.html", func(w io.Writer, rs iter.Seq2[*bench.Result, error]) error {
			return reports.HTML(w, in, rs, reports.HTMLOptions{})
		}},
	}
	consumers := make([]func(iter.Seq2[*bench.Result, error]) error, len(perCase))
	for i, f := range perCase {
		consumers[i] = func(rs iter.Seq2[*bench.Result, error]) error {
			return writeFileAtomic(filepath.Join(dir, f.name), func(w io.Writer) error { return f.rep(w, rs) })
		}
	}
	for i, err := range fanOut(resultsOf(an.resultsPath), consumers...) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", perCase[i].name, err))
		}
	}
	return errors.Join(errs...)
}

// fanOut reads seq once and gives every consumer the whole stream, each in
// its own goroutine; a consumer that returns early is skipped from then on.
// Consumers must not modify the results (they are shared). It returns each
// consumer's error, in order.
func fanOut(seq iter.Seq2[*bench.Result, error], consumers ...func(iter.Seq2[*bench.Result, error]) error) []error {
	type item struct {
		r   *bench.Result
		err error
	}
	chans := make([]chan item, len(consumers))
	done := make([]chan struct{}, len(consumers))
	errs := make([]error, len(consumers))
	var wg sync.WaitGroup
	for i, consume := range consumers {
		chans[i], done[i] = make(chan item, 64), make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			errs[i] = consume(func(yield func(*bench.Result, error) bool) {
				for it := range chans[i] {
					if !yield(it.r, it.err) {
						return
					}
				}
			})
		}()
	}
	for r, err := range seq {
		for i := range chans {
			select {
			case chans[i] <- item{r, err}:
			case <-done[i]:
			}
		}
	}
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
	return errs
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

// checkBaselineFirst compares the cases the run is about to send with the
// baseline before any call, so that an incompatible baseline (other cases,
// prompts or suite versions) is refused before money is spent, not after.
// Suites only the baseline has are reported and skipped. With force the
// differences are warnings.
func checkBaselineFirst(w io.Writer, ss []loadedSuite, opts suites.CasesOptions, base *baselineInput, targets []string, force bool) error {
	if base == nil {
		return nil
	}
	c := compare.New(compare.Options{Force: force, ExcerptLen: -1})
	if err := c.AddSeq(base.label(), base.results()); err != nil {
		return usageErr(err)
	}
	for _, s := range ss {
		for cs, err := range s.Cases(opts) {
			if err != nil {
				return usageErr(err)
			}
			for _, t := range targets {
				c.Add(analysis.RunArm, &bench.Result{Suite: cs.Suite, SuiteVersion: cs.SuiteVersion, CaseID: cs.ID,
					Target: t, PromptHash: cs.PromptHash, Pass: true, Score: 1})
			}
		}
	}
	cmp, err := c.CompareRuns(base.label(), analysis.RunArm)
	if err != nil {
		return usageErrf("--baseline %s does not match this run (checked before any call): %v; pass --force to compare the cases both have", base.path, err)
	}
	for _, warn := range cmp.Warnings {
		fmt.Fprintf(w, "yardstick: warning: baseline: %s\n", warn)
	}
	return nil
}
