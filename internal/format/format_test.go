package format

import (
	"math"
	"testing"
	"time"
)

// TestUSD: one rendering of an amount for the gate, the budget error, the
// estimate and every report ($0.000048 used to print as $0.000048, $0.00005
// or $0.0000 depending on where it appeared).
func TestUSD(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "$0"}, {0.000048, "$0.000048"}, {0.0000021, "$0.0000021"}, {0.0042, "$0.0042"}, {0.00996, "$0.01"},
		{0.01, "$0.01"}, {0.1, "$0.10"}, {0.015, "$0.015"}, {0.1234, "$0.1234"}, {3.2, "$3.20"}, {1234.5, "$1234.50"},
		{-0.5, "-$0.50"}, {math.NaN(), Dash}, {math.Inf(1), Dash},
	} {
		if got := USD(c.in); got != c.want {
			t.Errorf("USD(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDurationAndDelta(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Duration(980 * time.Microsecond), "980µs"}, {Duration(4210 * time.Microsecond), "4.21ms"},
		{Duration(45200 * time.Microsecond), "45.2ms"}, {Duration(812 * time.Millisecond), "812ms"},
		{Duration(1840 * time.Millisecond), "1.84s"}, {Duration(184 * time.Second), "3m04s"}, {Duration(0), Dash},
		{Seconds(0.512), "512ms"}, {Seconds(0), "0s"},
		{Delta(-0.1, -0.168, -0.025, true), "-10.0pp [-16.8, -2.5]"},
		{Delta(0, -0.03, 0.03, true), "±0.0pp [-3.0, +3.0]"},
		{Delta(0.012, -0.0001, 0.044, false), "+0.012 [0.000, +0.044]"},
		{Delta(math.NaN(), 0, 0, true), Dash},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
