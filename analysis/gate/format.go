package gate

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis/stats"
)

// fmtInterval renders "0.912 [0.881, 0.936]" with the given verb per number.
func fmtInterval(iv stats.Interval, verb string) string {
	return fmt.Sprintf(verb+" ["+verb+", "+verb+"]", iv.Value, iv.Low, iv.High)
}

// fmtValue renders an aggregated sample value in the metric's unit.
func fmtValue(m Metric, agg Agg, v float64) string {
	switch m {
	case Latency, TTFT:
		return FormatSeconds(v)
	case Cost:
		return FormatUSD(v)
	case TokensPerSecond:
		return trimNum(v, 1) + " tok/s"
	case Score:
		return fmt.Sprintf("%.3f", v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return trimNum(v, 1)
}

// FormatSeconds renders a duration given in seconds with three significant
// digits in the largest unit that keeps it ≥ 1: "1.84s", "512ms", "45.2ms",
// "980µs", "0s".
func FormatSeconds(s float64) string {
	a := math.Abs(s)
	switch {
	case a == 0:
		return "0s"
	case a >= 1:
		return sig3(s) + "s"
	case a >= 1e-3:
		return sig3(s*1e3) + "ms"
	case a >= 1e-6:
		return sig3(s*1e6) + "µs"
	}
	return sig3(s*1e9) + "ns"
}

// FormatUSD renders dollars: cents for amounts of a cent or more ("$3.20"),
// four decimals below a cent ("$0.0042"), two significant digits below a
// hundredth of a cent.
func FormatUSD(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	switch {
	case v == 0 || math.Round(v*100) >= 1:
		return fmt.Sprintf("%s$%.2f", sign, v)
	case v >= 0.0001:
		return fmt.Sprintf("%s$%.4f", sign, v)
	}
	// Two significant digits without an exponent: $0.000048.
	return fmt.Sprintf("%s$%.*f", sign, 1-int(math.Floor(math.Log10(v))), v)
}

// sig3 formats with three significant digits (no exponent below 1e6),
// trimming trailing zeros: 1.84, 512, 45.2, 2.
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return trimNum(v, 0)
	case a >= 10:
		return trimNum(v, 1)
	}
	return trimNum(v, 2)
}

func trimNum(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
