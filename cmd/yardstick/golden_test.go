package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGolden runs commands that call no model against committed inputs and
// compares their output with testdata/golden/*. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"report-text", []string{"report", "testdata/run"}, exitOK},
		{"report-markdown", []string{"report", "testdata/run", "--format", "markdown"}, exitOK},
		{"report-json", []string{"report", "testdata/run", "--format", "json"}, exitOK},
		{"report-pr", []string{"report", "testdata/run", "--format", "pr", "--threshold", "pass_rate >= 0.6"}, exitOK},
		{"report-junit", []string{"report", "testdata/run", "--format", "junit", "--threshold", "pass_rate >= 0.6"}, exitOK},
		{"gate-crossed", []string{"gate", "testdata/run", "--threshold", "pass_rate >= 0.6", "--threshold", "latency p(95) < 500ms", "--threshold", "cost sum < $1"}, exitThresholds},
		{"gate-no-data", []string{"gate", "testdata/run", "--threshold", "ttft p(50) < 1s", "--threshold", "pass_rate{target:gemini:*} >= 0.5"}, exitThresholds},
		{"gate-held", []string{"gate", "testdata/run", "--threshold", "pass_rate{target:openai:*} >= 0.6", "--threshold", "error_rate < 1%"}, exitOK},
		{"gate-bad-threshold", []string{"gate", "testdata/run", "--threshold", "latency p95 < 2s"}, exitUsage},
		{"validate-bad", []string{"suites", "validate", "testdata/bad.yaml", "testdata/tiny.yaml"}, exitUsage},
		{"validate-builtin", []string{"suites", "validate", "customer-support", "json-extraction"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, nil)
			code := c.run(context.Background(), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, c.stdout.String(), c.stderr.String())
			}
			got := c.stdout.String()
			if c.stderr.Len() > 0 {
				got += "--- stderr\n" + c.stderr.String()
			}
			checkGolden(t, filepath.Join("testdata", "golden", tt.name), got)
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestReportTakesGitFromTheEnvironmentGiven(t *testing.T) {
	c := newCLI(t, map[string]string{"GITHUB_SHA": "0123abcd", "GITHUB_REF_NAME": "feature/x"})
	if code := c.run(context.Background(), "report", "testdata/run", "--format", "json"); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	for _, want := range []string{`"git_sha": "0123abcd"`, `"git_ref": "feature/x"`} {
		if !strings.Contains(c.stdout.String(), want) {
			t.Errorf("report lacks %s", want)
		}
	}
}
