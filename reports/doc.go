// Package reports renders a benchmark run for people and machines: a terminal
// table, Markdown, a JSON summary, JUnit XML for CI systems, a Markdown report
// sized for pull-request comments and $GITHUB_STEP_SUMMARY, and a single
// self-contained HTML file.
//
// Every reporter takes a writer first and the plain data to show:
//
//	reports.Text(w, in)                 // terminal tables
//	reports.Markdown(w, in)             // full Markdown report
//	reports.JSON(w, in)                 // stable snake_case JSON summary
//	reports.PR(w, in, reports.PROptions{})
//	reports.JUnit(w, in, results)       // results streamed, one <testcase> each
//	reports.HTML(w, in, results, reports.HTMLOptions{})
//
// New picks one by name (Formats) for a --format flag.
//
// [Input] holds what the statistics packages produced (analysis.Summary,
// gate.Outcome, compare.Row, CostLatency and CaseChange) plus run metadata.
// Reporters that need every result (JUnit and HTML) take an
// iter.Seq2[*bench.Result, error] and read it once, in order, without holding
// the results in memory: they spool to temporary files and keep only
// per-case indexes.
//
// Presentation only: this package computes no statistic, evaluates no
// threshold and opens no file but its own temporary spools. Intervals,
// p-values, verdicts of thresholds and flakiness come from bench, analysis/gate
// and analysis/compare; reports formats them, and at most counts, sorts, sums for
// display, or bins latencies into a histogram for a chart. The overall verdict
// is the conjunction of the gate's outcomes ([Input.Verdict]).
//
// Untrusted text: model output, prompts, reasons, case IDs and target names
// can contain anything. Every format escapes them for its own syntax: pipes and
// newlines in Markdown cells (and inline code spans for identifiers), XML
// escaping with characters XML cannot carry replaced by U+FFFD, and in HTML
// only textContent and text nodes, never markup, with a strict
// Content-Security-Policy that allows nothing but the report's own inline
// script and style by hash.
//
// Reporters are safe for concurrent use on distinct writers; they keep no
// package state besides constant assets.
package reports
