//go:build unix

package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	regular := filepath.Join(dir, "ok.jsonl")
	os.WriteFile(regular, []byte("{}\n"), 0o644)
	for _, tc := range []struct{ path, kind string }{
		{fifo, "FIFO"}, {link, "FIFO"}, {dir, "directory"}, {"/dev/null", "device"}, {"/dev/zero", "device"},
	} {
		// A FIFO without a writer would block a plain open forever: this
		// returns at once.
		f, err := Open(tc.path)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), tc.kind) {
			t.Errorf("Open(%s): %v, want ErrNotRegular naming %s", tc.path, err, tc.kind)
		}
		if _, err := ReadFile(tc.path, 10); !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadFile(%s): %v", tc.path, err)
		}
	}
	data, err := ReadFile(regular, 10)
	if err != nil || string(data) != "{}\n" {
		t.Errorf("ReadFile(regular) = %q, %v", data, err)
	}
	if _, err := ReadFile(regular, 2); err == nil || !strings.Contains(err.Error(), "2-byte limit") {
		t.Errorf("ReadFile over the limit: %v", err)
	}
}
