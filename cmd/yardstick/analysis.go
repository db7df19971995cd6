package main

import (
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/gate"
	"github.com/yardstick-eval/yardstick/reports"
)

// analysis turns a results file into everything a report shows, reading the
// file once: summaries, threshold outcomes and, with a baseline, paired
// comparisons.
type analysis struct {
	resultsPath string
	thresholds  []gate.Threshold
	baseline    *baselineInput // may be nil
	title       string
	runID       string
	started     time.Time
}

func (an analysis) analyze() (*reports.Input, error) {
	f, err := os.Open(an.resultsPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum := bench.NewSummarizer(bench.DefaultSummaryOptions())
	gopts := gate.DefaultOptions()
	gopts.GroupBy = []string{"suite", "target"}
	ev := gate.NewEvaluator(an.thresholds, gopts)
	cmp := an.baseline.comparer()
	for r, err := range bench.ReadResults(f, an.resultsPath) {
		if err != nil {
			// A torn last line (a killed writer) loses one result, not the report.
			if isTruncated(err) {
				continue
			}
			return nil, usageErr(err)
		}
		sum.Add(r)
		ev.Add(r)
		cmp.add(r)
	}
	if an.baseline != nil {
		for r, err := range an.baseline.results() {
			if err != nil {
				return nil, usageErr(err)
			}
			ev.AddBaseline(r)
		}
	}
	in := &reports.Input{
		Meta: reports.Meta{
			Title:   an.title,
			RunID:   an.runID,
			Started: an.started,
			Version: bench.Version(),
			GitSHA:  os.Getenv("GITHUB_SHA"),
			GitRef:  os.Getenv("GITHUB_REF_NAME"),
		},
		Summaries: sum.Close(),
		Outcomes:  ev.Outcomes(),
	}
	if err := cmp.finish(in); err != nil {
		return nil, err
	}
	return in, nil
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

// runReportFiles are the reports a run writes into its directory.
var runReportFiles = []struct{ name, format string }{
	{"summary.json", "json"},
	{"report.md", "markdown"},
	{"junit.xml", "junit"},
	{"report.html", "html"},
}

// writeRunReports writes every report of a run into dir, atomically each.
func writeRunReports(dir string, in *reports.Input, resultsPath string) error {
	for _, rf := range runReportFiles {
		rep, err := reports.New(rf.format, in, resultsOf(resultsPath))
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, rf.name), rep); err != nil {
			return fmt.Errorf("%s: %w", rf.name, err)
		}
	}
	return nil
}

func writeFileAtomic(path string, rep reports.Reporter) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
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
