// Package rundir owns a run directory: the folder a `yardstick run` writes
// its results.jsonl and manifest.json to. Open takes an exclusive lock on the
// folder, creates or reopens the results file (removing a torn last line left
// by a killed writer), refuses to resume a run whose suites changed, and
// keeps the manifest's lifecycle: "running" when the run starts (Begin), its
// final status and totals when it ends (Finish). Close releases the lock.
//
// The lock is an flock(2) on DIR/run.lock, so it is released by the kernel
// when the process exits however it exits; the file records the holder's PID,
// host and start time, so a second writer is told who holds the folder, and a
// lock left behind where flock is not available (some network file systems)
// is taken over once its PID is gone from the same host.
//
// rundir does not run anything (package bench does), read results for
// reports (bench.LatestResults) or render reports (package reports).
package rundir
