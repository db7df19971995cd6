package gate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis/compare"
	"github.com/yardstick-eval/yardstick/internal/format"
)

// JudgeDelta judges a delta threshold on the comparison rows of its metric
// (rows of another metric are ignored). With Options.GroupBy it gives one
// Outcome per row, labelled by the row's suite and candidate target (the
// keys suite and target; any other group key reads as empty); without it,
// one Outcome for all rows, which fails when any row fails and otherwise
// reports the row with the lowest estimate. No row, or a non-empty refused,
// is a failed "no data" outcome. See "Delta thresholds" in the package doc
// for what each aggregation reads.
func JudgeDelta(th Threshold, rows []compare.Row, refused string, opts Options) []Outcome {
	if th.Agg == AggDefault {
		th.Agg = defaultAgg(th.Metric, th.Delta, th.Op)
	}
	base := Outcome{Threshold: th.String(), Source: th.Source}
	if err := th.Validate(); err != nil {
		base.Reason = err.Error()
		return []Outcome{base}
	}
	var mine []compare.Row
	for _, r := range rows {
		if r.Metric == string(th.Metric) {
			mine = append(mine, r)
		}
	}
	if refused != "" || len(mine) == 0 {
		base.Display = "no data"
		base.Reason = refused
		if base.Reason == "" {
			base.Reason = "no data: no paired case matched"
		}
		return []Outcome{base}
	}
	if len(opts.GroupBy) > 0 {
		out := make([]Outcome, 0, len(mine))
		for _, r := range mine {
			o := base
			o.Group = rowGroup(opts.GroupBy, r)
			judgeRow(&th, r, &o)
			out = append(out, o)
		}
		slices.SortStableFunc(out, func(a, b Outcome) int { return strings.Compare(a.Group, b.Group) })
		return out
	}
	var worst *Outcome
	for _, r := range mine {
		o := base
		judgeRow(&th, r, &o)
		if worst == nil || (!o.Pass && worst.Pass) || (o.Pass == worst.Pass && o.Observed < worst.Observed) {
			worst = &o
		}
	}
	return []Outcome{*worst}
}

// rowGroup renders a row's group label in the syntax groupLabel uses.
func rowGroup(keys []string, r compare.Row) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		v := ""
		switch k {
		case "suite":
			v = r.Suite
		case "target":
			v = r.TargetB
		}
		b.WriteString(k + ":")
		if v == "" || strings.ContainsAny(v, " ,}\"\t") {
			v = strconv.Quote(v)
		}
		b.WriteString(v)
	}
	b.WriteByte('}')
	return b.String()
}

// DisplayDelta formats a row's difference and interval as every report
// does: percentage points for pass_rate, three decimals for score, and, when
// the interval is Holm-adjusted, its level: "-3.8pp [-7.9, -0.2] (Holm 98.3%)".
func DisplayDelta(r compare.Row) string {
	s := format.Delta(r.Delta.Value, r.Delta.Low, r.Delta.High, r.Metric == compare.MetricPassRate)
	if r.Adjusted && s != format.Dash {
		s += " (Holm " + strconv.FormatFloat(100*r.Level, 'f', 1, 64) + "%)"
	}
	return s
}

// judgeRow fills o from one comparison row.
func judgeRow(th *Threshold, r compare.Row, o *Outcome) {
	o.N = r.N
	o.Display = DisplayDelta(r)
	iv := r.Delta
	level := fmt.Sprintf("%g%%", 100*r.Level)
	if r.Adjusted {
		level += fmt.Sprintf(" Holm-adjusted over %d %s comparisons", r.Family, r.Metric)
	}
	what := fmt.Sprintf("%s − %s over %d paired cases, %s interval (%s, p %s)",
		r.B, r.A, r.N, level, r.Method, fmtP(r.PAdjusted))
	var v float64
	switch th.Agg {
	case AggCount:
		v = float64(r.N)
		o.Display = strconv.Itoa(r.N) + " paired cases"
	case AggValue:
		v = iv.Value
	case AggCILow:
		v = iv.Low
	case AggCIHigh:
		v = iv.High
	case AggTest:
		v = iv.Value
	}
	if math.IsNaN(v) {
		o.Reason = "undefined value (" + what + ")"
		return
	}
	o.Observed = v
	crossed := !th.Op.compare(v, th.Value)
	switch th.Agg {
	case AggTest:
		// Fail only when the estimate crosses the margin AND the paired test
		// says the change in that direction is real.
		worse := iv.High < 0 // significant drop
		if th.Op == Less || th.Op == LessEqual {
			worse = iv.Low > 0 // significant rise
		}
		switch {
		case !crossed:
			o.Pass = true
			o.Reason = ""
		case worse:
			o.Pass = false
			o.Reason = fmt.Sprintf("the estimate crosses %s and the change is significant: %s", fmtMargin(th), what)
		default:
			o.Pass = true
			o.Display += " ~ not significant"
			o.Reason = fmt.Sprintf("~ not significant: the estimate crosses %s but the interval includes 0 (%s); passes as noise", fmtMargin(th), what)
		}
	case AggCILow, AggCIHigh:
		o.Pass = !crossed
		side := "lower"
		if th.Agg == AggCIHigh {
			side = "upper"
		}
		o.Reason = fmt.Sprintf("%s end of %s", side, what)
		if !o.Pass && th.Agg == AggCILow && (th.Op == Greater || th.Op == GreaterEqual) {
			o.Reason += "; " + casesNeeded(r, th.Value)
		}
	default:
		o.Pass = !crossed
		o.Reason = what
	}
	if o.Pass && th.Agg != AggTest {
		o.Reason = ""
	}
}

// casesNeeded estimates how many paired cases would let the lower end of the
// interval clear margin, assuming the estimate stays where it is and the
// half-width shrinks as 1/√n.
func casesNeeded(r compare.Row, margin float64) string {
	if r.Method == compare.MethodMcNemar && r.AOnly+r.BOnly == 0 && margin < 0 && margin > -1 {
		// No case changed: the bound is stats.NoChangeBound, about 3.7/n.
		need := math.Ceil(math.Log((1-r.Level)/2) / math.Log1p(margin))
		return fmt.Sprintf("no case changed; about %.0f unchanged paired cases would show non-inferiority (have %d)", need, r.N)
	}
	gap := r.Delta.Value - margin
	half := r.Delta.Value - r.Delta.Low
	if !(gap > 0) {
		return "the estimate itself is below the margin, so more cases would not help"
	}
	need := math.Ceil(float64(r.N) * (half / gap) * (half / gap))
	return fmt.Sprintf("with this estimate, about %.0f paired cases would be needed to show non-inferiority (have %d)", need, r.N)
}

func fmtMargin(th *Threshold) string {
	return string(th.Op) + " " + strconv.FormatFloat(th.Value, 'g', -1, 64)
}

func fmtP(p float64) string {
	switch {
	case math.IsNaN(p):
		return format.Dash
	case p < 0.001:
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}
