package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	tables "github.com/yardstick-eval/yardstick/internal/table"
)

// List caps for the text and full Markdown reports; longer lists end with
// "…and N more".
const (
	textListCap     = 20
	markdownListCap = 50
)

// Text writes the terminal report: the verdict and thresholds first, then one
// row per suite × target in two tables (quality; latency, tokens and cost),
// repeats, comparisons, regressed and flaky cases. Untrusted text has its
// control characters replaced, so it cannot drive the terminal.
func Text(w io.Writer, in *Input) error {
	bw := bufio.NewWriter(w)
	if err := writeTables(bw, in, styleBox); err != nil {
		return err
	}
	return bw.Flush()
}

// Markdown writes the full Markdown report: the same sections as Text as
// GitHub-flavoured Markdown tables, every untrusted cell escaped.
func Markdown(w io.Writer, in *Input) error {
	bw := bufio.NewWriter(w)
	if err := writeTables(bw, in, styleMarkdown); err != nil {
		return err
	}
	return bw.Flush()
}

// writeTables writes the report shared by Text and Markdown.
func writeTables(w *bufio.Writer, in *Input, st style) error {
	md := st == styleMarkdown
	listCap := textListCap
	if md {
		listCap = markdownListCap
	}
	heading := func(s string) {
		if md {
			fmt.Fprintf(w, "\n## %s\n\n", s)
		} else {
			fmt.Fprintf(w, "\n%s\n", s)
		}
	}

	// Title and run line.
	if md {
		fmt.Fprintf(w, "# %s\n\n", mdText(title(in)))
		if p := metaParts(in); len(p) > 0 {
			fmt.Fprintf(w, "%s\n\n", mdText(strings.Join(p, " · ")))
		}
	} else {
		fmt.Fprintf(w, "%s\n", oneLine(title(in)))
		if p := metaParts(in); len(p) > 0 {
			fmt.Fprintf(w, "%s\n", oneLine(strings.Join(p, " · ")))
		}
		fmt.Fprintln(w)
	}

	// Verdict first.
	v := in.Verdict()
	word := map[Verdict]string{VerdictPass: "PASS", VerdictFail: "FAIL", VerdictNone: "NONE"}[v]
	if md {
		fmt.Fprintf(w, "**Verdict: %s %s** — %s\n", verdictEmoji(v), word, verdictLine(in))
	} else {
		fmt.Fprintln(w, VerdictLine(in))
	}

	// Targets that did not really run come before any verdict on quality.
	if len(in.TargetFailures) > 0 {
		heading("Targets that did not run")
		for _, tf := range in.TargetFailures {
			if md {
				fmt.Fprintf(w, "- **%s**: %s\n", mdText(tf.Target), mdText(tf.Cause))
			} else {
				fmt.Fprintf(w, "  %s: %s\n", oneLine(tf.Target), oneLine(tf.Cause))
			}
		}
	}

	// Thresholds, failed first, in the gate's order otherwise.
	if len(in.Outcomes) > 0 {
		heading("Thresholds")
		t := thresholdTable(in, st)
		tst := st
		if !md {
			tst = stylePlain
		}
		if err := t.render(w, tst); err != nil {
			return err
		}
	}

	// Results.
	if len(in.Summaries) > 0 {
		sums := sortedSummaries(in.Summaries)
		if md {
			heading("Results")
			t := &table{
				header: []string{"Suite", "Target", "n", "Pass rate [95% CI]", "Score [95% CI]", "Errors", "p50", "p95", "p99", "TTFT p50", "tok/s", "Tokens in/out", "Cost"},
				align:  alignCols("llrrrlrrrrrrr"),
			}
			for _, s := range sums {
				t.add(append(qualityCells(s, st), perfCells(s)...)...)
			}
			if err := t.render(w, st); err != nil {
				return err
			}
		} else {
			heading("Results")
			q := &table{header: []string{"suite", "target", "n", "pass rate [95% CI]", "score [95% CI]", "errors"}, align: alignCols("llrrrl")}
			p := &table{header: []string{"suite", "target", "p50", "p95", "p99", "TTFT p50", "tok/s", "tokens in/out", "cost"}, align: alignCols("llrrrrrrr")}
			for _, s := range sums {
				q.add(qualityCells(s, st)...)
				p.add(append([]string{cellFor(st, s.Suite), cellFor(st, s.Target)}, perfCells(s)...)...)
			}
			if err := q.render(w, st); err != nil {
				return err
			}
			heading("Latency, tokens and cost")
			if err := p.render(w, st); err != nil {
				return err
			}
		}
		if note := cachedNote(sums); note != "" {
			if md {
				fmt.Fprintf(w, "\n<sub>%s</sub>\n", mdText(note))
			} else {
				fmt.Fprintf(w, "%s\n", note)
			}
		}
		if t := repeatsTable(sums, st); t != nil {
			heading("Repeats")
			if err := t.render(w, st); err != nil {
				return err
			}
		}
	}

	// Ranking, when the run has several targets.
	if t := rankingTable(in, st); t != nil {
		heading("Ranking")
		if err := t.render(w, st); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s\n", rankingFootnote(md))
	}

	// Comparisons, one benchstat-style table per pair of arms.
	if len(in.Comparisons) > 0 {
		heading("Comparisons")
		if in.Reference != "" {
			ref := "reference: " + in.Reference
			if md {
				fmt.Fprintf(w, "%s\n\n", mdText(ref))
			} else {
				fmt.Fprintf(w, "%s\n", oneLine(ref))
			}
		}
		for i, pair := range comparisonPairs(in.Comparisons) {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if md {
				fmt.Fprintf(w, "**%s** → **%s**\n\n", mdText(pair.a), mdText(pair.b))
			} else {
				fmt.Fprintf(w, "%s → %s\n", oneLine(pair.a), oneLine(pair.b))
			}
			if err := comparisonTable(in, pair, st).render(w, st); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "\n%s\n", comparisonFootnote(in.Comparisons, md))
		writeWarnings(w, in.Warnings, md, listCap)
	}

	// Cost and latency against the reference.
	if t := costTable(in, st); t != nil {
		heading("Cost and latency")
		if err := t.render(w, st); err != nil {
			return err
		}
	}

	// Most regressed cases.
	if len(in.Regressions) > 0 {
		heading("Most regressed cases")
		t := regressionTable(in.Regressions[:min(listCap, len(in.Regressions))], st, 80)
		if err := t.render(w, st); err != nil {
			return err
		}
		moreLine(w, len(in.Regressions)-listCap, md)
	}

	// Failed cases, with or without a baseline.
	if len(in.FailedCases) > 0 {
		heading(fmt.Sprintf("Failed cases (%d listed, the first ones of each suite × target)", len(in.FailedCases)))
		t := &table{header: []string{"suite", "target", "case", "reason", "output"}, align: alignCols("lllll")}
		if md {
			t.header = []string{"Suite", "Target", "Case", "Reason", "Output (excerpt)"}
		}
		for _, f := range in.FailedCases[:min(listCap, len(in.FailedCases))] {
			id := f.CaseID
			if f.Repeat > 0 {
				id += " #" + strconv.Itoa(f.Repeat)
			}
			t.add(cellFor(st, f.Suite), cellFor(st, f.Target), cellFor(st, id), cellFor(st, excerpt(f.Reason, 80)), cellFor(st, excerpt(f.Output, 60)))
		}
		if err := t.render(w, st); err != nil {
			return err
		}
		moreLine(w, len(in.FailedCases)-listCap, md)
	}

	// Flaky cases.
	if fl := flaky(in); len(fl) > 0 {
		heading(fmt.Sprintf("Flaky cases (%d)", len(fl)))
		for _, f := range fl[:min(listCap, len(fl))] {
			if md {
				fmt.Fprintf(w, "- %s %s on %s: %s\n", mdText(f.Suite), mdCode(f.CaseID, false), mdText(f.Target), fmtFlakyRuns(f))
			} else {
				fmt.Fprintf(w, "  %s/%s on %s: %s\n", oneLine(f.Suite), oneLine(f.CaseID), oneLine(f.Target), fmtFlakyRuns(f))
			}
		}
		moreLine(w, len(fl)-listCap, md)
	}
	return nil
}

func verdictEmoji(v Verdict) string {
	switch v {
	case VerdictPass:
		return "✅"
	case VerdictFail:
		return "❌"
	}
	return "ℹ️"
}

// moreLine writes "…and N more" when n > 0.
func moreLine(w io.Writer, n int, md bool) {
	if n <= 0 {
		return
	}
	if md {
		fmt.Fprintf(w, "\n…and %d more\n", n)
	} else {
		fmt.Fprintf(w, "  …and %d more\n", n)
	}
}

// VerdictLine is the one-line verdict of the terminal report, e.g.
// "Verdict: FAIL — 2 of 3 thresholds crossed".
func VerdictLine(in *Input) string {
	word := map[Verdict]string{VerdictPass: "PASS", VerdictFail: "FAIL", VerdictNone: "NONE"}[in.Verdict()]
	return fmt.Sprintf("Verdict: %s — %s", word, verdictLine(in))
}

// alignCols turns "llr" into per-column alignments.
func alignCols(s string) []tables.Align { return tables.Aligns(s) }

// qualityCells: suite, target, n, pass rate, score, errors.
func qualityCells(s analysis.Summary, st style) []string {
	return []string{
		cellFor(st, s.Suite), cellFor(st, s.Target), strconv.Itoa(s.N),
		fmtRate(s.PassRate, s.N), fmtScore(s.Score, s.N), cellFor(st, fmtErrors(s)),
	}
}

// perfCells: p50, p95, p99, TTFT p50, tok/s, tokens, cost.
func perfCells(s analysis.Summary) []string {
	return []string{
		fmtDur(s.Latency.P50), fmtDur(s.Latency.P95), fmtDur(s.Latency.P99), fmtTTFT(s),
		fmtTPS(s.TokensPerSec), fmtTokens(s.Usage), fmtCost(s),
	}
}

// thresholdTable: the verdict mark first, failed thresholds before passed.
func thresholdTable(in *Input, st style) *table {
	md := st == styleMarkdown
	t := &table{align: alignCols("lllrll")}
	if md {
		t.header = []string{"", "Threshold", "Observed", "n", "Source", "Note"}
	}
	order := make([]int, len(in.Outcomes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return !in.Outcomes[order[a]].Pass && in.Outcomes[order[b]].Pass })
	for _, i := range order {
		o := in.Outcomes[i]
		mark := "✓"
		if !o.Pass {
			mark = "✗"
		}
		if md {
			mark = map[bool]string{true: "✅", false: "❌"}[o.Pass]
		}
		obs := o.Display
		if obs == "" {
			obs = strconv.FormatFloat(o.Observed, 'g', 4, 64)
		}
		n := "n=" + strconv.Itoa(o.N)
		if md {
			n = strconv.Itoa(o.N)
		}
		row := []string{mark, codeFor(st, thresholdName(o)), cellFor(st, obs), n, cellFor(st, o.Source), cellFor(st, o.Reason)}
		if !md {
			row[0] = "  " + mark
		}
		t.add(row...)
	}
	return t
}

// repeatsTable shows pass@k (some of k runs pass), pass^k (all k runs
// pass, k ≥ 2) and all-k pass rates when any target repeated.
func repeatsTable(sums []analysis.Summary, st style) *table {
	var ks []int
	any := false
	for _, s := range sums {
		if s.Repeats > 1 {
			any = true
		}
		for k := range s.PassAtK {
			if !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	if !any {
		return nil
	}
	slices.Sort(ks)
	t := &table{header: []string{"suite", "target", "repeats"}}
	hatKs := slices.DeleteFunc(slices.Clone(ks), func(k int) bool { return k < 2 }) // pass^1 is pass@1
	for _, k := range ks {
		t.header = append(t.header, "pass@"+strconv.Itoa(k))
	}
	for _, k := range hatKs {
		t.header = append(t.header, "pass^"+strconv.Itoa(k))
	}
	t.header = append(t.header, "all-k pass", "flaky cases")
	t.align = alignCols("ll" + strings.Repeat("r", len(ks)+len(hatKs)+3))
	cell := func(m map[int]float64, k int) string {
		if v, ok := m[k]; ok {
			return fmtPct(v)
		}
		return dash
	}
	for _, s := range sums {
		row := []string{cellFor(st, s.Suite), cellFor(st, s.Target), strconv.Itoa(s.Repeats)}
		for _, k := range ks {
			row = append(row, cell(s.PassAtK, k))
		}
		for _, k := range hatKs {
			row = append(row, cell(s.PassHatK, k))
		}
		allK := dash
		if s.Repeats > 1 {
			allK = fmtPct(s.PassAllK)
		}
		row = append(row, allK, strconv.Itoa(len(s.FlakyCases)))
		t.add(row...)
	}
	if st == styleMarkdown {
		for i, h := range t.header {
			t.header[i] = strings.ToUpper(h[:1]) + h[1:]
		}
	}
	return t
}

type armPair struct{ a, b string }

// comparisonPairs lists the distinct (A, B) pairs in order of appearance.
func comparisonPairs(rows []compare.Row) []armPair {
	var out []armPair
	for _, r := range rows {
		p := armPair{r.A, r.B}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// comparisonTable is benchstat's layout for one pair of arms: each arm's
// centre with its interval, the paired delta with its interval, p-values and
// "~" where the difference is not significant.
func comparisonTable(in *Input, pair armPair, st style) *table {
	md := st == styleMarkdown
	t := &table{
		header: []string{"suite", "metric", cellFor(st, pair.a), cellFor(st, pair.b), "Δ [95% CI]", "p", "p (Holm)", "n", ""},
		align:  alignCols("llrrrrrrl"),
	}
	if md {
		t.header[0], t.header[1] = "Suite", "Metric"
	}
	for _, r := range in.Comparisons {
		if r.A != pair.a || r.B != pair.b {
			continue
		}
		t.add(cellFor(st, r.Suite), cellFor(st, metricName(r.Metric)),
			fmtMetricValue(r.Metric, r.ValueA, r.IntervalA), fmtMetricValue(r.Metric, r.ValueB, r.IntervalB),
			fmtDelta(r), fmtP(r.P), fmtP(r.PAdjusted), strconv.Itoa(r.N), change(r))
	}
	return t
}

// comparisonFootnote explains "~" and names the tests used.
func comparisonFootnote(rows []compare.Row, md bool) string {
	var methods []string
	for _, r := range rows {
		if r.Method != "" && !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	s := "Paired by case (n counts cases; repeats are averaged per case). Δ is candidate − reference (reference → candidate), pass rate in percentage points; ~: not significant at 95%; the Δ interval agrees with the p-value beside it."
	adjusted := 0
	level := 0.0
	for _, r := range rows {
		if r.Adjusted {
			adjusted = max(adjusted, r.Family)
			level = max(level, r.Level)
		}
	}
	if adjusted > 0 {
		s += fmt.Sprintf(" Holm-adjusted per metric over up to %d comparisons: each Δ interval is shown at its adjusted level (up to %.1f%%), p (Holm) beside it.", adjusted, 100*level)
	} else {
		s += " One comparison per metric: no multiplicity adjustment."
	}
	if len(methods) > 0 {
		m := strings.Join(methods, ", ")
		if md {
			m = mdText(m)
		} else {
			m = oneLine(m)
		}
		s += " Tests: " + m + "."
	}
	if md {
		return "<sub>" + s + "</sub>"
	}
	return s
}

// regressionTable lists case changes with an output excerpt of at most
// excerptLen characters.
func regressionTable(rows []compare.CaseChange, st style, excerptLen int) *table {
	t := &table{header: []string{"suite", "case", "target", "before → now", "reason", "output"}, align: alignCols("llllll")}
	if st == styleMarkdown {
		t.header = []string{"Suite", "Case", "Target", "Before → now", "Reason", "Output (excerpt)"}
	}
	for _, c := range rows {
		out := excerpt(c.Output, excerptLen)
		if st == styleMarkdown {
			out = mdCode(out, true)
		} else {
			out = oneLine(out)
		}
		t.add(cellFor(st, c.Suite), codeFor(st, c.CaseID), cellFor(st, c.Target), fmtChange(c),
			cellFor(st, excerpt(c.Reason, excerptLen)), out)
	}
	return t
}

// writeWarnings lists comparability warnings, at most max of them.
func writeWarnings(w io.Writer, warnings []string, md bool, max int) {
	if len(warnings) == 0 {
		return
	}
	if md {
		fmt.Fprintf(w, "\n**Warnings**\n\n")
	} else {
		fmt.Fprintf(w, "\nWarnings\n")
	}
	for _, s := range warnings[:min(max, len(warnings))] {
		if md {
			fmt.Fprintf(w, "- ⚠️ %s\n", mdText(clip(s, 500)))
		} else {
			fmt.Fprintf(w, "  ! %s\n", oneLine(s))
		}
	}
	if n := len(warnings) - max; n > 0 {
		if md {
			fmt.Fprintf(w, "- …and %d more\n", n)
		} else {
			fmt.Fprintf(w, "  …and %d more\n", n)
		}
	}
}

// costTable compares cost and latency against the reference: from
// in.Costs (paired cases, median latency) when given, else from Summaries
// matched with Baseline by suite and target (p50 and p95). nil when there
// is nothing to compare.
func costTable(in *Input, st style) *table {
	rel := func(a, b float64) string {
		if a <= 0 || bad(a) || bad(b) {
			return ""
		}
		return " (" + fmtRel((b-a)/a) + ")"
	}
	cost := func(x float64, known bool) string {
		switch {
		case known:
			return fmtUSD(x)
		case x > 0:
			return "≥" + fmtUSD(x)
		}
		return dash
	}
	lat := func(a, b time.Duration) string {
		s := fmtDur(a) + " → " + fmtDur(b)
		if a > 0 && b > 0 {
			s += rel(float64(a), float64(b))
		}
		return s
	}
	md := st == styleMarkdown
	if len(in.Costs) > 0 {
		t := &table{header: []string{"suite", "reference → candidate", "n", "cost", "median latency"}, align: alignCols("llrrr")}
		if md {
			t.header = []string{"Suite", "Reference → candidate", "n", "Cost", "Median latency"}
		}
		for _, c := range in.Costs {
			cs := cost(c.CostA, c.CostKnownA) + " → " + cost(c.CostB, c.CostKnownB)
			if c.CostKnownA && c.CostKnownB {
				cs += rel(c.CostA, c.CostB)
			}
			la, lb := c.LatencyA, c.LatencyB
			if c.LatencyNA == 0 {
				la = 0
			}
			if c.LatencyNB == 0 {
				lb = 0
			}
			t.add(cellFor(st, clip(c.Suite, nameLen)), cellFor(st, clip(c.A, nameLen)+" → "+clip(c.B, nameLen)),
				strconv.Itoa(c.N), cs, lat(la, lb))
		}
		return t
	}
	// No fallback: cost and latency deltas come from the comparison only.
	return nil
}

// rankingTable lists each suite's targets by pass rate, with the targets
// their paired test cannot tell apart; nil with fewer than two targets.
func rankingTable(in *Input, st style) *table {
	if len(in.Ranking) == 0 {
		return nil
	}
	t := &table{header: []string{"suite", "rank", "target", "pass rate [95% CI]", "cases", "tied with", "retries"}, align: alignCols("lrlrrll")}
	if st == styleMarkdown {
		t.header = []string{"Suite", "Rank", "Target", "Pass rate [95% CI]", "Cases", "Tied with", "Retries"}
	}
	retries := map[[2]string]int{}
	for _, s := range in.Summaries {
		retries[[2]string{s.Suite, s.Target}] = s.Retries
	}
	for _, r := range in.Ranking {
		tied := dash
		if len(r.TiedWith) > 0 {
			tied = strings.Join(r.TiedWith, ", ")
		}
		t.add(cellFor(st, r.Suite), strconv.Itoa(r.Rank), cellFor(st, r.Target), fmtRate(r.PassRate, r.N), strconv.Itoa(r.N),
			cellFor(st, tied), strconv.Itoa(retries[[2]string{r.Suite, r.Target}]))
	}
	return t
}

func rankingFootnote(md bool) string {
	s := "Ranked by pass rate over every pair of targets; \"tied with\" lists the targets whose paired difference is not significant at 95% (Holm). Targets tied with the one above share its rank."
	if md {
		return "<sub>" + mdText(s) + "</sub>"
	}
	return s
}

// cachedNote says how many cached results were left out of the timings, and
// how many retries each target needed.
func cachedNote(sums []analysis.Summary) string {
	var parts []string
	for _, s := range sums {
		if s.CachedTimingExcluded > 0 {
			parts = append(parts, fmt.Sprintf("%s/%s: %d cached results left out of latency, TTFT and tok/s (--include-cached-latency counts their original timing)", s.Suite, s.Target, s.CachedTimingExcluded))
		}
		if s.Retries > 0 {
			parts = append(parts, fmt.Sprintf("%s/%s: %d retries", s.Suite, s.Target, s.Retries))
		}
	}
	return oneLine(strings.Join(parts, "; "))
}
