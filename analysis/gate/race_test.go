//go:build race

package gate

// raceEnabled: the race detector slows the single-goroutine simulations
// about tenfold without checking anything they do, so they shrink under it.
const raceEnabled = true
