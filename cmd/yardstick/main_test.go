package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// capitals answers the tiny suite: right for every country but Poland and
// Switzerland, so its pass rate is 0.8.
var capitals = map[string]string{
	"France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid",
	"Portugal": "Lisbon", "Netherlands": "Amsterdam", "Belgium": "Brussels",
	"Austria": "Vienna", "Switzerland": "Zurich", "Poland": "Krakow",
}

func capitalResponder(req providertest.WireRequest) string {
	last := req.Messages[len(req.Messages)-1].Content
	for country, city := range capitals {
		if strings.Contains(last, country+"?") {
			return city
		}
	}
	return "I don't know"
}

// cli runs the CLI in-process.
type cli struct {
	t      *testing.T
	env    map[string]string
	dir    string
	stdout bytes.Buffer
	stderr bytes.Buffer
}

func newCLI(t *testing.T, env map[string]string) *cli {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	c := &cli{t: t, env: env, dir: t.TempDir()}
	if _, ok := env["YARDSTICK_CACHE_DIR"]; !ok {
		env["YARDSTICK_CACHE_DIR"] = filepath.Join(c.dir, "cache")
	}
	return c
}

func (c *cli) run(ctx context.Context, args ...string) int {
	c.t.Helper()
	c.stdout.Reset()
	c.stderr.Reset()
	return run(ctx, args, strings.NewReader(""), &c.stdout, &c.stderr, func(k string) string { return c.env[k] })
}

func fakeOpenAI(t *testing.T) (*providertest.OpenAIServer, map[string]string) {
	srv := providertest.NewOpenAIServer(t)
	srv.SetResponder(capitalResponder)
	return srv, map[string]string{"OPENAI_API_KEY": "sk-test-secret-0000", "OPENAI_BASE_URL": srv.URL()}
}

func TestExitCodes(t *testing.T) {
	_, env := fakeOpenAI(t)
	tiny := filepath.Join("testdata", "tiny.yaml")
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    int
		stderr  string // regexp the error output must match
		noCalls bool
	}{
		{name: "help", args: []string{"--help"}, want: exitOK},
		{name: "no args prints help", args: nil, want: exitOK},
		{name: "unknown command", args: []string{"runn"}, want: exitUsage, stderr: `unknown command "runn"`},
		{name: "unknown flag", args: []string{"run", "--bogus", tiny}, want: exitUsage, stderr: `unknown flag: --bogus`},
		{name: "run needs a suite", args: []string{"run", "-m", "openai:gpt-4o-mini"}, want: exitUsage},
		{name: "no target", args: []string{"run", tiny}, want: exitUsage, stderr: "no target"},
		{name: "bad threshold", env: env, args: []string{"run", tiny, "-m", "openai:gpt-4o-mini", "--threshold", "pass_rat >= 0.8"}, want: exitUsage, stderr: `--threshold: threshold "pass_rat >= 0.8"`},
		{name: "bad suite file", env: env, args: []string{"run", "testdata/bad.yaml", "-m", "openai:gpt-4o-mini"}, want: exitUsage, stderr: `bad.yaml:\d+: `},
		{name: "missing suite", env: env, args: []string{"run", "nope.yaml", "-m", "openai:gpt-4o-mini"}, want: exitUsage, stderr: `unknown suite "nope.yaml"`},
		{name: "missing key", env: map[string]string{}, args: []string{"run", tiny, "-m", "openai:gpt-4o-mini"}, want: exitUsage, stderr: "OPENAI_API_KEY is not set"},
		{name: "unknown scheme", env: env, args: []string{"run", tiny, "-m", "opneai:gpt-4o-mini"}, want: exitUsage, stderr: `did you mean "openai"`},
		{name: "thresholds hold", env: env, args: []string{"run", tiny, "-m", "openai:gpt-4o-mini", "-q"}, want: exitOK},
		{name: "threshold crossed", env: env, args: []string{"run", tiny, "-m", "openai:gpt-4o-mini", "-q", "--threshold", "pass_rate >= 0.9"}, want: exitThresholds},
		{name: "budget reached", env: env, args: []string{"run", tiny, "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "-c", "1", "--budget", "0.0000001"}, want: exitFailure, stderr: `budget \$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, tt.env)
			args := tt.args
			if len(args) > 0 && args[0] == "run" {
				args = append(args, "--out", filepath.Join(c.dir, "run"))
			}
			got := c.run(context.Background(), args...)
			if got != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.want, c.stdout.String(), c.stderr.String())
			}
			if tt.stderr != "" && !regexp.MustCompile(tt.stderr).MatchString(c.stderr.String()) {
				t.Errorf("stderr does not match %q:\n%s", tt.stderr, c.stderr.String())
			}
			if strings.Contains(c.stdout.String()+c.stderr.String(), "sk-test-secret") {
				t.Errorf("the API key leaked into the output")
			}
		})
	}
}

func TestRunWritesResultsAndReports(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "--out", out); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Count() != 10 {
		t.Errorf("requests = %d, want 10", srv.Count())
	}
	for _, req := range srv.Requests() {
		if req.Temperature == nil || *req.Temperature != 0 {
			t.Fatalf("temperature 0 did not reach the wire: %v", req.Temperature)
		}
	}
	for _, name := range []string{resultsName, bench.ManifestName, "summary.json", "report.md", "junit.xml", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
	n := 0
	f, _ := os.Open(filepath.Join(out, resultsName))
	defer f.Close()
	for r, err := range bench.ReadResults(f, resultsName) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r.Pass != (r.Output == r.Expected) {
			t.Errorf("%s: pass=%v for output %q, expected %q", r.CaseID, r.Pass, r.Output, r.Expected)
		}
	}
	if n != 10 {
		t.Errorf("results = %d, want 10", n)
	}
	if !strings.Contains(c.stdout.String(), "tiny") {
		t.Errorf("summary does not name the suite:\n%s", c.stdout.String())
	}

	// A second run is served from the response cache: no request is made.
	before := srv.Count()
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", filepath.Join(c.dir, "run2")); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if srv.Count() != before {
		t.Errorf("cached run made %d requests, want 0", srv.Count()-before)
	}
	// Reusing a run directory without --resume is refused.
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", out); code != exitUsage {
		t.Errorf("reusing --out: exit %d, want %d", code, exitUsage)
	}
}

func TestInterruptThenResume(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	out := filepath.Join(c.dir, "run")
	srv.SetDefault(providertest.Behavior{Delay: 50 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	go func() {
		for srv.Count() < 4 {
			time.Sleep(5 * time.Millisecond)
		}
		once.Do(cancel)
	}()
	code := c.run(ctx, "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "-c", "1", "--out", out)
	once.Do(cancel)
	if code != exitInterrupted {
		t.Fatalf("interrupted run: exit %d, want %d\n%s", code, exitInterrupted, c.stderr.String())
	}
	keys, err := bench.ReadKeys(filepath.Join(out, resultsName))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 || len(keys) >= 10 {
		t.Fatalf("interrupted run kept %d results, want some but not all", len(keys))
	}
	m, err := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
	if err != nil || m.Status != "interrupted" {
		t.Fatalf("manifest status = %q (%v), want interrupted", m.Status, err)
	}

	srv.SetDefault(providertest.Behavior{})
	before := srv.Count()
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--no-cache", "--resume", "--out", out); code != exitOK {
		t.Fatalf("resumed run: exit %d\n%s", code, c.stderr.String())
	}
	after, _ := bench.ReadKeys(filepath.Join(out, resultsName))
	if len(after) != 10 {
		t.Errorf("after resume: %d results, want 10", len(after))
	}
	// The resumed run asks exactly for the cases without a result, once each.
	asked := map[string]int{}
	for _, r := range srv.Requests()[before:] {
		asked[caseOf(r)]++
	}
	for id, n := range asked {
		if n != 1 {
			t.Errorf("case %s requested %d times by the resumed run", id, n)
		}
		if _, done := keys[bench.Key{Suite: "tiny", CaseID: id, Target: "openai:gpt-4o-mini"}]; done {
			t.Errorf("case %s already had a result and was requested again", id)
		}
	}
	if len(asked) != 10-len(keys) {
		t.Errorf("resumed run asked for %d cases, want %d", len(asked), 10-len(keys))
	}
}

var countryIDs = map[string]string{
	"France": "fr", "Germany": "de", "Italy": "it", "Spain": "es", "Portugal": "pt",
	"Netherlands": "nl", "Belgium": "be", "Austria": "at", "Switzerland": "ch", "Poland": "pl",
}

// caseOf maps a tiny-suite request back to its case id.
func caseOf(r providertest.WireRequest) string {
	last := r.Messages[len(r.Messages)-1].Content
	for country, id := range countryIDs {
		if strings.Contains(last, country+"?") {
			return id
		}
	}
	return "?"
}

func TestResumeRefusesAChangedSuite(t *testing.T) {
	_, env := fakeOpenAI(t)
	c := newCLI(t, env)
	suite := filepath.Join(c.dir, "tiny.yaml")
	tiny, _ := os.ReadFile("testdata/tiny.yaml")
	writeFile(t, suite, string(tiny))
	out := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--out", out); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	writeFile(t, suite, strings.Replace(string(tiny), "city name only", "city only", 1))
	if code := c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--resume", "--out", out); code != exitUsage || !strings.Contains(c.stderr.String(), `suite "tiny" changed`) {
		t.Errorf("resume of a changed suite: exit %d\n%s", code, c.stderr.String())
	}
	if code := c.run(context.Background(), "run", suite, "-m", "openai:gpt-4o-mini", "-q", "--resume", "--force", "--out", out); code != exitOK {
		t.Errorf("resume --force: exit %d\n%s", code, c.stderr.String())
	}
}

func TestCacheInfoAndClear(t *testing.T) {
	srv, env := fakeOpenAI(t)
	c := newCLI(t, env)
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", filepath.Join(c.dir, "r1")); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if code := c.run(context.Background(), "cache", "info"); code != exitOK || !strings.Contains(c.stdout.String(), ": 10 entries,") {
		t.Fatalf("cache info: exit %d\n%s%s", code, c.stdout.String(), c.stderr.String())
	}
	if code := c.run(context.Background(), "cache", "clear"); code != exitOK || !strings.Contains(c.stdout.String(), "deleted 10 entries") {
		t.Fatalf("cache clear: exit %d\n%s%s", code, c.stdout.String(), c.stderr.String())
	}
	before := srv.Count()
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", filepath.Join(c.dir, "r2")); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	if got := srv.Count() - before; got != 10 {
		t.Errorf("after clear the run made %d requests, want 10", got)
	}
}

func TestNestedCommandUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"suites", "export", "--bogus", "customer-support"},
		{"cache", "clear", "--bogus"},
		{"baseline", "nope"},
		{"providers", "list", "extra"},
	} {
		c := newCLI(t, nil)
		if code := c.run(context.Background(), args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, c.stderr.String())
		}
	}
	c := newCLI(t, nil)
	if code := c.run(context.Background(), "suites"); code != exitOK || !strings.Contains(c.stdout.String(), "validate") {
		t.Errorf("suites without a subcommand: exit %d, want help\n%s", code, c.stdout.String())
	}
}

func TestRunAppendsToGitHubStepSummary(t *testing.T) {
	_, env := fakeOpenAI(t)
	c := newCLI(t, env)
	summary := filepath.Join(c.dir, "step-summary.md")
	writeFile(t, summary, "earlier step\n")
	c.env["GITHUB_STEP_SUMMARY"] = summary
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", "openai:gpt-4o-mini", "-q", "--out", filepath.Join(c.dir, "run")); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), "earlier step\n") || !strings.Contains(string(got), "pass_rate >= 0.5") {
		t.Errorf("step summary was not appended with the PR report:\n%s", got)
	}
}
