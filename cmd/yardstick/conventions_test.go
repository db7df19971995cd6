package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/internal/github"
	"github.com/yardstick-eval/yardstick/internal/github/githubtest"
	"github.com/yardstick-eval/yardstick/internal/table"
	"github.com/yardstick-eval/yardstick/suites"
)

// TestProvidersListAlignsHangul checks that a listing with Korean provider
// names lines its columns up by display width, as a terminal shows them.
func TestProvidersListAlignsHangul(t *testing.T) {
	config := filepath.Join(t.TempDir(), "yardstick.yaml")
	writeFile(t, config, `
providers:
  - name: 상담-모델
    type: openai
    model: gpt-4o-mini
  - name: fast
    type: ollama
    model: llama3.2
  - name: 한국어-요약기-큰모델
    type: openai
    model: gpt-4o
`)
	c := newCLI(t, nil)
	if code := c.run(context.Background(), "--config", config, "providers", "list"); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	var starts []int
	for _, line := range strings.Split(c.stdout.String(), "\n") {
		for _, typ := range []string{"TYPE", "openai", "ollama"} {
			if i := strings.Index(line, typ); i >= 0 && !strings.HasPrefix(line, "schemes") {
				starts = append(starts, table.Width(line[:i]))
				break
			}
		}
	}
	if len(starts) != 4 {
		t.Fatalf("want header + 3 rows, found %d:\n%s", len(starts), c.stdout.String())
	}
	for _, s := range starts {
		if s != starts[0] {
			t.Fatalf("TYPE column starts at display columns %v:\n%s", starts, c.stdout.String())
		}
	}
}

// TestVersionCarriesTheGitRevision builds the CLI from a clone of this
// checkout, as a user's `go build` or `go install` would, and checks that
// --version and version print the commit it was built from, and "+dirty"
// once the checkout has uncommitted changes. (Go stamps VCS information only
// when .git is a directory, so a git worktree is cloned first.)
func TestVersionCarriesTheGitRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	root, err := exec.Command(gitPath, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout")
	}
	rev := strings.TrimSpace(string(mustOutput(t, exec.Command(gitPath, "rev-parse", "HEAD"))))
	clone := filepath.Join(t.TempDir(), "src")
	mustOutput(t, exec.Command(gitPath, "clone", "--quiet", "--shared", "--no-checkout", strings.TrimSpace(string(root)), clone))
	mustOutput(t, exec.Command(gitPath, "-C", clone, "checkout", "--quiet", rev))

	build := func() string {
		bin := filepath.Join(t.TempDir(), "yardstick")
		cmd := exec.Command("go", "build", "-buildvcs=true", "-trimpath", "-o", bin, "./cmd/yardstick")
		cmd.Dir = clone
		mustOutput(t, cmd)
		return bin
	}
	check := func(bin string, dirty bool) {
		for _, arg := range []string{"--version", "version"} {
			out := string(mustOutput(t, exec.Command(bin, arg)))
			if !strings.HasPrefix(out, "yardstick ") || !strings.Contains(out, rev[:12]) {
				t.Errorf("%s = %q, want the revision %s", arg, out, rev[:12])
			}
			if strings.Contains(out, "+dirty") != dirty {
				t.Errorf("%s = %q, want +dirty: %v", arg, out, dirty)
			}
		}
	}
	check(build(), false)
	// An uncommitted change marks the build dirty (a non-Go file, so only
	// the link step reruns).
	writeFile(t, filepath.Join(clone, "README.md"), "changed\n")
	check(build(), true)
}

func mustOutput(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return out
}

func TestVersionFlagInProcess(t *testing.T) {
	c := newCLI(t, nil)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if code := c.run(context.Background(), args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, c.stderr.String())
		}
		if want := "yardstick " + versionLine() + "\n"; c.stdout.String() != want {
			t.Errorf("%v printed %q, want %q", args, c.stdout.String(), want)
		}
	}
}

// complete runs the shell-completion entry point in-process and returns the
// candidates (without descriptions) and the directive line.
func (c *cli) complete(args ...string) ([]string, string) {
	c.t.Helper()
	if code := c.run(context.Background(), append([]string{"__complete"}, args...)...); code != exitOK {
		c.t.Fatalf("__complete %v: exit %d\n%s", args, code, c.stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(c.stdout.String()), "\n")
	var cands []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		cands = append(cands, name)
	}
	return cands, lines[len(lines)-1]
}

func TestCompletion(t *testing.T) {
	config := filepath.Join(t.TempDir(), "yardstick.yaml")
	writeFile(t, config, `
providers:
  - name: support-bot
    type: openai
    model: gpt-4o-mini
  - type: ollama
    model: qwen2.5:7b
prices:
  ollama:
    qwen2.5:7b: {input_per_m: 0, output_per_m: 0}
`)
	tests := []struct {
		name      string
		args      []string
		want      []string // candidates that must be offered
		notWant   []string
		directive string
	}{
		{"-m offers schemes and config names", []string{"--config", config, "run", "x.yaml", "-m", ""},
			[]string{"openai:", "gemini:", "ollama:", "local:", "support-bot", "ollama:qwen2.5:7b"}, nil, ":6"},
		{"-m prefix", []string{"--config", config, "run", "x.yaml", "-m", "su"}, []string{"support-bot"}, []string{"openai:"}, ":4"},
		{"-m models after the scheme", []string{"--config", config, "run", "x.yaml", "-m", "openai:gpt-4o"},
			[]string{"openai:gpt-4o", "openai:gpt-4o-mini"}, []string{"openai:gpt-5"}, ":4"},
		{"-m config prices", []string{"--config", config, "run", "x.yaml", "-m", "ollama:q"}, []string{"ollama:qwen2.5:7b"}, nil, ":4"},
		{"check -m", []string{"--config", config, "providers", "check", "-m", "gem"}, []string{"gemini:"}, nil, ":6"},
		{"suite names", []string{"run", ""}, []string{"customer-support", "json-extraction", "testdata/"}, nil, ":6"},
		{"suite files", []string{"run", "testdata/ti"}, []string{"testdata/tiny.yaml"}, []string{"customer-support"}, ":4"},
		{"run --format", []string{"run", "x.yaml", "--format", ""}, []string{"text", "markdown", "json", "none"}, []string{"junit"}, ":4"},
		{"report --format", []string{"report", "runs/x", "--format", ""}, []string{"text", "markdown", "json", "pr", "junit", "html"}, nil, ":4"},
		{"compare -f", []string{"compare", "a", "b", "-f", "m"}, []string{"markdown"}, []string{"text"}, ":4"},
		{"merge --format", []string{"merge", "a", "--format", ""}, []string{"text", "none"}, nil, ":4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dir := newCLI(t, nil).complete(tt.args...)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("candidates %v lack %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if slices.Contains(got, w) {
					t.Errorf("candidates %v include %q", got, w)
				}
			}
			if dir != tt.directive {
				t.Errorf("directive %s, want %s", dir, tt.directive)
			}
		})
	}
}

// ttyBuffer stands in for a terminal.
type ttyBuffer struct{ bytes.Buffer }

func (*ttyBuffer) IsTerminal() bool { return true }

func TestColourOnlyOnATerminalWithoutNoColor(t *testing.T) {
	gateArgs := []string{"gate", "testdata/run", "--threshold", "pass_rate >= 0.6"}
	reportArgs := []string{"report", "testdata/run", "--threshold", "pass_rate >= 0.6"}
	runOut := func(tty bool, env map[string]string, args []string) string {
		var out bytes.Buffer
		var w io.Writer = &out
		var tb ttyBuffer
		if tty {
			w = &tb
		}
		var stderr bytes.Buffer
		run(context.Background(), args, strings.NewReader(""), w, &stderr, func(k string) string { return env[k] })
		if tty {
			return tb.String()
		}
		return out.String()
	}
	for _, args := range [][]string{gateArgs, reportArgs} {
		plain := runOut(false, nil, args)
		if strings.Contains(plain, "\x1b") {
			t.Errorf("%v: escape codes in non-terminal output:\n%q", args, plain)
		}
		if got := runOut(true, map[string]string{"NO_COLOR": "1"}, args); got != plain {
			t.Errorf("%v: NO_COLOR output differs from plain output:\n%q\nwant\n%q", args, got, plain)
		}
		if got := runOut(true, map[string]string{"TERM": "dumb"}, args); got != plain {
			t.Errorf("%v: TERM=dumb output has colour:\n%q", args, got)
		}
		coloured := runOut(true, nil, args)
		for _, want := range []string{ansiRed + "✗" + ansiReset, ansiGreen + "✓" + ansiReset} {
			if !strings.Contains(coloured, want) {
				t.Errorf("%v: terminal output lacks %q:\n%s", args, want, coloured)
			}
		}
		// Colour adds escape codes and nothing else.
		stripped := strings.NewReplacer(ansiRed, "", ansiGreen, "", ansiReset, "").Replace(coloured)
		if stripped != plain {
			t.Errorf("%v: coloured output differs from plain beyond escape codes:\n%s\nwant\n%s", args, stripped, plain)
		}
	}
	if got := runOut(true, nil, reportArgs); !strings.Contains(got, "Verdict: "+ansiRed+"FAIL"+ansiReset) {
		t.Errorf("report verdict FAIL not red:\n%s", got)
	}
	if got := runOut(true, nil, []string{"report", "testdata/run", "--threshold", "pass_rate >= 0.1"}); !strings.Contains(got, "Verdict: "+ansiGreen+"PASS"+ansiReset) {
		t.Errorf("report verdict PASS not green:\n%s", got)
	}
}

func TestQuietPrintsOnlyTheVerdict(t *testing.T) {
	_, env := fakeOpenAI(t)
	tests := []struct {
		name   string
		extra  []string
		code   int
		stdout string // regexp over the whole output
	}{
		{"held", nil, exitOK, `^Verdict: PASS — the threshold passed\n$`},
		{"crossed", []string{"--threshold", "pass_rate >= 0.9"}, exitThresholds,
			`^Verdict: FAIL — 1 of 2 thresholds crossed\n✗  pass_rate >= 0.9  \{suite:tiny,target:openai:gpt-4o-mini\}  observed 0\.800 \[[0-9., ]+\] \(n=10\)  \[--threshold\]\n$`},
		{"an explicit --format still prints", []string{"--format", "json"}, exitOK, `^\{`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, env)
			args := append([]string{"run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", filepath.Join(c.dir, "run")}, tt.extra...)
			if code := c.run(context.Background(), args...); code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, c.stderr.String())
			}
			if !regexp.MustCompile(tt.stdout).MatchString(c.stdout.String()) {
				t.Errorf("stdout does not match %q:\n%s", tt.stdout, c.stdout.String())
			}
			if c.stderr.Len() > 0 {
				t.Errorf("-q wrote to stderr:\n%s", c.stderr.String())
			}
		})
	}
}

func TestInitWritesAProjectThatValidates(t *testing.T) {
	for _, ci := range []string{"github", "gitlab", "none"} {
		t.Run(ci, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "proj")
			c := newCLI(t, nil)
			if code := c.run(context.Background(), "init", "--dir", dir, "--ci", ci, "-m", "vllm:meta-llama/Llama-3.1-8B-Instruct"); code != exitOK {
				t.Fatalf("exit %d\n%s", code, c.stderr.String())
			}
			// The suite loads and validates; the config defines the provider.
			suite := filepath.Join(dir, "suites", "starter.yaml")
			if code := c.run(context.Background(), "--config", filepath.Join(dir, "yardstick.yaml"), "suites", "validate", suite); code != exitOK {
				t.Fatalf("suite does not validate: %s", c.stderr.String())
			}
			s, err := suites.Load(suite, suites.LoadOptions{})
			if err != nil || len(s.Thresholds) == 0 {
				t.Fatalf("suites.Load: %v (thresholds %v)", err, s)
			}
			if code := c.run(context.Background(), "--config", filepath.Join(dir, "yardstick.yaml"), "providers", "list"); code != exitOK ||
				!strings.Contains(c.stdout.String(), "llama-3.1-8b-instruct  vllm") {
				t.Fatalf("providers list:\n%s%s", c.stdout.String(), c.stderr.String())
			}
			wf := map[string]string{"github": ".github/workflows/yardstick.yml", "gitlab": ".gitlab-ci.yml"}[ci]
			if wf != "" {
				data, err := os.ReadFile(filepath.Join(dir, wf))
				if err != nil {
					t.Fatal(err)
				}
				var doc map[string]any
				if err := yaml.Unmarshal(data, &doc); err != nil {
					t.Fatalf("%s: %v", wf, err)
				}
				if !strings.Contains(string(data), "suites/starter.yaml") || !strings.Contains(string(data), "llama-3.1-8b-instruct") {
					t.Errorf("%s does not run the starter suite on the provider:\n%s", wf, data)
				}
			}

			// A second init refuses, naming the files and writing nothing.
			os.WriteFile(filepath.Join(dir, "yardstick.yaml"), []byte("# mine\n"), 0o644)
			if code := c.run(context.Background(), "init", "--dir", dir, "--ci", ci); code != exitUsage || !strings.Contains(c.stderr.String(), "--force") {
				t.Fatalf("second init: exit %d\n%s", code, c.stderr.String())
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "yardstick.yaml")); string(data) != "# mine\n" {
				t.Errorf("yardstick.yaml overwritten without --force")
			}
			if code := c.run(context.Background(), "init", "--dir", dir, "--ci", ci, "--force"); code != exitOK {
				t.Fatalf("init --force: exit %d\n%s", code, c.stderr.String())
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "yardstick.yaml")); string(data) == "# mine\n" {
				t.Errorf("--force did not overwrite")
			}
		})
	}
	c := newCLI(t, nil)
	if code := c.run(context.Background(), "init", "--dir", t.TempDir(), "--ci", "jenkins"); code != exitUsage {
		t.Errorf("--ci jenkins: exit %d", code)
	}
	if code := c.run(context.Background(), "init", "--dir", t.TempDir(), "-m", "opneai:x"); code != exitUsage {
		t.Errorf("unknown scheme: exit %d", code)
	}
}

func TestCIComment(t *testing.T) {
	gh := githubtest.NewServer(t, "acme/app", "tok")
	dir := t.TempDir()
	report := filepath.Join(dir, "report.md")
	writeFile(t, report, "## ✅ tiny: all 2 thresholds passed\n")
	event := filepath.Join(dir, "event.json")
	writeFile(t, event, `{"pull_request": {"number": 3}}`)
	env := map[string]string{"GITHUB_TOKEN": "tok", "GITHUB_REPOSITORY": "acme/app", "GITHUB_EVENT_PATH": event, "GITHUB_API_URL": gh.URL()}
	c := newCLI(t, env)
	for i, verb := range []string{"posted", "updated"} {
		if code := c.run(context.Background(), "ci", "comment", report); code != exitOK || !strings.HasPrefix(c.stdout.String(), verb) {
			t.Fatalf("run %d: exit %d\n%s%s", i, code, c.stdout.String(), c.stderr.String())
		}
	}
	cs := gh.Comments(3)
	if len(cs) != 1 || cs[0].Body != github.Body("## ✅ tiny: all 2 thresholds passed\n", "") {
		t.Fatalf("comments %+v", cs)
	}
	// A push event: nothing posted, exit 0.
	writeFile(t, event, `{"ref": "refs/heads/main"}`)
	if code := c.run(context.Background(), "ci", "comment", report); code != exitOK || !strings.Contains(c.stderr.String(), "not about a pull request") {
		t.Errorf("push: exit %d\n%s", code, c.stderr.String())
	}
	// No token: a usage error that says what to set.
	delete(env, "GITHUB_TOKEN")
	if code := c.run(context.Background(), "ci", "comment", report, "--pr", "3"); code != exitUsage || !strings.Contains(c.stderr.String(), "GITHUB_TOKEN") {
		t.Errorf("no token: exit %d\n%s", code, c.stderr.String())
	}
	// A refused token: exit 1 naming the cause, the token not printed.
	env["GITHUB_TOKEN"] = "wrong-secret"
	if code := c.run(context.Background(), "ci", "comment", report, "--pr", "3"); code != exitFailure ||
		!strings.Contains(c.stderr.String(), "401") || strings.Contains(c.stderr.String(), "wrong-secret") {
		t.Errorf("bad token: exit %d\n%s", code, c.stderr.String())
	}
}

// TestProgressLinesWhenNotATerminal: stderr is not a terminal, so progress
// comes as plain periodic lines with the per-target facts, and no escapes.
func TestProgressLinesWhenNotATerminal(t *testing.T) {
	_, env := fakeOpenAI(t)
	c := newCLI(t, env)
	code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-m", "openai:gpt-4o", "--out", filepath.Join(c.dir, "run"), "--format", "none")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	errOut := c.stderr.String()
	for _, re := range []string{
		`(?m)^finished: 20/20 \(100\.0%\) .*· \$0\.\d{4,} · `,
		`(?m)^  openai:gpt-4o-mini  10/10  pass 80\.0%  0 errors  0 retries +\$0\.\d+$`,
		`(?m)^  openai:gpt-4o       10/10  pass 80\.0%  0 errors  0 retries +\$0\.\d+$`,
	} {
		if !regexp.MustCompile(re).MatchString(errOut) {
			t.Errorf("stderr does not match %s:\n%s", re, errOut)
		}
	}
	if strings.ContainsAny(errOut, "\x1b\r") {
		t.Errorf("non-terminal progress has control codes: %q", errOut)
	}
}
