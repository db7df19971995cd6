package gate

// Outcome is one threshold's verdict after evaluation.
type Outcome struct {
	Threshold string  `json:"threshold"`        // the expression as written
	Source    string  `json:"source,omitempty"` // where it was written: "support.yaml:42" or "--threshold"
	Group     string  `json:"group,omitempty"`  // with Options.GroupBy: the group judged, e.g. "{suite:support,target:gpt}"
	Observed  float64 `json:"observed"`         // the aggregated value compared, in the metric's base unit (seconds, USD, ratio)
	Display   string  `json:"display"`          // Observed formatted for people: "1.84s", "0.912 [0.881, 0.936]"
	N         int     `json:"n"`                // samples the value was computed from
	Pass      bool    `json:"pass"`
	Reason    string  `json:"reason,omitempty"` // why it failed when the comparison alone does not say ("no data")
}

// Failed reports whether any outcome did not pass: the CLI's condition for
// exit code 99. An empty list has not failed.
func Failed(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if !o.Pass {
			return true
		}
	}
	return false
}
