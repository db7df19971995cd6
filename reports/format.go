package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/internal/format"
	"github.com/yardstick-eval/yardstick/providers"
)

// dash marks a value that is missing or undefined.
const dash = "—"

func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// fmtPct formats a ratio in [0, 1] as a percentage with one decimal: "91.2%".
func fmtPct(x float64) string {
	if bad(x) {
		return dash
	}
	return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
}

// fmtRate formats a ratio with its interval: "91.2% [88.1, 93.6]".
func fmtRate(iv stats.Interval, n int) string {
	if n == 0 || bad(iv.Value) {
		return dash
	}
	s := fmtPct(iv.Value)
	if !bad(iv.Low) && !bad(iv.High) {
		s += " [" + strconv.FormatFloat(iv.Low*100, 'f', 1, 64) + ", " + strconv.FormatFloat(iv.High*100, 'f', 1, 64) + "]"
	}
	return s
}

// fmtScore formats a mean score with its interval: "0.912 [0.881, 0.936]".
func fmtScore(iv stats.Interval, n int) string {
	if n == 0 || bad(iv.Value) {
		return dash
	}
	s := fmtNum3(iv.Value)
	if !bad(iv.Low) && !bad(iv.High) {
		s += " [" + fmtNum3(iv.Low) + ", " + fmtNum3(iv.High) + "]"
	}
	return s
}

func fmtNum3(x float64) string {
	if bad(x) {
		return dash
	}
	return strconv.FormatFloat(x, 'f', 3, 64)
}

// fmtDur formats a latency (format.Duration).
func fmtDur(d time.Duration) string { return format.Duration(d) }

// fmtWall formats a wall-clock span (format.Wall).
func fmtWall(d time.Duration) string { return format.Wall(d) }

// fmtRel formats a relative change: "+14.8%".
func fmtRel(x float64) string {
	if bad(x) {
		return dash
	}
	return signed(x*100, 1) + "%"
}

// signed formats x with an explicit sign and prec decimals (format.Signed).
func signed(x float64, prec int) string { return format.Signed(x, prec) }

// fmtCount formats token counts: 950, 12.3k, 4.56M.
func fmtCount(n int) string {
	switch {
	case n < 1000:
		return strconv.Itoa(n)
	case n < 10_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 2, 64) + "k"
	case n < 1_000_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	case n < 10_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 2, 64) + "M"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
}

// fmtTokens formats usage as "in/out": "12.3k/4.56k".
func fmtTokens(u providers.Usage) string {
	if u.InputTokens == 0 && u.OutputTokens == 0 {
		return dash
	}
	return fmtCount(u.InputTokens) + "/" + fmtCount(u.OutputTokens)
}

// fmtUSD formats dollars (format.USD, the one money formatter).
func fmtUSD(x float64) string { return format.USD(x) }

// fmtCost formats a summary's cost: "—" when no result had a price, a lower
// bound "≥$…" when only some did.
func fmtCost(s analysis.Summary) string {
	if s.CostKnown {
		return fmtUSD(s.CostUSD)
	}
	if s.CostUSD > 0 {
		return "≥" + fmtUSD(s.CostUSD)
	}
	return dash
}

// fmtTPS formats output tokens per second.
func fmtTPS(x float64) string {
	if bad(x) || x <= 0 {
		return dash
	}
	if x < 10 {
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// fmtErrors formats the error count with its kinds, largest first:
// "3 (rate_limit 2, timeout 1)".
func fmtErrors(s analysis.Summary) string {
	if s.Errors == 0 {
		return "0"
	}
	type kv struct {
		k providers.Kind
		n int
	}
	var kinds []kv
	for k, n := range s.ErrorsByKind {
		if n > 0 {
			kinds = append(kinds, kv{k, n})
		}
	}
	if len(kinds) == 0 {
		return strconv.Itoa(s.Errors)
	}
	slices.SortFunc(kinds, func(a, b kv) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(string(a.k), string(b.k)))
	})
	parts := make([]string, len(kinds))
	for i, e := range kinds {
		parts[i] = string(e.k) + " " + strconv.Itoa(e.n)
	}
	return strconv.Itoa(s.Errors) + " (" + strings.Join(parts, ", ") + ")"
}

// fmtTTFT is the TTFT p50 column: "—" for targets that were not streamed.
func fmtTTFT(s analysis.Summary) string {
	if s.TTFT.N == 0 {
		return dash
	}
	return fmtDur(s.TTFT.P50)
}

// metricName is the human name of a comparison metric.
func metricName(m string) string {
	switch m {
	case "pass_rate":
		return "pass rate"
	case "score":
		return "score"
	}
	return m
}

// fmtMetricValue formats one arm's centre value v of a comparison with the
// arm's interval iv (compare.Row.IntervalA or IntervalB). The interval is left
// out when it is missing: the zero Interval (a row built without one), NaN
// ends, or ends that do not bracket v.
func fmtMetricValue(metric string, v float64, iv stats.Interval) string {
	have := iv != (stats.Interval{}) && !bad(iv.Low) && !bad(iv.High) && iv.Low <= v && v <= iv.High
	iv.Value = v
	if metric == "pass_rate" {
		if have {
			return fmtRate(iv, 1)
		}
		return fmtPct(v)
	}
	if have {
		return fmtScore(iv, 1)
	}
	return fmtNum3(v)
}

// fmtDelta formats a comparison's B − A with its interval exactly as the
// gate line shows it (gate.DisplayDelta): "-3.8pp [-6.1, -1.5]".
func fmtDelta(r compare.Row) string { return gate.DisplayDelta(r) }

// fmtP formats a p-value: "0.002", "<0.001".
func fmtP(p float64) string {
	switch {
	case bad(p):
		return dash
	case p < 0.001:
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// change is benchstat's last column: "~" when not significant, else the
// direction. Both metrics are higher-is-better.
func change(r compare.Row) string {
	if !r.Significant {
		return "~"
	}
	switch {
	case r.Delta.Value > 0:
		return "better"
	case r.Delta.Value < 0:
		return "worse"
	}
	return "~"
}

// fmtFlakyRuns is "passed 2 of 3" when counts are known.
func fmtFlakyRuns(f FlakyCase) string {
	if f.Runs == 0 {
		return "flipped across repeats"
	}
	return fmt.Sprintf("passed %d of %d", f.Passed, f.Runs)
}

// fmtSide is one arm's outcome on a case: "pass (1.00)" with one run,
// "2/3 pass (0.67)" with repeats.
func fmtSide(passed, runs int, score float64) string {
	sc := " (" + strconv.FormatFloat(score, 'f', 2, 64) + ")"
	if runs <= 1 {
		if passed > 0 {
			return "pass" + sc
		}
		return "fail" + sc
	}
	return strconv.Itoa(passed) + "/" + strconv.Itoa(runs) + " pass" + sc
}

// fmtChange is a case's "reference → candidate" outcome.
func fmtChange(c compare.CaseChange) string {
	return fmtSide(c.APassed, c.ARuns, c.AScore) + " → " + fmtSide(c.BPassed, c.BRuns, c.BScore)
}

// excerpt returns at most max runes of s on one line, with newlines shown as
// "⏎" and runs of spaces collapsed, ending in "…" when cut.
func excerpt(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range strings.TrimSpace(s) {
		if n >= max {
			b.WriteString("…")
			return b.String()
		}
		switch r {
		case '\n':
			b.WriteString("⏎ ")
			n += 2
			space = true
			continue
		case '\r':
			continue
		case ' ', '\t':
			if space {
				continue
			}
			space = true
			b.WriteByte(' ')
			n++
			continue
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}
