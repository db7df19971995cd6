//go:build unix

package suites

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDatasetPathsAreConfined(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "work")
	dir := filepath.Join(work, "suites")
	os.MkdirAll(dir, 0o755)
	rows := "{\"id\": \"a\", \"text\": \"secret\"}\n"
	for _, p := range []string{filepath.Join(root, "outside.jsonl"), filepath.Join(work, "shared.jsonl"), filepath.Join(dir, "own.jsonl")} {
		os.WriteFile(p, []byte(rows), 0o644)
	}
	os.WriteFile(filepath.Join(root, "schema.json"), []byte(`{"type": "object"}`), 0o644)
	if err := os.Symlink(filepath.Join(root, "outside.jsonl"), filepath.Join(dir, "link.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.jsonl"), 0o644); err != nil {
		t.Fatal(err)
	}
	suite := func(extra string) string {
		p := filepath.Join(dir, "s.yaml")
		os.WriteFile(p, []byte(validHead+extra), 0o644)
		return p
	}
	outside := filepath.Join(root, "outside.jsonl")
	for _, tc := range []struct {
		name, extra string
		refuse      string // "" : loads
		allowed     bool   // loads with AllowOutsidePaths
	}{
		{"own folder", "cases: {file: own.jsonl}\n", "", true},
		{"under the working directory", "cases: {file: ../shared.jsonl}\n", "", true},
		{"parent escape", "cases: {file: ../../outside.jsonl}\n", `s.yaml:4: cases.file: path "../../outside.jsonl" resolves to ` + outside + `, outside the suite's folder`, true},
		{"absolute path", "cases: {file: " + outside + "}\n", `s.yaml:4: cases.file: path "` + outside + `" is ` + outside + `, outside`, true},
		{"symlink out", "cases: {file: link.jsonl}\n", `cases.file: path "link.jsonl" resolves to ` + outside, true},
		{"schema file escape", "cases: {file: own.jsonl}\ndefaults: {json_schema_file: ../../schema.json}\n", `s.yaml:5: defaults.json_schema_file: path "../../schema.json" resolves to`, true},
		{"fifo", "cases: {file: pipe.jsonl}\n", `s.yaml:4: cases.file: ` + filepath.Join(dir, "pipe.jsonl") + ` is a FIFO (named pipe), not a regular file`, false},
		{"symlink to a device", "cases: {file: zero.jsonl}\n", `path "zero.jsonl" resolves to /dev/zero`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := suite(tc.extra)
			done := make(chan error, 1)
			go func() {
				s, err := Load(p, LoadOptions{WorkDir: work})
				if err == nil {
					err = s.Check(t.Context())
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Load hangs")
			}
			if tc.refuse == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.refuse) {
				t.Fatalf("Load: %v\nwant an error containing %q", err, tc.refuse)
			}
			s, err := Load(p, LoadOptions{WorkDir: work, AllowOutsidePaths: true})
			if tc.allowed && err != nil {
				t.Errorf("with AllowOutsidePaths: %v", err)
			}
			if !tc.allowed && (err == nil || !strings.Contains(err.Error(), "not a regular file")) {
				t.Errorf("with AllowOutsidePaths: %v, want a not-a-regular-file refusal", err)
			}
			_ = s
		})
	}
}
