package compare

import "github.com/yardstick-eval/yardstick/analysis/stats"

// Row is one paired comparison of metric between two arms (targets or runs) on
// the cases both have. ValueA and ValueB are the arms' means over the paired
// cases of each case's mean over its repeats; IntervalA and IntervalB are
// those means with each arm's own interval at Comparison.Level (see the
// package doc, "Statistics"), so a report can show an arm's uncertainty
// without a matching bench.Summary.
type Row struct {
	Suite       string         `json:"suite"`
	Metric      string         `json:"metric"` // "pass_rate" or "score"
	A           string         `json:"a"`      // reference arm: baseline run or first target
	B           string         `json:"b"`      // candidate arm
	N           int            `json:"n"`      // paired cases
	ValueA      float64        `json:"value_a"`
	ValueB      float64        `json:"value_b"`
	IntervalA   stats.Interval `json:"interval_a"` // Value == ValueA
	IntervalB   stats.Interval `json:"interval_b"` // Value == ValueB
	Delta       stats.Interval `json:"delta"`      // B − A with its paired interval at Comparison.Level (95% by default)
	P           float64        `json:"p"`          // two-sided p-value of the paired test
	PAdjusted   float64        `json:"p_adjusted"` // Holm-adjusted across all rows of the comparison
	Significant bool           `json:"significant"`
	Method      string         `json:"method"` // MethodMcNemar or MethodBootstrap; see the package doc
	// Discordant counts for pass/fail: cases A passed and B failed, and the
	// reverse; with repeats, cases whose pass rate over repeats was higher
	// in A than in B, and the reverse.
	AOnly int `json:"a_only,omitempty"`
	BOnly int `json:"b_only,omitempty"`
}
