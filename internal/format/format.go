// Package format is the one place that turns money, durations and paired
// differences into text for people, so that a number reads the same in a
// gate line, a budget error, an estimate and every report.
//
// What it does not do: choose what to show, pad or align columns, or escape
// for a particular output (package reports does).
package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Dash stands for a missing value.
const Dash = "—"

func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// USD formats dollars: two decimals from a dollar up ("$3.20", "$1234.50"),
// two to four decimals from a cent ("$0.10", "$0.015", "$0.1234"), and two
// significant digits below a cent, without an exponent ("$0.0042",
// "$0.000048"). Zero is "$0"; negative amounts (savings in a delta) get a
// leading "-". NaN or ±Inf is Dash.
func USD(x float64) string {
	if bad(x) {
		return Dash
	}
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	switch {
	case x == 0:
		return "$0"
	case x >= 1:
		return sign + "$" + strconv.FormatFloat(x, 'f', 2, 64)
	case x >= 0.01:
		s := strings.TrimRight(strconv.FormatFloat(x, 'f', 4, 64), "0")
		if i := strings.IndexByte(s, '.'); len(s)-i-1 < 2 {
			s += strings.Repeat("0", 2-(len(s)-i-1))
		}
		return sign + "$" + s
	}
	// Round to two significant digits first, then print without an exponent.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'e', 1, 64), 64)
	if r >= 0.01 {
		return sign + "$0.01"
	}
	return sign + "$" + strconv.FormatFloat(r, 'f', -1, 64)
}

// Duration formats a latency with three significant digits in the largest
// unit that keeps it at least 1: "980µs", "4.21ms", "45.2ms", "812ms",
// "1.84s", "42.1s", then wall-clock form ("3m04s", "1h02m"). Zero or
// negative is Dash.
func Duration(d time.Duration) string {
	if d <= 0 {
		return Dash
	}
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	case d < 100*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) + "ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d < 100*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return Wall(d)
}

// Seconds is Duration of a number of seconds; 0 is "0s".
func Seconds(s float64) string {
	if s == 0 {
		return "0s"
	}
	if bad(s) {
		return Dash
	}
	if s < 0 {
		return "-" + Duration(time.Duration(-s*1e9+0.5))
	}
	return Duration(time.Duration(s*1e9 + 0.5))
}

// Wall formats a wall-clock span: "42s", "3m04s", "1h02m".
func Wall(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Signed formats x with an explicit sign and prec decimals; a value that
// rounds to zero is "±0.0".
func Signed(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	zero := strconv.FormatFloat(0, 'f', prec, 64)
	if s == zero || s == "-"+zero {
		return "±" + zero
	}
	if x > 0 {
		return "+" + s
	}
	return s
}

// signedEnd is Signed, but an end that rounds to zero is a plain "0.0".
func signedEnd(x float64, prec int) string {
	if s := Signed(x, prec); !strings.HasPrefix(s, "±") {
		return s
	}
	return strconv.FormatFloat(0, 'f', prec, 64)
}

// Delta formats a paired difference with its interval: a difference of
// rates (points true) in percentage points, "-10.0pp [-15.7, -5.1]",
// anything else with three decimals, "+0.012 [-0.020, +0.044]". NaN value
// is Dash; NaN ends are left out.
func Delta(value, low, high float64, points bool) string {
	if bad(value) {
		return Dash
	}
	scale, prec, unit := 1.0, 3, ""
	if points {
		scale, prec, unit = 100, 1, "pp"
	}
	s := Signed(value*scale, prec) + unit
	if !bad(low) && !bad(high) {
		s += " [" + signedEnd(low*scale, prec) + ", " + signedEnd(high*scale, prec) + "]"
	}
	return s
}
