package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDeltaThresholdNeedsBaseline: a delta() threshold without --baseline is
// a configuration error found before any call, not a breach found after the
// whole run was paid for.
func TestDeltaThresholdNeedsBaseline(t *testing.T) {
	srv, env := fakeOpenAI(t)
	suiteDelta := filepath.Join(t.TempDir(), "delta.yaml")
	tiny, err := os.ReadFile("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, suiteDelta, strings.Replace(string(tiny), "  - pass_rate >= 0.5", "  - pass_rate >= 0.5\n  - delta(score) >= -0.1", 1))
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"run --threshold", []string{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--threshold", "delta(pass_rate) >= -0.02"}, `--threshold: threshold "delta\(pass_rate\) >= -0.02" needs --baseline`},
		{"run suite threshold", []string{"run", suiteDelta, "-m", "openai:gpt-4o-mini", "-q"}, `delta.yaml:\d+: threshold "delta\(score\) >= -0.1" needs --baseline`},
		{"gate --threshold", []string{"gate", "testdata/run", "--threshold", "delta(pass_rate) >= -0.02"}, `--threshold: threshold "delta\(pass_rate\) >= -0.02" needs --baseline`},
		{"gate --suite", []string{"gate", "testdata/run", "--suite", suiteDelta}, `delta.yaml:\d+: threshold "delta\(score\) >= -0.1" needs --baseline`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, env)
			args := tt.args
			if args[0] == "run" {
				args = append(args, "--out", filepath.Join(c.dir, "run"))
			}
			before := srv.Count()
			if code := c.run(context.Background(), args...); code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, exitUsage, c.stderr.String())
			}
			if !regexp.MustCompile(tt.stderr).MatchString(c.stderr.String()) {
				t.Errorf("stderr does not match %q:\n%s", tt.stderr, c.stderr.String())
			}
			if srv.Count() != before {
				t.Errorf("%d requests made before the configuration error", srv.Count()-before)
			}
		})
	}
	// With --no-thresholds the suite's delta() is ignored and the run goes on.
	c := newCLI(t, env)
	if code := c.run(context.Background(), "run", suiteDelta, "-m", "openai:gpt-4o-mini", "-q", "--no-thresholds", "--out", filepath.Join(c.dir, "run")); code != exitOK {
		t.Errorf("--no-thresholds: exit %d\n%s", code, c.stderr.String())
	}
}

// TestIncompatibleBaselineKeepsTheRunsReports: when the run turns out not to
// be comparable with --baseline (the suite changed), the paid-for results are
// still summarised and reported; the command then exits 2 with the reasons,
// and delta() outcomes do not pass on cases the comparison refused to pair.
func TestIncompatibleBaselineKeepsTheRunsReports(t *testing.T) {
	_, env := fakeOpenAI(t)
	c := newCLI(t, env)
	good := filepath.Join(c.dir, "good")
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", good); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	bdir := filepath.Join(c.dir, "baselines")
	if code := c.run(context.Background(), "baseline", "save", good, "-o", bdir); code != exitOK {
		t.Fatalf("baseline save: exit %d\n%s", code, c.stderr.String())
	}
	bfile := filepath.Join(bdir, "openai-gpt-4o-mini.baseline")

	changed := filepath.Join(c.dir, "changed.yaml")
	tiny, _ := os.ReadFile("testdata/tiny.yaml")
	writeFile(t, changed, strings.Replace(string(tiny), "Answer with the city name only.", "Answer with the capital only.", 1))
	out := filepath.Join(c.dir, "changed-run")
	code := c.run(context.Background(), "run", changed, "-m", "openai:gpt-4o-mini", "-q", "--out", out,
		"--baseline", bfile, "--threshold", "delta(pass_rate) >= -0.5")
	if code != exitUsage || !strings.Contains(c.stderr.String(), "--force") {
		t.Fatalf("incompatible baseline: exit %d, want %d with advice to --force\n%s", code, exitUsage, c.stderr.String())
	}
	if !strings.Contains(c.stdout.String(), "openai:gpt-4o-mini") {
		t.Errorf("no summary printed:\n%s", c.stdout.String())
	}
	for _, name := range []string{"summary.json", "report.md", "junit.xml", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "not comparable") {
		t.Errorf("report.md does not say why the delta threshold failed:\n%s", md)
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Thresholds []struct {
			Threshold string `json:"threshold"`
			Pass      bool   `json:"pass"`
			Reason    string `json:"reason"`
		} `json:"thresholds"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	deltas := 0
	for _, o := range sum.Thresholds {
		if o.Threshold != "delta(pass_rate) >= -0.5" {
			continue
		}
		deltas++
		if o.Pass || !strings.Contains(o.Reason, "not comparable") {
			t.Errorf("delta outcome against an incomparable baseline: pass=%v reason=%q", o.Pass, o.Reason)
		}
	}
	if deltas == 0 {
		t.Errorf("summary.json has no delta outcome:\n%s", data)
	}
}

// TestCacheDirExpandsHome: "~/…" in cache.dir (as in the README's example
// config) or YARDSTICK_CACHE_DIR is the home folder, not a folder named "~".
func TestCacheDirExpandsHome(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	home := filepath.Join(c.dir, "home")
	env["HOME"] = home
	env["YARDSTICK_CACHE_DIR"] = "~/.cache/yardstick/responses"
	t.Cleanup(func() { os.RemoveAll("~") }) // only a failing run makes it
	for i, out := range []string{"a", "b"} {
		if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", filepath.Join(c.dir, out)); code != exitOK {
			t.Fatalf("run %d: exit %d\n%s", i, code, c.stderr.String())
		}
	}
	if _, err := os.Stat("~"); err == nil {
		t.Errorf(`a folder named "~" was created in the working directory`)
	}
	entries, err := os.ReadDir(filepath.Join(home, ".cache", "yardstick", "responses"))
	if err != nil || len(entries) == 0 {
		t.Errorf("no cache under $HOME/.cache/yardstick/responses: %v", err)
	}
	if srv.Count() != 10 {
		t.Errorf("requests = %d, want 10 (the second run from the cache)", srv.Count())
	}
}

// TestSuitesExportIsAllOrNothing: a failed export leaves no empty or partial
// training file behind, and a good one is readable by others.
func TestSuitesExportIsAllOrNothing(t *testing.T) {
	c := newCLI(t, nil)
	out := filepath.Join(c.dir, "train.jsonl")
	if code := c.run(context.Background(), "suites", "export", "customer-support", "--split", "nosuch", "-o", out); code != exitUsage {
		t.Fatalf("bad split: exit %d, want %d\n%s", code, exitUsage, c.stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s behind (%v)", out, err)
	}
	if code := c.run(context.Background(), "suites", "export", "customer-support", "-o", out); code != exitOK {
		t.Fatalf("export: exit %d\n%s", code, c.stderr.String())
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	data, _ := os.ReadFile(out)
	if n := strings.Count(string(data), "\n"); n != 300 {
		t.Errorf("exported %d lines, want the 300 training cases", n)
	}
}

// TestEnvOverrideErrorsNameTheVariable: a bad YARDSTICK_* value is reported
// under the variable's name, not blamed on the config file.
func TestEnvOverrideErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env, val, stderr string
		want             int
	}{
		{"YARDSTICK_RUN_CONCURRENCY", "abc", `YARDSTICK_RUN_CONCURRENCY="abc": want an integer`, exitUsage},
		{"YARDSTICK_CACHE_DISABLED", "maybe", `YARDSTICK_CACHE_DISABLED="maybe": want true or false`, exitUsage},
		{"YARDSTICK_RUN_CONCURRENCY", "4", "", exitOK},
		{"YARDSTICK_CACHE_DISABLED", "1", "", exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.val, func(t *testing.T) {
			c := newCLI(t, map[string]string{tt.env: tt.val})
			path := filepath.Join(c.dir, "yardstick.yaml")
			writeFile(t, path, "run: {concurrency: 2}\n")
			code := c.run(context.Background(), "--config", path, "providers", "list")
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s", code, tt.want, c.stderr.String())
			}
			if !strings.Contains(c.stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, c.stderr.String())
			}
			if tt.want != exitOK && strings.Contains(c.stderr.String(), path) {
				t.Errorf("the environment's error is blamed on the config file:\n%s", c.stderr.String())
			}
		})
	}
}

// TestNegativeCountsAreUsageErrors: --limit -1 or --concurrency -1 is a
// mistake, not "all" or "the default".
func TestNegativeCountsAreUsageErrors(t *testing.T) {
	srv, env := fakeOpenAI(t)
	for _, args := range [][]string{
		{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--limit", "-1"},
		{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--concurrency", "-2"},
		{"estimate", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--limit", "-1"},
	} {
		t.Run(args[0]+" "+strings.Join(args[len(args)-2:], " "), func(t *testing.T) {
			c := newCLI(t, env)
			if args[0] == "run" {
				args = append(args, "--out", filepath.Join(c.dir, "run"))
			}
			if code := c.run(context.Background(), args...); code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, exitUsage, c.stderr.String())
			}
			if !strings.Contains(c.stderr.String(), "must not be negative") {
				t.Errorf("stderr:\n%s", c.stderr.String())
			}
		})
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests made", srv.Count())
	}
}

// TestReportWriteFailureKeepsTheOthers: one report that cannot be written
// (here report.md is in the way as a folder) costs neither the other reports
// nor the printed summary; the run then exits 1 naming the report.
func TestReportWriteFailureKeepsTheOthers(t *testing.T) {
	_, env := fakeOpenAI(t)
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	if err := os.MkdirAll(filepath.Join(out, "report.md", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--out", out)
	if code != exitFailure || !strings.Contains(c.stderr.String(), "report.md") {
		t.Fatalf("exit %d, want %d naming report.md\n%s", code, exitFailure, c.stderr.String())
	}
	for _, name := range []string{"summary.json", "junit.xml", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
	if !strings.Contains(c.stdout.String(), "openai:gpt-4o-mini") {
		t.Errorf("no summary printed:\n%s", c.stdout.String())
	}
}
