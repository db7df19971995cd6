package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

func TestRedactArgs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"yardstick run suite.yaml -m openai:gpt-4o", "yardstick run suite.yaml -m openai:gpt-4o"},
		{"yardstick run --api-key sk-123 suite.yaml", "yardstick run --api-key REDACTED suite.yaml"},
		{"yardstick run --api-key=sk-123 suite.yaml", "yardstick run --api-key=REDACTED suite.yaml"},
		{"yardstick run -openai-token=abc", "yardstick run -openai-token=REDACTED"},
		{"yardstick --Secret x --password=y", "yardstick --Secret REDACTED --password=REDACTED"},
		{"yardstick --gcp-credentials /path/sa.json", "yardstick --gcp-credentials REDACTED"},
		{"yardstick --api-key --verbose", "yardstick --api-key --verbose"}, // no value to redact
		{"yardstick -- --api-key", "yardstick -- --api-key"},
	} {
		got := strings.Join(RedactArgs(strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("RedactArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	in := []string{"--api-key", "sk"}
	RedactArgs(in)
	if in[1] != "sk" {
		t.Error("RedactArgs modified its argument")
	}
}

func TestURLHost(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://api.openai.com/v1", "api.openai.com"},
		{"http://localhost:11434", "localhost:11434"},
		{"https://user:sk-secret@example.com/v1?api-key=abc#frag", "example.com"},
		{"https://res.openai.azure.com/openai/deployments/gpt4?api-version=2024-10-21", "res.openai.azure.com"},
		{"", ""},
		{"not a url", ""},
		{"://bad", ""},
	} {
		if got := URLHost(tc.in); got != tc.want {
			t.Errorf("URLHost(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRunStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "completed"},
		{&BudgetError{BudgetUSD: 5, SpentUSD: 5.03, NotRun: 120, Total: 300}, "budget_exceeded"},
		{context.Canceled, "interrupted"},
		{fmt.Errorf("run: %w", context.Canceled), "interrupted"},
		{errors.New("disk full"), "failed"},
	} {
		if got := RunStatus(tc.err); got != tc.want {
			t.Errorf("RunStatus(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestBudgetErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  BudgetError
		want string
	}{
		{BudgetError{BudgetUSD: 5, SpentUSD: 5.03, NotRun: 120, Total: 300}, "budget $5.00 reached after $5.03 spent; 120 of 300 runs (case × target × repeat) not started"},
		{BudgetError{BudgetUSD: 0.5, SpentUSD: 0.0015, NotRun: 7, AtLeast: true}, "budget $0.50 reached after $0.0015 spent; at least 7 runs (case × target × repeat) not started"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
		if !errors.Is(&tc.err, ErrBudgetExceeded) {
			t.Error("BudgetError does not wrap ErrBudgetExceeded")
		}
	}
}

func TestManifestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ManifestName)
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m := NewManifest([]string{"yardstick", "run", "--api-key", "sk-live-secret", "support.yaml"}, start)
	if m.GoVersion != runtime.Version() || m.OS != runtime.GOOS || m.Arch != runtime.GOARCH || m.Yardstick == "" || m.Status != "running" {
		t.Fatalf("NewManifest = %+v", m)
	}
	m.Suites = []SuiteInfo{{Name: "customer-support", Version: "1", Hash: "abc", Path: "support.yaml", Cases: 3}}
	m.Targets = []TargetInfo{{Name: "openai:gpt-4o-mini", Model: "gpt-4o-mini", Provider: "openai",
		BaseURLHost: URLHost("https://u:sk-live-secret@api.openai.com/v1"), Price: &providers.Price{InputPerM: 0.15, OutputPerM: 0.6}}}

	// A first version at start, as the CLI writes it.
	if err := WriteManifest(path, m); err != nil {
		t.Fatal(err)
	}

	targets, _ := rnTargets("gpt-4o-mini")
	r := New(Config{Concurrency: 3, Repeats: 2, BudgetUSD: 5})
	m.SetRunner(r)
	runErr := r.Run(context.Background(), rnCases(3, nil, nil), targets, &rnCollect{})
	m.Finish(start.Add(time.Minute), r, runErr)
	if err := WriteManifest(path, m); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "sk-live-secret") {
		t.Errorf("manifest holds a secret:\n%s", data)
	}
	for _, want := range []string{`"status": "completed"`, `"concurrency": 3`, `"repeats": 2`, `"budget_usd": 5`,
		`"temperature": 0`, `"requests": 6`, `"base_url_host": "api.openai.com"`, `"results": 6`, `"end": "2025-03-01T12:01:00Z"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("manifest lacks %s:\n%s", want, data)
		}
	}
	got, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back:\n got %+v\nwant %+v", got, m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the manifest (no temporary left)", len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestWriteManifestFailsCleanly(t *testing.T) {
	if err := WriteManifest(filepath.Join(t.TempDir(), "missing-dir", ManifestName), &Manifest{}); err == nil {
		t.Error("WriteManifest into a missing directory succeeded")
	}
	p := filepath.Join(t.TempDir(), ManifestName)
	os.WriteFile(p, []byte("{"), 0o644)
	if _, err := ReadManifest(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("ReadManifest of bad JSON = %v, want an error naming the file", err)
	}
}
