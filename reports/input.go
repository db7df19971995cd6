package reports

import (
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
)

// Reporter writes one report.
type Reporter func(io.Writer) error

// Meta describes the run being reported. Every field is optional.
type Meta struct {
	Title    string    `json:"title,omitempty"`  // heading; "Yardstick report" when empty
	RunID    string    `json:"run_id,omitempty"` // e.g. the results directory name
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	GitSHA   string    `json:"git_sha,omitempty"`
	GitRef   string    `json:"git_ref,omitempty"`  // branch or tag
	Baseline string    `json:"baseline,omitempty"` // what the run is compared with: a file name, a run id
	Version  string    `json:"version,omitempty"`  // yardstick version
}

// FlakyCase is a case whose outcome flipped across repeats of one target.
type FlakyCase struct {
	Suite  string `json:"suite"`
	Target string `json:"target"`
	CaseID string `json:"case_id"`
	Passed int    `json:"passed,omitempty"` // repeats that passed; 0 with Runs 0: unknown
	Runs   int    `json:"runs,omitempty"`   // repeats run
}

// Input is everything a report shows besides per-case results. Reporters read
// it and never modify it.
type Input struct {
	Meta Meta

	// Summaries has one entry per suite × target of this run, from analysis.Summarizer.
	Summaries []analysis.Summary
	// Baseline has the baseline run's summaries, when there is one; matched to
	// Summaries by suite and target for cost and latency deltas.
	Baseline []analysis.Summary
	// Outcomes are the gate's threshold verdicts.
	Outcomes []gate.Outcome
	// Comparisons are paired comparisons, from analysis/compare.
	Comparisons []compare.Row
	// Costs compares cost and latency of the arms of Comparisons on their
	// paired cases (compare.Comparison.Costs). When empty, the "cost and
	// latency" sections compare Summaries with Baseline instead.
	Costs []compare.CostLatency
	// Warnings are comparability caveats to show with the comparisons
	// (compare.Comparison.Warnings).
	Warnings []string
	// Flaky lists flaky cases with their repeat counts. When nil, reporters use
	// each Summary's FlakyCases.
	Flaky []FlakyCase
	// Regressions are the most regressed cases, most regressed first
	// (compare.Comparison.Regressions); reporters show them in the order
	// given and cut their outputs to an excerpt.
	Regressions []compare.CaseChange
}

// Verdict is the run's overall gate verdict.
type Verdict string

// Verdicts.
const (
	VerdictPass Verdict = "pass" // every threshold passed
	VerdictFail Verdict = "fail" // at least one threshold crossed
	VerdictNone Verdict = "none" // no thresholds were evaluated
)

// Verdict is VerdictFail when any outcome failed, VerdictPass when all
// passed and VerdictNone when there are none. It does not re-evaluate
// anything: the gate decided each outcome.
func (in *Input) Verdict() Verdict {
	if len(in.Outcomes) == 0 {
		return VerdictNone
	}
	for _, o := range in.Outcomes {
		if !o.Pass {
			return VerdictFail
		}
	}
	return VerdictPass
}

// failedOutcomes counts crossed thresholds.
func (in *Input) failedOutcomes() int {
	n := 0
	for _, o := range in.Outcomes {
		if !o.Pass {
			n++
		}
	}
	return n
}

// verdictLine is the one-line verdict shared by every format.
func (in *Input) verdictLine() string {
	n := len(in.Outcomes)
	switch in.Verdict() {
	case VerdictPass:
		if n == 1 {
			return "the threshold passed"
		}
		return fmt.Sprintf("all %d thresholds passed", n)
	case VerdictFail:
		return fmt.Sprintf("%d of %d thresholds crossed", in.failedOutcomes(), n)
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

// flaky returns in.Flaky, or the flaky cases listed in the summaries.
func (in *Input) flaky() []FlakyCase {
	if in.Flaky != nil {
		return in.Flaky
	}
	var out []FlakyCase
	for _, s := range in.Summaries {
		for _, id := range s.FlakyCases {
			out = append(out, FlakyCase{Suite: s.Suite, Target: s.Target, CaseID: id})
		}
	}
	return out
}

// title is the report heading.
func (in *Input) title() string {
	if in.Meta.Title != "" {
		return in.Meta.Title
	}
	return "Yardstick report"
}

// metaParts are the "key value" pieces of the run line, in a fixed order.
func (in *Input) metaParts() []string {
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
	if m.Version != "" {
		p = append(p, "yardstick "+m.Version)
	}
	return p
}

// baselineFor finds the baseline summary of suite × target.
func (in *Input) baselineFor(suite, target string) (analysis.Summary, bool) {
	for _, b := range in.Baseline {
		if b.Suite == suite && b.Target == target {
			return b, true
		}
	}
	return analysis.Summary{}, false
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
