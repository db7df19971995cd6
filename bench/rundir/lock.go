package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
)

// holder is what a lock file records about the process holding it.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Command []string  `json:"command,omitempty"`
}

func (h holder) String() string {
	s := fmt.Sprintf("pid %d on %s", h.PID, h.Host)
	if !h.Started.IsZero() {
		s += " since " + h.Started.UTC().Format(time.RFC3339)
	}
	return s
}

// lock is a held run-directory lock.
type lock struct {
	path string
	f    *os.File
}

// flock is tryFlock; tests replace it to exercise the no-flock fallback.
var flock = tryFlock

// errNoFlock is returned by tryFlock where the file system (or platform)
// has no advisory locks; the PID record is then all there is.
var errNoFlock = errors.New("flock not supported")

// acquire locks dir. tookOver describes a stale lock it replaced.
func acquire(dir string, start time.Time, args []string) (l *lock, tookOver string, err error) {
	path := filepath.Join(dir, LockName)
	host, _ := os.Hostname()
	me := holder{PID: os.Getpid(), Host: host, Started: start.UTC(), Command: redactedArgs(args)}
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, "", fmt.Errorf("locking %s: %w", dir, err)
		}
		prev, hasPrev := readHolder(f)
		ferr := flock(f)
		switch {
		case ferr == nil:
			// The holder before us may have removed the file between our
			// open and our flock: then we locked an unlinked inode and
			// must start again on the new file.
			if !samePath(f, path) {
				f.Close()
				if attempt < 10 {
					continue
				}
				return nil, "", fmt.Errorf("locking %s: lock file keeps changing", dir)
			}
			// Re-read under the lock: what we read before may be stale.
			prev, hasPrev = readHolder(f)
			if hasPrev && prev.PID > 0 {
				tookOver = fmt.Sprintf("took over the lock on %s left by %s (no longer running)", dir, prev)
			}
		case errors.Is(ferr, errWouldBlock):
			f.Close()
			who := "another process"
			if hasPrev {
				who = prev.String()
			}
			return nil, "", refuse(dir, Locked, "%s is in use: a run by %s is writing to it; wait for it to end, or choose another --out", dir, who)
		case errors.Is(ferr, errNoFlock):
			// No kernel lock: fall back to the record alone.
			if hasPrev && prev.PID > 0 && prev.PID != me.PID {
				if prev.Host != host {
					f.Close()
					return nil, "", refuse(dir, Locked, "%s is in use: %s holds its lock (this file system has no flock, so Yardstick cannot tell whether it is still running); if that run is gone, delete %s", dir, prev, path)
				}
				if alive(prev.PID) {
					f.Close()
					return nil, "", refuse(dir, Locked, "%s is in use: a run by %s is writing to it; wait for it to end, or choose another --out", dir, prev)
				}
				tookOver = fmt.Sprintf("took over the lock on %s left by %s (no longer running)", dir, prev)
			}
		default:
			f.Close()
			return nil, "", fmt.Errorf("locking %s: %w", dir, ferr)
		}
		if err := writeHolder(f, me); err != nil {
			unflock(f)
			f.Close()
			return nil, "", fmt.Errorf("locking %s: %w", dir, err)
		}
		return &lock{path: path, f: f}, tookOver, nil
	}
}

// release removes the lock file and unlocks it. The file is removed while
// still locked, so a process that opened it meanwhile sees, after its flock
// succeeds, that the path no longer names its file, and starts again.
func (l *lock) release() error {
	err := os.Remove(l.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	unflock(l.f)
	return errors.Join(err, l.f.Close())
}

func readHolder(f *os.File) (holder, bool) {
	var h holder
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 4<<10))
	if err != nil || len(data) == 0 {
		return h, false
	}
	if json.Unmarshal(data, &h) != nil {
		return holder{}, false
	}
	return h, true
}

func writeHolder(f *os.File, h holder) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(append(data, '\n'), 0); err != nil {
		return err
	}
	return f.Sync()
}

// samePath reports whether path still names the file f.
func samePath(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// redactedArgs keeps the lock record as free of secrets as the manifest.
func redactedArgs(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	return bench.RedactArgs(args)
}
