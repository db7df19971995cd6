package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// bigSuite writes a suite of n generated cases into dir and returns its path.
func bigSuite(t *testing.T, dir string, n int) string {
	t.Helper()
	var data bytes.Buffer
	for i := range n {
		fmt.Fprintf(&data, `{"id":"q%05d","a":%d,"b":%d,"expected":"%d"}`+"\n", i, i, i%97, i+i%97)
	}
	if err := os.WriteFile(filepath.Join(dir, "sums.jsonl"), data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	suite := `name: sums
version: "1"
prompt:
  user: "What is {{.a}} plus {{.b}}?"
cases:
  file: sums.jsonl
defaults:
  temperature: 0
  max_tokens: 8
scorers:
  - type: exact
thresholds:
  - pass_rate >= 0.5
`
	path := filepath.Join(dir, "sums.yaml")
	if err := os.WriteFile(path, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var sumRE = regexp.MustCompile(`What is (\d+) plus (\d+)\?`)

// sumResponder answers right except for every 7th a (mini) or 11th a
// (the other model), with answers of varying length so usage and cost vary
// per case.
func sumResponder(req providertest.WireRequest) string {
	m := sumRE.FindStringSubmatch(req.Messages[len(req.Messages)-1].Content)
	if m == nil {
		return "?"
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	wrong := 7
	if req.Model != "gpt-4o-mini" {
		wrong = 11
	}
	if a%wrong == 0 {
		return strings.Repeat("hmm ", a%5) + "no idea"
	}
	return strconv.Itoa(a + b)
}

// timingKeys are the summary.json fields that measure time: they differ
// between any two runs and are left out of the comparison.
var timingKeys = map[string]bool{"started": true, "run_id": true, "latency": true, "ttft": true,
	"output_tokens_per_second": true, "latency_p50_ns": true, "latency_p95_ns": true,
	"latency_a_ns": true, "latency_b_ns": true}

func stripTiming(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if timingKeys[k] || strings.Contains(k, "latency") || strings.Contains(k, "ttft") {
				delete(x, k)
				continue
			}
			x[k] = stripTiming(e)
		}
	case []any:
		for i, e := range x {
			x[i] = stripTiming(e)
		}
	}
	return v
}

func summaryWithoutTiming(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(stripTiming(v), "", " ")
	return string(out)
}

// TestShardsMergeToTheUnshardedRun: four shards of a 2,000-case × 2-target
// run, merged, give the unsharded run's summary.json bit for bit apart from
// timings; each key ran exactly once across the shards; a merge missing a
// shard exits 2 naming it.
func TestShardsMergeToTheUnshardedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("16,000 requests")
	}
	srv := providertest.NewOpenAIServer(t, providertest.WithoutRecording())
	srv.SetResponder(sumResponder)
	env := map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()}
	c := newCLI(t, env)
	suite := bigSuite(t, c.dir, 2000)
	targets := []string{"-m", "openai:gpt-4o-mini", "-m", "openai:gpt-4o"}
	ctx := context.Background()

	whole := filepath.Join(c.dir, "whole")
	args := append([]string{"run", suite, "-q", "--no-cache", "-c", "16", "--format", "none", "--out", whole}, targets...)
	if code := c.run(ctx, args...); code != exitOK {
		t.Fatalf("unsharded run: exit %d\n%s", code, c.stderr.String())
	}
	if srv.Count() != 4000 {
		t.Fatalf("unsharded run made %d requests, want 4000", srv.Count())
	}

	var dirs []string
	units := 0
	for k := 1; k <= 4; k++ {
		dir := filepath.Join(c.dir, fmt.Sprintf("shard-%d", k))
		dirs = append(dirs, dir)
		args := append([]string{"run", suite, "-q", "--no-cache", "-c", "16", "--format", "none", "--out", dir, "--shard", fmt.Sprintf("%d/4", k)}, targets...)
		// A failing threshold in one shard's slice would exit 99; the gate
		// that counts is the merge's.
		if code := c.run(ctx, args...); code != exitOK && code != exitThresholds {
			t.Fatalf("shard %d: exit %d\n%s", k, code, c.stderr.String())
		}
		m, err := bench.ReadManifest(filepath.Join(dir, bench.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		if m.Shard == nil || m.Shard.Index != k || m.Shard.Count != 4 || m.Shard.Total != 4000 {
			t.Fatalf("shard %d manifest: %+v", k, m.Shard)
		}
		if m.Shard.Units < 900 || m.Shard.Units > 1100 {
			t.Errorf("shard %d has %d of 4000 units: not balanced", k, m.Shard.Units)
		}
		if m.Totals.Results != m.Shard.Units {
			t.Errorf("shard %d wrote %d results for %d units", k, m.Totals.Results, m.Shard.Units)
		}
		units += m.Shard.Units
	}
	if units != 4000 || srv.Count() != 8000 {
		t.Fatalf("shards planned %d units and made %d requests, want 4000 and 4000", units, srv.Count()-4000)
	}

	merged := filepath.Join(c.dir, "merged")
	// Shard order on the command line does not matter.
	mergeArgs := []string{"merge", dirs[2], dirs[0], dirs[3], dirs[1], "--out", merged, "--format", "none", "--suite", suite}
	if code := c.run(ctx, mergeArgs...); code != exitOK {
		t.Fatalf("merge: exit %d\n%s", code, c.stderr.String())
	}
	if got, want := summaryWithoutTiming(t, merged), summaryWithoutTiming(t, whole); got != want {
		t.Errorf("merged summary.json differs from the unsharded run's:\n--- merged\n%s\n--- unsharded\n%s", got, want)
	}
	for _, name := range []string{"report.md", "junit.xml", "report.html", bench.ManifestName} {
		if _, err := os.Stat(filepath.Join(merged, name)); err != nil {
			t.Errorf("merge wrote no %s: %v", name, err)
		}
	}
	m, err := bench.ReadManifest(filepath.Join(merged, bench.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "completed" || len(m.Merged) != 4 || m.Totals.Results != 4000 {
		t.Errorf("merged manifest: status %q, %d shards, %d results", m.Status, len(m.Merged), m.Totals.Results)
	}

	// The gate runs on the merged results: a threshold the run misses exits 99.
	if code := c.run(ctx, "merge", dirs[0], dirs[1], dirs[2], dirs[3], "--out", filepath.Join(c.dir, "gated"), "--format", "none", "--threshold", "pass_rate >= 0.99"); code != exitThresholds {
		t.Errorf("merge with a crossed threshold: exit %d, want %d\n%s", code, exitThresholds, c.stderr.String())
	}

	// A missing shard: exit 2, naming the shard and some of its keys.
	code := c.run(ctx, "merge", dirs[0], dirs[1], dirs[3], "--out", filepath.Join(c.dir, "missing"))
	if code != exitUsage {
		t.Fatalf("merge without shard 3: exit %d, want %d\n%s", code, exitUsage, c.stderr.String())
	}
	if !regexp.MustCompile(`shard 3/4 is missing \(\d+ keys: sums/q\d+@openai:gpt-4o(-mini)?#0`).MatchString(c.stderr.String()) {
		t.Errorf("missing-shard error does not name shard 3 and its keys:\n%s", c.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(c.dir, "missing", resultsName)); err == nil {
		t.Errorf("a refused merge left a results file")
	}
	// With --partial it merges and says what is missing.
	if code := c.run(ctx, "merge", dirs[0], dirs[1], dirs[3], "--out", filepath.Join(c.dir, "partial"), "--partial", "--format", "none"); code != exitOK {
		t.Errorf("merge --partial: exit %d\n%s", code, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "partial run") {
		t.Errorf("merge --partial did not warn:\n%s", c.stderr.String())
	}
}

// TestShardFlag covers --shard's sources and the resume checks.
func TestShardFlag(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	srv.SetResponder(capitalResponder)
	ctx := context.Background()
	tiny := filepath.Join("testdata", "tiny.yaml")
	tests := []struct {
		name  string
		env   map[string]string
		shard string
		want  int
		index int
		src   string
		err   string
	}{
		{name: "flag", shard: "2/3", want: exitOK, index: 2, src: "flag"},
		{name: "github matrix env", env: map[string]string{"YARDSTICK_SHARD": "3/3"}, shard: "auto", index: 3, src: "YARDSTICK_SHARD"},
		{name: "gitlab is 1-based", env: map[string]string{"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "3"}, shard: "auto", index: 1, src: "CI_NODE_INDEX"},
		{name: "kubernetes is 0-based", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, shard: "auto/3", index: 1, src: "JOB_COMPLETION_INDEX"},
		{name: "kubernetes needs N", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, shard: "auto", want: exitUsage, err: "auto/N"},
		{name: "count disagrees", env: map[string]string{"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"}, shard: "auto/3", want: exitUsage, err: "differs"},
		{name: "index out of range", shard: "4/3", want: exitUsage, err: `outside 1\.\.3`},
		{name: "zero-based flag", shard: "0/3", want: exitUsage, err: `outside 1\.\.3`},
		{name: "garbage", shard: "half", want: exitUsage, err: "want K/N"},
		{name: "no env", shard: "auto", want: exitUsage, err: "no shard index in the environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()}
			for k, v := range tt.env {
				env[k] = v
			}
			c := newCLI(t, env)
			out := filepath.Join(c.dir, "run")
			code := c.run(ctx, "run", tiny, "-m", "openai:gpt-4o-mini", "-q", "--format", "none", "--out", out, "--shard", tt.shard)
			if code == exitThresholds {
				code = exitOK // a shard's slice of a tiny suite may miss the suite's threshold
			}
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s", code, tt.want, c.stderr.String())
			}
			if tt.err != "" {
				if !regexp.MustCompile(tt.err).MatchString(c.stderr.String()) {
					t.Errorf("stderr does not match %q:\n%s", tt.err, c.stderr.String())
				}
				return
			}
			m, err := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			if m.Shard == nil || m.Shard.Index != tt.index || m.Shard.Count != 3 || m.Shard.Source != tt.src || m.Shard.Total != 10 {
				t.Fatalf("manifest shard = %+v", m.Shard)
			}
			// Resuming as another shard, or unsharded, is refused.
			for _, other := range []string{"", "1/2"} {
				args := []string{"run", tiny, "-m", "openai:gpt-4o-mini", "-q", "--format", "none", "--out", out, "--resume"}
				if other != "" {
					args = append(args, "--shard", other)
				}
				if code := c.run(ctx, args...); code != exitUsage || !strings.Contains(c.stderr.String(), "cannot resume") {
					t.Errorf("resume with --shard %q: exit %d\n%s", other, code, c.stderr.String())
				}
			}
			// Resuming the same shard finds nothing left to do.
			args := []string{"run", tiny, "-m", "openai:gpt-4o-mini", "-q", "--format", "none", "--out", out, "--resume", "--shard", tt.shard}
			if code := c.run(ctx, args...); code != exitOK && code != exitThresholds {
				t.Errorf("resume: exit %d\n%s", code, c.stderr.String())
			}
			m2, _ := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
			if m2 == nil || m2.Totals.Results != 0 || m2.Totals.Skipped != m.Shard.Units {
				t.Errorf("resume of a finished shard: %+v", m2)
			}
		})
	}
}
