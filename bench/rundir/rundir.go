package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
)

// File names inside a run directory.
const (
	ResultsName  = "results.jsonl"
	ManifestName = bench.ManifestName
	LockName     = "run.lock"
)

// Options says how to open a run directory. The zero value starts a new run.
type Options struct {
	// Resume continues the run already in the directory: results already
	// present are skipped. Without it, a directory that holds a results file
	// is refused.
	Resume bool
	// Force resumes even when a suite's hash differs from the one the run
	// started with (the results would mix old and new prompts).
	Force bool
	// RetryErrors resumes (it implies Resume) and runs again the units
	// whose last record is an error. The new record is appended after the old one, so the file
	// keeps the history; readers take the last record of each key
	// (bench.LatestResults).
	RetryErrors bool
	// Suites are the suites about to run; they go into the manifest and are
	// checked against the previous manifest on resume.
	Suites []bench.SuiteInfo
	// Args is the command line recorded in the manifest (secrets redacted).
	Args []string
	// Start is the run's start time; zero means now.
	Start time.Time
}

// Reason classifies an *Error.
type Reason string

// Reasons for refusing a run directory. Each is the user's to resolve.
const (
	Locked     Reason = "locked"      // another process is writing to the directory
	Exists     Reason = "exists"      // a results file exists and Resume is false
	Changed    Reason = "changed"     // a suite changed since the run started (Resume without Force)
	BadResults Reason = "bad_results" // the results file has a bad line before the last
)

// Error is a run directory Open refused. The message says what to do.
// I/O failures are returned as they are, not as *Error.
type Error struct {
	Dir    string
	Reason Reason
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func refuse(dir string, r Reason, format string, args ...any) *Error {
	return &Error{Dir: dir, Reason: r, Err: fmt.Errorf(format, args...)}
}

// RunDir is an open, locked run directory.
type RunDir struct {
	Dir          string
	ResultsPath  string
	ManifestPath string
	// Manifest is written by Begin and Finish. Open fills the build, command,
	// suites and resume record; the caller adds the targets before Begin.
	Manifest *bench.Manifest
	// TookOver describes a stale lock Open replaced ("" when none), for a
	// warning.
	TookOver string

	file   *os.File
	done   map[bench.Key]struct{}
	failed map[bench.Key]struct{} // keys of done whose last record is an error
	retry  bool
	lock   *lock
	closed bool
}

// Open creates dir if needed, locks it and prepares its results file; see
// Options. A refusal the user must resolve is an *Error; on any error
// nothing is left locked or open.
func Open(dir string, opts Options) (_ *RunDir, err error) {
	opts.Resume = opts.Resume || opts.RetryErrors
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	start := opts.Start
	if start.IsZero() {
		start = time.Now()
	}
	l, tookOver, err := acquire(dir, start, opts.Args)
	if err != nil {
		return nil, err
	}
	d := &RunDir{
		Dir:          dir,
		ResultsPath:  filepath.Join(dir, ResultsName),
		ManifestPath: filepath.Join(dir, ManifestName),
		TookOver:     tookOver,
		lock:         l,
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	m := bench.NewManifest(opts.Args, start)
	m.Results = ResultsName
	m.Suites = append(m.Suites, opts.Suites...)
	d.Manifest = m

	if !opts.Resume {
		f, err := os.OpenFile(d.ResultsPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return nil, refuse(dir, Exists, "%s already exists: pass --resume to continue that run, or choose another --out", d.ResultsPath)
		}
		if err != nil {
			return nil, err
		}
		d.file = f
		return d, nil
	}

	old, oldErr := bench.ReadManifest(d.ManifestPath)
	if oldErr == nil && !opts.Force {
		if err := checkResumable(dir, old.Suites, opts.Suites); err != nil {
			return nil, err
		}
	}
	res, err := bench.OpenResume(d.ResultsPath)
	if err != nil {
		var le *bench.LineError
		if errors.As(err, &le) {
			return nil, &Error{Dir: dir, Reason: BadResults, Err: fmt.Errorf("cannot resume %s: %w", dir, err)}
		}
		return nil, err
	}
	d.file, d.done, d.failed, d.retry = res.File, res.Done, res.Failed, opts.RetryErrors
	m.Resumed = &bench.ResumedFrom{Results: ResultsName, Existing: len(res.Done), Errors: len(res.Failed), RetryErrors: opts.RetryErrors, TornBytes: res.Torn}
	if oldErr == nil {
		m.Resumed.PreviousStart = old.Start
	}
	return d, nil
}

// checkResumable refuses to resume a run whose suites changed since it
// started: the results file would mix answers to old and new prompts under
// the same case ids.
func checkResumable(dir string, was, now []bench.SuiteInfo) error {
	hashes := map[string]string{}
	for _, s := range was {
		hashes[s.Name] = s.Hash
	}
	for _, s := range now {
		if h, ok := hashes[s.Name]; ok && h != s.Hash {
			return refuse(dir, Changed, "cannot resume %s: suite %q changed since the run started (file or dataset hash differs); start a new --out, or pass --force to mix them", dir, s.Name)
		}
	}
	return nil
}

// Resumed is the number of results already present when a resumed run
// opened (0 for a new run).
func (d *RunDir) Resumed() int { return len(d.done) }

// Failed is the number of keys already present whose last record is an
// error (0 for a new run).
func (d *RunDir) Failed() int { return len(d.failed) }

// Skip reports whether k already has a result to keep: any result, or with
// RetryErrors one that is not an error. Use it as bench.Config.Skip.
func (d *RunDir) Skip(k bench.Key) bool {
	if _, ok := d.done[k]; !ok {
		return false
	}
	return !d.retry || !d.KeptError(k)
}

// KeptError reports whether the last record of k is an error: use it as
// bench.Config.KeptError, so the progress line counts the errors kept.
func (d *RunDir) KeptError(k bench.Key) bool {
	_, ok := d.failed[k]
	return ok
}

// Writer returns the sink that appends results to the results file.
func (d *RunDir) Writer() *bench.JSONLWriter { return bench.NewJSONLWriter(d.file) }

// Begin records the runner's configuration and writes the manifest with
// status "running".
func (d *RunDir) Begin(r *bench.Runner) error {
	d.Manifest.SetRunner(r)
	return bench.WriteManifest(d.ManifestPath, d.Manifest)
}

// Finish records how the run ended (see bench.Manifest.Finish), writes the
// manifest and syncs the results file to disk.
func (d *RunDir) Finish(end time.Time, r *bench.Runner, runErr error) error {
	d.Manifest.Finish(end, r, runErr)
	err := bench.WriteManifest(d.ManifestPath, d.Manifest)
	if serr := d.file.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("syncing %s: %w", d.ResultsPath, serr)
	}
	return err
}

// Close closes the results file and releases the lock. It is safe to call
// more than once.
func (d *RunDir) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	var err error
	if d.file != nil {
		err = d.file.Close()
	}
	if d.lock != nil {
		err = errors.Join(err, d.lock.release())
	}
	return err
}
