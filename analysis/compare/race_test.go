//go:build race

package compare

// raceEnabled shortens the simulation under the race detector, which slows
// the bootstrap loops about tenfold; the package starts no goroutines.
const raceEnabled = true
