package gate

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/internal/format"
)

// fmtInterval renders "0.912 [0.881, 0.936]" with the given verb per number.
func fmtInterval(iv stats.Interval, verb string) string {
	return fmt.Sprintf(verb+" ["+verb+", "+verb+"]", iv.Value, iv.Low, iv.High)
}

// fmtValue renders an aggregated sample value in the metric's unit.
func fmtValue(m Metric, agg Agg, v float64) string {
	switch m {
	case Latency, TTFT:
		return format.Seconds(v)
	case Cost:
		return format.USD(v)
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

func trimNum(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
