package reports

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis/compare"
)

// GitHubCommentLimit is the largest body GitHub accepts for an issue or
// pull-request comment, in characters. PR counts bytes, which is never less
// than characters, so a report within it is always accepted.
const GitHubCommentLimit = 65536

// PROptions tunes the pull-request report. The zero value is ready to use.
type PROptions struct {
	// MaxBytes bounds the whole report; 0 means GitHubCommentLimit. Lists are
	// shortened, longest first, until the report fits, each ending with
	// "…and N more".
	MaxBytes int
	// MaxCases is the most regressed and flaky cases listed; 0 means 25.
	MaxCases int
	// ExcerptLen is the length of output excerpts in characters; 0 means 160.
	ExcerptLen int
}

// nameLen caps identifiers in the PR report so one absurd name cannot use up
// the size budget.
const nameLen = 120

// PR writes the Markdown report meant for a pull-request comment or
// $GITHUB_STEP_SUMMARY: the verdict first (✅/❌ and one line), crossed
// thresholds, deltas against the baseline with their intervals, a compact
// results table, the most regressed cases with output excerpts, cost and
// latency deltas against the baseline, and flaky cases. The output never
// exceeds opts.MaxBytes.
func PR(w io.Writer, in *Input, opts PROptions) error {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = GitHubCommentLimit
	}
	if opts.MaxCases <= 0 {
		opts.MaxCases = 25
	}
	if opts.ExcerptLen <= 0 {
		opts.ExcerptLen = 160
	}
	const all = math.MaxInt
	render := func(caseCap, rowCap int) ([]byte, error) {
		var b bytes.Buffer
		err := writePR(&b, in, opts, caseCap, rowCap)
		return b.Bytes(), err
	}
	var renderErr error
	fits := func(caseCap, rowCap int) bool {
		b, err := render(caseCap, rowCap)
		if err != nil && renderErr == nil {
			renderErr = err
		}
		return len(b) <= opts.MaxBytes
	}

	// Shorten the case lists first; if even empty case lists do not fit,
	// shorten the tables too.
	caseCap, rowCap := 0, all
	longestCases := min(opts.MaxCases, max(len(in.Regressions), len(in.flaky())))
	if k, ok := gallop(longestCases, func(k int) bool { return fits(k, all) }); ok {
		caseCap = k
	} else {
		longestRows := max(len(in.Outcomes), len(in.Comparisons), len(in.Summaries), len(in.Baseline))
		rowCap, _ = gallop(longestRows, func(k int) bool { return fits(0, k) })
	}
	out, err := render(caseCap, rowCap)
	if err == nil {
		err = renderErr
	}
	if err != nil {
		return err
	}
	if len(out) > opts.MaxBytes {
		out = hardCut(out, opts.MaxBytes)
	}
	_, err = w.Write(out)
	return err
}

// gallop returns the largest k in [0, hi] with fit(k), assuming fit is
// monotone (true up to some k, false after), and false when even fit(0)
// fails. It probes 1, 2, 4, … before bisecting, so no probe renders much
// more than twice what fits, however long the lists are.
func gallop(hi int, fit func(int) bool) (int, bool) {
	if !fit(0) {
		return 0, false
	}
	lo, up := 0, hi+1 // fit(lo) holds; fit(up) fails or up is past hi
	for step := 1; step <= hi; step *= 2 {
		if !fit(step) {
			up = step
			break
		}
		lo = step
	}
	if up == hi+1 && lo < hi {
		if fit(hi) {
			return hi, true
		}
		up = hi
	}
	for up-lo > 1 {
		mid := lo + (up-lo)/2
		if fit(mid) {
			lo = mid
		} else {
			up = mid
		}
	}
	return lo, true
}

// hardCut is the last resort: cut b at a line boundary and say so.
func hardCut(b []byte, limit int) []byte {
	const note = "\n…report truncated to fit the comment size limit\n"
	if limit <= len(note) {
		return b[:0]
	}
	cut := b[:limit-len(note)]
	if i := bytes.LastIndexByte(cut, '\n'); i >= 0 {
		cut = cut[:i]
	}
	// Do not end inside a UTF-8 sequence.
	for len(cut) > 0 && cut[len(cut)-1]&0xC0 == 0x80 {
		cut = cut[:len(cut)-1]
	}
	if len(cut) > 0 && cut[len(cut)-1] >= 0xC0 {
		cut = cut[:len(cut)-1]
	}
	return append(slices.Clip(cut), note...)
}

// writePR renders the report with at most caseCap entries in case lists and
// rowCap rows in tables.
func writePR(w *bytes.Buffer, in *Input, opts PROptions, caseCap, rowCap int) error {
	v := in.Verdict()
	fmt.Fprintf(w, "## %s %s: %s\n\n", verdictEmoji(v), mdText(clip(in.title(), nameLen)), in.verdictLine())
	if p := in.metaParts(); len(p) > 0 {
		for i := range p {
			p[i] = clip(p[i], nameLen)
		}
		fmt.Fprintf(w, "<sub>%s</sub>\n", mdText(strings.Join(p, " · ")))
	}

	if len(in.Outcomes) > 0 {
		fmt.Fprintf(w, "\n### Thresholds\n\n")
		t := thresholdTable(in, styleMarkdown)
		t.header = t.header[:5] // the reason goes into Observed when there is one
		for i, row := range t.rows {
			if row[5] != "" {
				row[2] += " (" + row[5] + ")"
			}
			t.rows[i] = row[:5]
		}
		if err := renderCapped(w, t, rowCap); err != nil {
			return err
		}
	}

	if len(in.Comparisons) > 0 {
		title := "Comparisons"
		if in.Meta.Baseline != "" || len(in.Baseline) > 0 {
			title = "Against the baseline"
		}
		fmt.Fprintf(w, "\n### %s\n\n", title)
		t := &table{
			header: []string{"Suite", "Metric", "Reference → candidate", "Reference", "Candidate", "Δ [95% CI]", "p (Holm)", "n", ""},
			align:  alignCols("lllrrrrrl"),
		}
		rows := slices.Clone(in.Comparisons)
		// Significant regressions first, then improvements, then the rest.
		rank := func(r compare.Row) int {
			switch change(r) {
			case "worse":
				return 0
			case "better":
				return 1
			}
			return 2
		}
		slices.SortStableFunc(rows, func(a, b compare.Row) int { return rank(a) - rank(b) })
		for _, r := range rows {
			mark := change(r)
			switch mark {
			case "worse":
				mark = "🔻 worse"
			case "better":
				mark = "🔺 better"
			}
			arms := mdText(clip(r.A, nameLen)) + " → " + mdText(clip(r.B, nameLen))
			t.add(mdText(clip(r.Suite, nameLen)), metricName(r.Metric), arms,
				fmtMetricValue(r.Metric, r.ValueA, r.IntervalA), fmtMetricValue(r.Metric, r.ValueB, r.IntervalB),
				fmtDelta(r), fmtP(r.PAdjusted), strconv.Itoa(r.N), mark)
		}
		if err := renderCapped(w, t, rowCap); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n<sub>Paired by case; Δ is candidate − reference with its 95%% interval; ~ not significant after Holm correction.</sub>\n")
		writeWarnings(w, in.Warnings, true, rowCap)
	}

	if len(in.Summaries) > 0 {
		fmt.Fprintf(w, "\n### Results\n\n")
		t := &table{
			header: []string{"Suite", "Target", "n", "Pass rate [95% CI]", "Score [95% CI]", "Errors", "p50", "p95", "Cost"},
			align:  alignCols("llrrrrrrr"),
		}
		for _, s := range sortedSummaries(in.Summaries) {
			t.add(mdText(clip(s.Suite, nameLen)), mdText(clip(s.Target, nameLen)), strconv.Itoa(s.N),
				fmtRate(s.PassRate, s.N), fmtScore(s.Score, s.N), mdText(fmtErrors(s)),
				fmtDur(s.Latency.P50), fmtDur(s.Latency.P95), fmtCost(s))
		}
		if err := renderCapped(w, t, rowCap); err != nil {
			return err
		}
	}

	if len(in.Regressions) > 0 {
		fmt.Fprintf(w, "\n### Most regressed cases (%d)\n\n", len(in.Regressions))
		n := min(caseCap, opts.MaxCases, len(in.Regressions))
		if n > 0 {
			rows := make([]compare.CaseChange, n)
			for i, c := range in.Regressions[:n] {
				c.Suite, c.CaseID, c.Target = clip(c.Suite, nameLen), clip(c.CaseID, nameLen), clip(c.Target, nameLen)
				rows[i] = c
			}
			if err := regressionTable(rows, styleMarkdown, opts.ExcerptLen).render(w, styleMarkdown); err != nil {
				return err
			}
			moreLine(w, len(in.Regressions)-n, true)
		} else {
			fmt.Fprintf(w, "…and %d more\n", len(in.Regressions))
		}
	}

	if t := costTable(in, styleMarkdown); t != nil {
		fmt.Fprintf(w, "\n### Cost and latency\n\n")
		if err := renderCapped(w, t, rowCap); err != nil {
			return err
		}
	}

	if fl := in.flaky(); len(fl) > 0 {
		fmt.Fprintf(w, "\n### Flaky cases (%d)\n\n", len(fl))
		n := min(caseCap, opts.MaxCases, len(fl))
		if n > 0 {
			t := &table{header: []string{"Suite", "Case", "Target", "Repeats"}}
			for _, f := range fl[:n] {
				t.add(mdText(clip(f.Suite, nameLen)), mdCode(clip(f.CaseID, nameLen), true), mdText(clip(f.Target, nameLen)), fmtFlakyRuns(f))
			}
			if err := t.render(w, styleMarkdown); err != nil {
				return err
			}
			moreLine(w, len(fl)-n, true)
		} else {
			fmt.Fprintf(w, "…and %d more\n", len(fl))
		}
	}
	return nil
}

// renderCapped renders at most rowCap rows of t and a "…and N more" line.
func renderCapped(w *bytes.Buffer, t *table, rowCap int) error {
	more := len(t.rows) - rowCap
	if more > 0 {
		t.rows = t.rows[:rowCap]
	}
	if len(t.rows) == 0 {
		fmt.Fprintf(w, "…and %d more\n", more)
		return nil
	}
	if err := t.render(w, styleMarkdown); err != nil {
		return err
	}
	moreLine(w, more, true)
	return nil
}

// clip shortens s to at most n runes, ending in "…" when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
