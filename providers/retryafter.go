package providers

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter returns the wait a response's headers ask for, or 0 when
// they ask for none. It reads, in order, "retry-after-ms" (milliseconds, as
// OpenAI and Azure OpenAI send it) and "Retry-After" as delay-seconds
// (integer or decimal) or an HTTP-date, measured from now. Dates in the past
// and unparseable values give 0. Adapters use it to fill Error.RetryAfter.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 || s > 1e9 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
