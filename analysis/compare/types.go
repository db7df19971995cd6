package compare

import "github.com/yardstick-eval/yardstick/analysis/stats"

// Row is one paired comparison of metric between two arms (targets or runs) on
// the cases both have. ValueA and ValueB are the arms' means over the paired
// cases of each case's mean over its repeats; IntervalA and IntervalB are
// those means with each arm's own interval at Comparison.Level (see the
// package doc, "Statistics"), so a report can show an arm's uncertainty
// without a matching analysis.Summary.
type Row struct {
	Suite     string         `json:"suite"`
	Metric    string         `json:"metric"`   // "pass_rate" or "score"
	A         string         `json:"a"`        // reference arm: baseline run or first target
	B         string         `json:"b"`        // candidate arm
	TargetA   string         `json:"target_a"` // A\'s target name
	TargetB   string         `json:"target_b"` // B\'s target name
	N         int            `json:"n"`        // paired cases
	ValueA    float64        `json:"value_a"`
	ValueB    float64        `json:"value_b"`
	IntervalA stats.Interval `json:"interval_a"` // Value == ValueA
	IntervalB stats.Interval `json:"interval_b"` // Value == ValueB
	// Delta is B − A with its paired interval at Level: the one interval of
	// this quantity, shown in every report and judged by delta thresholds.
	Delta stats.Interval `json:"delta"`
	// Level is the confidence level of Delta's interval: Comparison.Level
	// when the row is alone in its metric family, else the Holm level that
	// makes "the interval excludes 0" agree with "PAdjusted < 1 − Level of
	// the comparison" (stats.HolmLevels).
	Level float64 `json:"level"`
	// Adjusted is true when the row's family (every row of the comparison
	// with the same Metric) has more than one test, so Level and PAdjusted
	// are Holm-adjusted; Family is that number of tests.
	Adjusted    bool    `json:"adjusted"`
	Family      int     `json:"family"`
	P           float64 `json:"p"`           // two-sided p-value of the paired test, unadjusted
	PAdjusted   float64 `json:"p_adjusted"`  // Holm-adjusted within the metric family
	Significant bool    `json:"significant"` // Delta's interval excludes 0 (equivalently PAdjusted < 1 − Comparison.Level)
	Method      string  `json:"method"`      // MethodNewcombe or MethodBootstrap; see the package doc
	// Discordant counts for pass/fail: cases A passed and B failed, and the
	// reverse; with repeats, cases whose pass rate over repeats was higher
	// in A than in B, and the reverse.
	AOnly int `json:"a_only,omitempty"`
	BOnly int `json:"b_only,omitempty"`
}
