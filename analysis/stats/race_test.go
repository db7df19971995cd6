//go:build race

package stats

// raceEnabled: the race detector slows the bootstrap loops about tenfold
// without checking anything (they start no goroutines), so tests use fewer
// resamples under it, with tolerances scaled to match.
const raceEnabled = true
