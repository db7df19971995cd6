// Package peakrss reads the process's peak resident set size for the
// measurement commands under bench/internal. Linux only (VmHWM from
// /proc/self/status); it does not sample or track memory over time.
package peakrss

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// String returns the peak RSS so far as "12.3 MB", or "unknown" where
// /proc/self/status is not readable or has no VmHWM line.
func String() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return fmt.Sprintf("%.1f MB", kb/1024)
		}
	}
	return "unknown"
}
