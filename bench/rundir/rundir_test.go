package rundir

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
)

func reasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func TestOpenNewThenRefuseReuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	d, err := Open(dir, Options{Args: []string{"yardstick", "run", "--api-key", "sk-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	lockData, err := os.ReadFile(filepath.Join(dir, LockName))
	if err != nil {
		t.Fatal(err)
	}
	var h holder
	if err := json.Unmarshal(lockData, &h); err != nil || h.PID != os.Getpid() || h.Host == "" {
		t.Errorf("lock record %s (%v): want our pid %d and a host", lockData, err, os.Getpid())
	}
	if strings.Contains(string(lockData), "sk-secret") {
		t.Errorf("lock record holds a secret: %s", lockData)
	}
	if err := d.Writer().Add(&bench.Result{Suite: "s", CaseID: "1", Target: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after Close: %v", err)
	}
	_, err = Open(dir, Options{})
	if reasonOf(err) != Exists || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("reopening a run without Resume: %v, want %s naming --resume", err, Exists)
	}
	// Exists must not leave the directory locked.
	d, err = Open(dir, Options{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.Skip(bench.Key{Suite: "s", CaseID: "1", Target: "t"}) || d.Resumed() != 1 {
		t.Errorf("resume: Skip false or Resumed %d, want the one result", d.Resumed())
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, opts := range []Options{{}, {Resume: true}, {Resume: true, Force: true}} {
		_, err := Open(dir, opts)
		if reasonOf(err) != Locked {
			t.Fatalf("second Open %+v: %v, want %s", opts, err, Locked)
		}
		if want := fmt.Sprintf("pid %d", os.Getpid()); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "in use") {
			t.Errorf("refusal %q does not name the holder (%s)", err, want)
		}
	}
	// The refused opens did not disturb the holder's lock record.
	if h, ok := readHolderAt(t, dir); !ok || h.PID != os.Getpid() {
		t.Errorf("lock record after refusals: %+v %v", h, ok)
	}
}

func readHolderAt(t *testing.T, dir string) (holder, bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, LockName))
	if err != nil {
		return holder{}, false
	}
	defer f.Close()
	return readHolder(f)
}

// TestHelperHoldLock is not a test: TestOtherProcess runs the test binary
// with it to hold a run directory's lock from another process.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv("RUNDIR_HOLD")
	if dir == "" {
		t.Skip("helper process only")
	}
	d, err := Open(dir, Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute) // killed by the parent
	d.Close()
}

func TestOtherProcessHoldsThenDies(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "RUNDIR_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper: %q", line)
	}
	_, err = Open(dir, Options{Resume: true})
	if reasonOf(err) != Locked || !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("Open while another process holds the lock: %v, want %s naming pid %d", err, Locked, cmd.Process.Pid)
	}
	// kill -9: the kernel drops the flock, the record stays behind.
	cmd.Process.Kill()
	cmd.Wait()
	d, err := Open(dir, Options{Resume: true})
	if err != nil {
		t.Fatalf("Open after the holder died: %v", err)
	}
	defer d.Close()
	if !strings.Contains(d.TookOver, "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("TookOver = %q, want it to name the dead holder", d.TookOver)
	}
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func writeRecord(t *testing.T, dir string, h holder) {
	t.Helper()
	data, _ := json.Marshal(h)
	if err := os.WriteFile(filepath.Join(dir, LockName), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStaleLockFile(t *testing.T) {
	host, _ := os.Hostname()
	dead := deadPID(t)
	for _, noFlock := range []bool{false, true} {
		t.Run(fmt.Sprintf("noFlock=%v", noFlock), func(t *testing.T) {
			if noFlock {
				old := flock
				flock = func(*os.File) error { return errNoFlock }
				t.Cleanup(func() { flock = old })
			}
			tests := []struct {
				name   string
				holder holder
				refuse bool
			}{
				{"dead pid, this host", holder{PID: dead, Host: host}, false},
				// With flock a record left by a live process is stale
				// (its flock would block us); without it, the record rules.
				{"live pid, this host", holder{PID: os.Getppid(), Host: host}, noFlock},
				{"other host", holder{PID: dead, Host: host + "-elsewhere"}, noFlock},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := t.TempDir()
					writeRecord(t, dir, tt.holder)
					d, err := Open(dir, Options{})
					if tt.refuse {
						if reasonOf(err) != Locked || !strings.Contains(err.Error(), tt.holder.Host) {
							t.Fatalf("Open: %v, want %s naming %s", err, Locked, tt.holder.Host)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					defer d.Close()
					if !strings.Contains(d.TookOver, "pid "+strconv.Itoa(tt.holder.PID)) {
						t.Errorf("TookOver = %q", d.TookOver)
					}
					if h, _ := readHolderAt(t, dir); h.PID != os.Getpid() {
						t.Errorf("lock record names pid %d, want ours", h.PID)
					}
				})
			}
		})
	}
}

func TestNoFlockSecondOpenRefused(t *testing.T) {
	old := flock
	flock = func(*os.File) error { return errNoFlock }
	t.Cleanup(func() { flock = old })
	dir := t.TempDir()
	writeRecord(t, dir, holder{PID: os.Getppid(), Host: mustHost(t)})
	if _, err := Open(dir, Options{}); reasonOf(err) != Locked {
		t.Fatalf("Open over a live record without flock: %v", err)
	}
}

func mustHost(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestResumeChecks(t *testing.T) {
	dir := t.TempDir()
	suites := []bench.SuiteInfo{{Name: "tiny", Hash: "aaa"}}
	d, err := Open(dir, Options{Suites: suites})
	if err != nil {
		t.Fatal(err)
	}
	r := bench.New(bench.Config{})
	if err := d.Begin(r); err != nil {
		t.Fatal(err)
	}
	if m, _ := bench.ReadManifest(d.ManifestPath); m == nil || m.Status != "running" || len(m.Suites) != 1 {
		t.Errorf("manifest after Begin: %+v", m)
	}
	d.Writer().Add(&bench.Result{Suite: "tiny", CaseID: "a", Target: "t"})
	if err := d.Finish(time.Now(), r, nil); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if m, _ := bench.ReadManifest(d.ManifestPath); m == nil || m.Status != "completed" {
		t.Errorf("manifest after Finish: %+v", m)
	}

	changed := []bench.SuiteInfo{{Name: "tiny", Hash: "bbb"}}
	if _, err := Open(dir, Options{Resume: true, Suites: changed}); reasonOf(err) != Changed || !strings.Contains(err.Error(), `suite "tiny" changed`) {
		t.Errorf("resume of a changed suite: %v", err)
	}
	d, err = Open(dir, Options{Resume: true, Force: true, Suites: changed})
	if err != nil {
		t.Fatalf("resume --force: %v", err)
	}
	if d.Manifest.Resumed == nil || d.Manifest.Resumed.Existing != 1 || d.Manifest.Resumed.PreviousStart.IsZero() {
		t.Errorf("resume record: %+v", d.Manifest.Resumed)
	}
	d.Close()

	// A torn last line is removed; a bad line before it refuses the resume.
	results := filepath.Join(dir, ResultsName)
	appendTo(t, results, `{"suite":"tiny","case_id":"b","tar`)
	d, err = Open(dir, Options{Resume: true, Suites: suites})
	if err != nil {
		t.Fatal(err)
	}
	if d.Manifest.Resumed.TornBytes == 0 {
		t.Errorf("torn line not reported")
	}
	d.Close()
	appendTo(t, results, "not json\n"+`{"suite":"tiny","case_id":"c","target":"t"}`+"\n")
	_, err = Open(dir, Options{Resume: true, Suites: suites})
	if reasonOf(err) != BadResults || !strings.Contains(err.Error(), "results.jsonl:2") {
		t.Errorf("resume over a bad line: %v, want %s naming results.jsonl:2", err, BadResults)
	}
	if _, err := os.Stat(filepath.Join(dir, LockName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused Open left the lock file: %v", err)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestRetryErrorsSkip(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := d.Writer()
	w.Add(&bench.Result{Suite: "s", CaseID: "ok", Target: "t"})
	w.Add(&bench.Result{Suite: "s", CaseID: "bad", Target: "t", Error: &bench.ErrorInfo{Kind: "unavailable", Message: "down"}})
	d.Close()
	ok, bad, missing := bench.Key{Suite: "s", CaseID: "ok", Target: "t"}, bench.Key{Suite: "s", CaseID: "bad", Target: "t"}, bench.Key{Suite: "s", CaseID: "new", Target: "t"}

	for _, retry := range []bool{false, true} {
		d, err := Open(dir, Options{Resume: !retry, RetryErrors: retry})
		if err != nil {
			t.Fatal(err)
		}
		if d.Resumed() != 2 || d.Failed() != 1 || !d.KeptError(bad) || d.KeptError(ok) {
			t.Errorf("retry=%v: Resumed %d Failed %d", retry, d.Resumed(), d.Failed())
		}
		if !d.Skip(ok) || d.Skip(missing) || d.Skip(bad) != !retry {
			t.Errorf("retry=%v: Skip ok=%v missing=%v bad=%v", retry, d.Skip(ok), d.Skip(missing), d.Skip(bad))
		}
		if r := d.Manifest.Resumed; r == nil || r.Errors != 1 || r.RetryErrors != retry {
			t.Errorf("retry=%v: resume record %+v", retry, r)
		}
		d.Close()
	}
}
