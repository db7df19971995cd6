package reports

import (
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
)

// Reporter writes one report.
type Reporter func(io.Writer) error

// Meta describes the run being reported (analysis.Meta).
type Meta = analysis.Meta

// FlakyCase is a case whose outcome flipped across repeats of one target
// (analysis.FlakyCase).
type FlakyCase = analysis.FlakyCase

// Input is what every reporter renders: the one *analysis.Analysis of a run.
// Reporters read it and never modify it, recompute it or fall back to
// another source for anything it holds.
type Input = analysis.Analysis

// Verdict is the run's overall gate verdict (analysis.Verdict).
type Verdict = analysis.Verdict

// Verdicts.
const (
	VerdictPass = analysis.VerdictPass
	VerdictFail = analysis.VerdictFail
	VerdictNone = analysis.VerdictNone
)

// failedOutcomes counts crossed thresholds.
func failedOutcomes(in *Input) int {
	n := 0
	for _, o := range in.Outcomes {
		if !o.Pass {
			n++
		}
	}
	return n
}

// verdictLine is the one-line verdict shared by every format.
func verdictLine(in *Input) string {
	n := len(in.Outcomes)
	switch in.Verdict() {
	case VerdictPass:
		if n == 1 {
			return "the threshold passed"
		}
		return fmt.Sprintf("all %d thresholds passed", n)
	case VerdictFail:
		return fmt.Sprintf("%d of %d thresholds crossed", failedOutcomes(in), n)
	}
	return "no thresholds set"
}

// thresholdName is the expression, with the group it judged when the gate
// evaluated it per group.
func thresholdName(o gate.Outcome) string {
	if o.Group != "" {
		return o.Threshold + " " + o.Group
	}
	return o.Threshold
}

// flaky returns the analysis' flaky cases.
func flaky(in *Input) []FlakyCase { return in.Flaky }

// title is the report heading.
func title(in *Input) string {
	if in.Meta.Title != "" {
		return in.Meta.Title
	}
	return "Yardstick report"
}

// metaParts are the "key value" pieces of the run line, in a fixed order.
func metaParts(in *Input) []string {
	var p []string
	m := in.Meta
	if m.RunID != "" {
		p = append(p, "run "+m.RunID)
	}
	if !m.Started.IsZero() {
		s := "started " + m.Started.UTC().Format("2006-01-02 15:04:05Z")
		if !m.Finished.IsZero() && m.Finished.After(m.Started) {
			s += " (" + fmtWall(m.Finished.Sub(m.Started)) + ")"
		}
		p = append(p, s)
	}
	if m.GitSHA != "" {
		sha := m.GitSHA
		if len(sha) > 12 {
			sha = sha[:12]
		}
		if m.GitRef != "" {
			sha = m.GitRef + "@" + sha
		}
		p = append(p, "commit "+sha)
	}
	if m.Baseline != "" {
		p = append(p, "baseline "+m.Baseline)
	}
	if in.Reference != "" && !strings.HasPrefix(in.Reference, "baseline") {
		p = append(p, "reference "+in.Reference)
	}
	if m.Version != "" {
		p = append(p, "yardstick "+m.Version)
	}
	return p
}

// Formats lists the names New accepts.
var Formats = []string{"text", "markdown", "json", "pr", "junit", "html"}

// New returns the reporter for a format name (see Formats). results is read
// only by "junit" and "html", once, when the Reporter is called; it may be nil
// for the others.
func New(format string, in *Input, results iter.Seq2[*bench.Result, error]) (Reporter, error) {
	needResults := func(name string) error {
		if results == nil {
			return fmt.Errorf("reports: format %q needs the results stream", name)
		}
		return nil
	}
	switch strings.ToLower(format) {
	case "text", "txt", "table":
		return func(w io.Writer) error { return Text(w, in) }, nil
	case "markdown", "md":
		return func(w io.Writer) error { return Markdown(w, in) }, nil
	case "json":
		return func(w io.Writer) error { return JSON(w, in) }, nil
	case "pr", "github":
		return func(w io.Writer) error { return PR(w, in, PROptions{}) }, nil
	case "junit", "xml":
		if err := needResults("junit"); err != nil {
			return nil, err
		}
		return func(w io.Writer) error { return JUnit(w, in, results) }, nil
	case "html":
		if err := needResults("html"); err != nil {
			return nil, err
		}
		return func(w io.Writer) error { return HTML(w, in, results, HTMLOptions{}) }, nil
	}
	return nil, fmt.Errorf("reports: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// sortedSummaries returns the summaries ordered by suite then target as given
// (stable), without modifying the input.
func sortedSummaries(in []analysis.Summary) []analysis.Summary {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b analysis.Summary) int { return strings.Compare(a.Suite, b.Suite) })
	return out
}
