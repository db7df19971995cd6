package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestShardedWorkflowRuns runs the yardstick command lines of
// examples/github-actions/yardstick-sharded.yml in-process, as the matrix
// would (expressions and the environment filled in as Actions does), against
// a fake OpenAI: every shard, then the merge, which must gate the whole run.
func TestShardedWorkflowRuns(t *testing.T) {
	data, err := os.ReadFile("../../examples/github-actions/yardstick-sharded.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Env  map[string]string `yaml:"env"`
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct {
					Shard []int `yaml:"shard"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
			Steps []struct {
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
				With map[string]string `yaml:"with"`
				Uses string            `yaml:"uses"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	srv := providertest.NewOpenAIServer(t, providertest.WithoutRecording())
	srv.SetResponder(func(req providertest.WireRequest) string { return "order_status" })
	work := t.TempDir()
	argv := func(line string, vars map[string]string) []string {
		for k, v := range vars {
			line = strings.ReplaceAll(line, k, v)
		}
		var out []string
		for _, f := range strings.Fields(line) {
			f = strings.Trim(f, `"`)
			if strings.Contains(f, "*") { // the shell's glob
				m, _ := filepath.Glob(filepath.Join(work, f))
				for _, p := range m {
					out = append(out, p)
				}
				continue
			}
			if f == "--out" || strings.HasPrefix(f, "-") || len(out) == 0 {
				out = append(out, f)
				continue
			}
			if out[len(out)-1] == "--out" {
				f = filepath.Join(work, f)
			}
			out = append(out, f)
		}
		if out[0] != "yardstick" {
			t.Fatalf("not a yardstick command: %q", line)
		}
		return out[1:]
	}
	suite := wf.Env["SUITE"]
	shardJob, mergeJob := wf.Jobs["shard"], wf.Jobs["merge"]
	n := len(shardJob.Strategy.Matrix.Shard)
	for _, m := range shardJob.Strategy.Matrix.Shard {
		for _, s := range shardJob.Steps {
			if !strings.HasPrefix(s.Run, "yardstick run") {
				continue
			}
			vars := map[string]string{"${{ matrix.shard }}": strconv.Itoa(m), "${{ strategy.job-total }}": strconv.Itoa(n), "$SUITE": suite}
			env := map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.URL()}
			for k, v := range s.Env {
				if !strings.Contains(v, "secrets.") {
					env[k] = argv("yardstick "+v, vars)[0]
				}
			}
			c := newCLI(t, env)
			args := argv(s.Run, vars)
			if code := c.run(context.Background(), args...); code != exitOK {
				t.Fatalf("shard %d: yardstick %s: exit %d\n%s", m, strings.Join(args, " "), code, c.stderr.String())
			}
		}
	}
	// The artifacts land in shards/<name>/, as download-artifact lays them out.
	for _, m := range shardJob.Strategy.Matrix.Shard {
		from := filepath.Join(work, "shard-"+strconv.Itoa(m))
		to := filepath.Join(work, "shards", "yardstick-shard-"+strconv.Itoa(m))
		os.MkdirAll(filepath.Dir(to), 0o755)
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	ran := false
	for _, s := range mergeJob.Steps {
		if !strings.HasPrefix(s.Run, "yardstick merge") {
			continue
		}
		ran = true
		summary := filepath.Join(work, "step-summary.md")
		c := newCLI(t, map[string]string{"GITHUB_STEP_SUMMARY": summary})
		args := argv(s.Run, map[string]string{"$SUITE": suite})
		// The canned answer is wrong for most intents: the suite's own
		// pass_rate threshold is crossed, and the merge is what says so.
		if code := c.run(context.Background(), args...); code != exitThresholds {
			t.Fatalf("yardstick %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitThresholds, c.stderr.String())
		}
		if !regexp.MustCompile(`pass_rate >= 0\.8`).MatchString(c.stdout.String()) {
			t.Errorf("the merge's Markdown does not show the suite's threshold:\n%s", c.stdout.String())
		}
		for _, name := range []string{"report.md", "summary.json", resultsName} {
			if _, err := os.Stat(filepath.Join(work, "merged", name)); err != nil {
				t.Errorf("merged run has no %s", name)
			}
		}
		if st, err := os.Stat(summary); err != nil || st.Size() == 0 {
			t.Errorf("the merge appended nothing to $GITHUB_STEP_SUMMARY")
		}
	}
	if !ran {
		t.Fatal("the merge job runs no yardstick merge")
	}
}
