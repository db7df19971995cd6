//go:build race

package main

// raceEnabled: the race detector multiplies memory use, so memory targets
// are measured by a build without it (make mem-check).
const raceEnabled = true
