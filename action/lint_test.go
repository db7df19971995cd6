package action

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// lint runs actionlint (as a library, offline; shellcheck and pyflakes off)
// on the workflow files of a project directory.
func lint(t *testing.T, project string, files ...string) {
	t.Helper()
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	proj, err := actionlint.NewProject(project)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles(files, proj)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// TestWorkflowUsingTheActionLints checks a workflow that uses the action
// with every input: actionlint reads action.yml for a local action, so a
// misnamed or missing required input, or bad metadata, is an error.
func TestWorkflowUsingTheActionLints(t *testing.T) {
	proj := t.TempDir()
	wf := filepath.Join(proj, ".github", "workflows", "eval.yml")
	os.MkdirAll(filepath.Dir(wf), 0o755)
	os.MkdirAll(filepath.Join(proj, ".git"), 0o755)
	meta, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(proj, "action.yml"), meta, 0o644)
	os.WriteFile(wf, []byte(`name: eval
on: [pull_request]
permissions: {contents: read, pull-requests: write}
jobs:
  eval:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: ys
        uses: ./
        with:
          suites: suites/support.yaml
          targets: openai:gpt-4o-mini
          thresholds: |
            pass_rate >= 0.85
          config: yardstick.yaml
          baseline: baseline.json
          args: --repeat 2
          out: run
          comment: "true"
          comment-key: support
          fail-on-threshold: "true"
          artifact-name: report
          version: v1.0.0
          github-token: ${{ github.token }}
        env:
          OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}
      - run: echo "verdict ${{ steps.ys.outputs.verdict }} exit ${{ steps.ys.outputs.exit-code }} in ${{ steps.ys.outputs.report-dir }}"
`), 0o644)
	lint(t, proj, wf)

	// A misspelt input is caught, so the check above can fail.
	bad := filepath.Join(proj, ".github", "workflows", "bad.yml")
	os.WriteFile(bad, []byte("on: push\njobs:\n  e:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        with: {suite: x}\n"), 0o644)
	var out bytes.Buffer
	l, _ := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	p, _ := actionlint.NewProject(proj)
	errs, err := l.LintFiles([]string{bad}, p)
	if err != nil || len(errs) == 0 {
		t.Errorf("a misspelt input and a missing required one passed actionlint (err %v)", err)
	}
}

// TestInitWorkflowLints lints the workflow `yardstick init` writes.
func TestInitWorkflowLints(t *testing.T) {
	bin := yardstickBin(t)
	proj := t.TempDir()
	os.MkdirAll(filepath.Join(proj, ".git"), 0o755)
	cmd := exec.Command(bin, "init", "--dir", proj)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	wf := filepath.Join(proj, ".github", "workflows", "yardstick.yml")
	data, err := os.ReadFile(wf)
	if err != nil {
		t.Fatal(err)
	}
	lint(t, proj, wf)
	// Its inputs are the action's, and the suite it names exists.
	md := readMetadata(t)
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok || !strings.HasPrefix(line, "          ") || strings.HasPrefix(strings.TrimSpace(line), "OPENAI") {
			continue
		}
		if _, declared := md.Inputs[k]; !declared {
			t.Errorf("init's workflow passes %q, not an input of action.yml", k)
		}
		if k == "suites" {
			if _, err := os.Stat(filepath.Join(proj, v)); err != nil {
				t.Errorf("workflow names suite %s: %v", v, err)
			}
		}
	}
}
