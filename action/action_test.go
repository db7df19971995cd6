package action

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/internal/github"
	"github.com/yardstick-eval/yardstick/internal/github/githubtest"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// repoRoot is the repository root: the action's path.
var repoRoot, _ = filepath.Abs("..")

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// yardstickBin builds the CLI from this checkout once per test binary: the
// action's install step uses it as a prebuilt binary (offline).
func yardstickBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "yardstick-action-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "yardstick")
		// -trimpath, like the version test, so both share the build cache.
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "./cmd/yardstick")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// metadata is action.yml, decoded strictly: an unknown key anywhere is an
// error (the schema check).
type metadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description        string  `yaml:"description"`
		Required           bool    `yaml:"required"`
		Default            *string `yaml:"default"`
		DeprecationMessage string  `yaml:"deprecationMessage"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

type step struct {
	Name             string            `yaml:"name"`
	ID               string            `yaml:"id"`
	If               string            `yaml:"if"`
	Uses             string            `yaml:"uses"`
	Run              string            `yaml:"run"`
	Shell            string            `yaml:"shell"`
	With             map[string]string `yaml:"with"`
	Env              map[string]string `yaml:"env"`
	WorkingDirectory string            `yaml:"working-directory"`
	ContinueOnError  bool              `yaml:"continue-on-error"`
}

func readMetadata(t *testing.T) *metadata {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var md metadata
	if err := dec.Decode(&md); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &md
}

var exprRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// TestActionMetadataSchema checks action.yml against the rules GitHub
// applies to composite action metadata.
func TestActionMetadataSchema(t *testing.T) {
	md := readMetadata(t)
	if md.Name == "" || md.Description == "" {
		t.Error("name and description are required")
	}
	icons := map[string]bool{"bar-chart-2": true, "activity": true, "check-circle": true}
	colors := map[string]bool{"white": true, "black": true, "yellow": true, "blue": true, "green": true, "orange": true, "red": true, "purple": true, "gray-dark": true}
	if !icons[md.Branding.Icon] || !colors[md.Branding.Color] {
		t.Errorf("branding %+v is not one GitHub accepts", md.Branding)
	}
	if md.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", md.Runs.Using)
	}
	for name, in := range md.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Required && in.Default != nil {
			t.Errorf("input %s is required and has a default", name)
		}
	}
	ids := map[string]bool{}
	for i, s := range md.Runs.Steps {
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("step %d (%s): exactly one of run and uses", i, s.Name)
		}
		if s.Run != "" && s.Shell == "" {
			t.Errorf("step %d (%s): a composite run step needs shell", i, s.Name)
		}
		if s.Uses != "" && !regexp.MustCompile(`^[\w.-]+/[\w.-]+@v\d+$`).MatchString(s.Uses) {
			t.Errorf("step %d: uses %q is not pinned to a major version", i, s.Uses)
		}
		if s.ID != "" {
			ids[s.ID] = true
		}
		if s.Run != "" {
			script := strings.Trim(strings.TrimSpace(s.Run), `"`)
			script = strings.Replace(script, "$GITHUB_ACTION_PATH", repoRoot, 1)
			if fi, err := os.Stat(script); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("step %d runs %s, which is not an executable file of the repository", i, s.Run)
			}
		}
	}
	for name, out := range md.Outputs {
		if out.Value == "" {
			t.Errorf("output %s: composite outputs need a value", name)
		}
	}
	// Every expression names a declared input, a step id or a known context.
	data, _ := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	for _, m := range exprRE.FindAllStringSubmatch(string(data), -1) {
		for _, ref := range regexp.MustCompile(`\b(inputs|steps)\.([\w-]+)`).FindAllStringSubmatch(m[1], -1) {
			if ref[1] == "inputs" {
				if _, ok := md.Inputs[ref[2]]; !ok {
					t.Errorf("expression %q uses undeclared input %s", m[0], ref[2])
				}
			} else if !ids[ref[2]] {
				t.Errorf("expression %q uses unknown step %s", m[0], ref[2])
			}
		}
	}
	// The README documents every input.
	readme, _ := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	for name := range md.Inputs {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README does not document the action input %s", name)
		}
	}
}

// runner executes the action's steps as the Actions runner does for a
// composite action: expressions are evaluated from inputs, contexts and
// earlier steps' outputs, run steps execute in bash with the step's env,
// $GITHUB_OUTPUT and $GITHUB_PATH are read after each step. uses steps are
// recorded (their effect, setting up Go and uploading, is checked by the
// caller).
type runner struct {
	t        *testing.T
	md       *metadata
	inputs   map[string]string
	env      map[string]string // the job's environment
	stepEnv  map[string]map[string]string
	outputs  map[string]map[string]string
	path     []string
	uploaded []string // paths the upload step would upload
	exit     map[string]int
}

func (r *runner) eval(s string) string {
	return exprRE.ReplaceAllStringFunc(s, func(e string) string {
		expr := exprRE.FindStringSubmatch(e)[1]
		switch {
		case strings.HasPrefix(expr, "inputs."):
			name := strings.TrimPrefix(expr, "inputs.")
			if v, ok := r.inputs[name]; ok {
				return v
			}
			in, ok := r.md.Inputs[name]
			if !ok {
				r.t.Fatalf("undeclared input %s", name)
			}
			if in.Default == nil {
				return ""
			}
			return r.eval(*in.Default)
		case expr == "github.token":
			return r.env["GITHUB_TOKEN"]
		case expr == "github.action_path":
			return repoRoot
		case strings.HasPrefix(expr, "steps."):
			parts := strings.Split(expr, ".")
			if len(parts) != 4 || parts[2] != "outputs" {
				r.t.Fatalf("unsupported expression %q", expr)
			}
			return r.outputs[parts[1]][parts[3]]
		}
		r.t.Fatalf("unsupported expression %q", expr)
		return ""
	})
}

// cond evaluates the if: conditions action.yml uses.
func (r *runner) cond(s string) bool {
	switch {
	case s == "":
		return true
	case strings.HasPrefix(s, "always() && "):
		lhs, rhs, ok := strings.Cut(strings.TrimPrefix(s, "always() && "), " != ")
		if !ok {
			r.t.Fatalf("unsupported condition %q", s)
		}
		return r.eval("${{ "+lhs+" }}") != strings.Trim(rhs, "'")
	}
	r.t.Fatalf("unsupported condition %q", s)
	return false
}

func (r *runner) run(dir string) {
	for i, s := range r.md.Runs.Steps {
		if !r.cond(s.If) {
			continue
		}
		if s.Uses != "" {
			if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
				for _, p := range strings.Split(strings.TrimSpace(r.eval(s.With["path"])), "\n") {
					r.uploaded = append(r.uploaded, strings.TrimSpace(p))
				}
			}
			continue
		}
		outFile := filepath.Join(dir, "output-"+string(rune('a'+i)))
		pathFile := filepath.Join(dir, "path-"+string(rune('a'+i)))
		script := filepath.Join(dir, "step.sh")
		os.WriteFile(script, []byte(r.eval(s.Run)), 0o644)
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = r.env["GITHUB_WORKSPACE"]
		env := map[string]string{}
		for k, v := range r.env {
			env[k] = v
		}
		for k, v := range s.Env {
			env[k] = r.eval(v)
		}
		for k, v := range r.stepEnv[s.Name] {
			env[k] = v
		}
		env["GITHUB_OUTPUT"], env["GITHUB_PATH"], env["GITHUB_ACTION_PATH"] = outFile, pathFile, repoRoot
		env["PATH"] = strings.Join(append(append([]string(nil), r.path...), os.Getenv("PATH")), ":")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				r.t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		r.exit[s.Name] = code
		r.t.Logf("step %q exited %d:\n%s", s.Name, code, out.String())
		if s.ID != "" {
			r.outputs[s.ID] = readOutputs(r.t, outFile)
		}
		if data, err := os.ReadFile(pathFile); err == nil {
			for _, p := range strings.Fields(string(data)) {
				r.path = append([]string{p}, r.path...)
			}
		}
		if code != 0 {
			return // the job stops at a failed step
		}
	}
}

func readOutputs(t *testing.T, path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Fatalf("%s: malformed output line %q", path, sc.Text())
		}
		out[k] = v
	}
	return out
}

// capitals answers the test suite right except for Poland.
func capitals(req providertest.WireRequest) string {
	last := req.Messages[len(req.Messages)-1].Content
	for country, city := range map[string]string{"France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Poland": "Krakow"} {
		if strings.Contains(last, country+"?") {
			return city
		}
	}
	return "?"
}

// TestActionRunsGatesAndComments runs the action on a pull-request event
// against a fake provider and a fake GitHub API.
func TestActionRunsGatesAndComments(t *testing.T) {
	bin := yardstickBin(t)
	tests := []struct {
		name     string
		inputs   map[string]string
		verdict  string
		gateCode int
	}{
		{"held", map[string]string{}, "pass", 0},
		{"crossed", map[string]string{"thresholds": "pass_rate >= 0.9\n  error_rate < 0.01\n"}, "fail", 99},
		{"crossed, not failing", map[string]string{"thresholds": "pass_rate >= 0.9", "fail-on-threshold": "false"}, "fail", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oa := providertest.NewOpenAIServer(t)
			oa.SetResponder(capitals)
			gh := githubtest.NewServer(t, "acme/app", "ghs_fake_token")
			gh.Add(12, "LGTM")
			gh.Add(12, "nit: typo")
			earlier := gh.Add(12, "old report\n"+github.Marker("")+"\n")
			gh.Add(12, "thanks")

			dir := t.TempDir()
			ws := filepath.Join(dir, "workspace")
			os.MkdirAll(filepath.Join(ws, "suites"), 0o755)
			suite, _ := os.ReadFile("testdata/capitals.yaml")
			os.WriteFile(filepath.Join(ws, "suites", "capitals.yaml"), suite, 0o644)
			event := filepath.Join(dir, "event.json")
			os.WriteFile(event, []byte(`{"number": 12, "pull_request": {"number": 12}}`), 0o644)
			summary := filepath.Join(dir, "summary.md")
			inputs := map[string]string{"suites": "suites/capitals.yaml", "targets": "openai:gpt-4o-mini"}
			for k, v := range tt.inputs {
				inputs[k] = v
			}
			r := &runner{t: t, md: readMetadata(t), inputs: inputs, outputs: map[string]map[string]string{}, exit: map[string]int{},
				env: map[string]string{
					"HOME": dir, "RUNNER_TEMP": filepath.Join(dir, "tmp"), "GITHUB_WORKSPACE": ws,
					"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event, "GITHUB_REPOSITORY": "acme/app",
					"GITHUB_API_URL": gh.URL(), "GITHUB_TOKEN": "ghs_fake_token", "GITHUB_STEP_SUMMARY": summary,
					"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": oa.URL(), "YARDSTICK_CACHE_DIR": filepath.Join(dir, "cache"),
					"GOFLAGS": os.Getenv("GOFLAGS"), "GOCACHE": os.Getenv("GOCACHE"),
				},
				// The install step takes the binary built from this checkout.
				stepEnv: map[string]map[string]string{"Install yardstick": {"YARDSTICK_BIN": bin}},
			}
			os.MkdirAll(r.env["RUNNER_TEMP"], 0o755)
			r.run(dir)

			if oa.Count() != 5 {
				t.Errorf("provider got %d requests, want 5", oa.Count())
			}
			out := r.outputs["run"]
			if out["verdict"] != tt.verdict {
				t.Errorf("verdict %q, want %q (outputs %v)", out["verdict"], tt.verdict, out)
			}
			if got := r.exit["Gate"]; got != tt.gateCode {
				t.Errorf("gate exited %d, want %d", got, tt.gateCode)
			}
			reportDir := filepath.Join(ws, out["report-dir"])
			report, err := os.ReadFile(filepath.Join(reportDir, "report.md"))
			if err != nil {
				t.Fatal(err)
			}
			// The earlier Yardstick comment was updated, in place, to report.md.
			cs := gh.Comments(12)
			if len(cs) != 4 {
				t.Fatalf("%d comments, want the 4 there were", len(cs))
			}
			var body string
			for _, c := range cs {
				if c.ID == earlier {
					body = c.Body
				}
			}
			if want := github.Body(string(report), ""); body != want {
				t.Errorf("comment body is not report.md:\n--- got\n%s\n--- want\n%s", body, want)
			}
			if !strings.Contains(body, map[string]string{"pass": "✅", "fail": "❌"}[tt.verdict]) {
				t.Errorf("comment lacks the verdict:\n%s", body)
			}
			// The step summary has the report; the artifact has report.html.
			if s, _ := os.ReadFile(summary); !bytes.Contains(s, bytes.TrimSpace(report)) {
				t.Errorf("step summary lacks report.md:\n%s", s)
			}
			for _, p := range r.uploaded {
				if _, err := os.Stat(filepath.Join(ws, p)); err != nil {
					t.Errorf("upload path %s: %v", p, err)
				}
			}
			if len(r.uploaded) == 0 || !strings.HasSuffix(r.uploaded[0], "report.html") {
				t.Errorf("uploaded %v, want report.html first", r.uploaded)
			}
		})
	}
}

// TestActionOnPushPostsNoComment: a push has no pull request; the run still
// gates and writes the step summary.
func TestActionOnPushPostsNoComment(t *testing.T) {
	bin := yardstickBin(t)
	oa := providertest.NewOpenAIServer(t)
	oa.SetResponder(capitals)
	gh := githubtest.NewServer(t, "acme/app", "tok")
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	os.MkdirAll(ws, 0o755)
	suite, _ := os.ReadFile("testdata/capitals.yaml")
	os.WriteFile(filepath.Join(ws, "capitals.yaml"), suite, 0o644)
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"ref": "refs/heads/main"}`), 0o644)
	r := &runner{t: t, md: readMetadata(t), inputs: map[string]string{"suites": "capitals.yaml", "targets": "openai:gpt-4o-mini"},
		outputs: map[string]map[string]string{}, exit: map[string]int{},
		env: map[string]string{"HOME": dir, "RUNNER_TEMP": dir, "GITHUB_WORKSPACE": ws, "GITHUB_EVENT_PATH": event,
			"GITHUB_REPOSITORY": "acme/app", "GITHUB_API_URL": gh.URL(), "GITHUB_TOKEN": "tok",
			"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": oa.URL(), "YARDSTICK_CACHE_DIR": filepath.Join(dir, "cache")},
		stepEnv: map[string]map[string]string{"Install yardstick": {"YARDSTICK_BIN": bin}},
	}
	r.run(dir)
	if r.exit["Gate"] != 0 || r.outputs["run"]["verdict"] != "pass" {
		t.Errorf("gate %d, outputs %v", r.exit["Gate"], r.outputs["run"])
	}
	if calls := gh.Calls(); len(calls) != 0 {
		t.Errorf("GitHub API called on a push: %v", calls)
	}
}

// TestGitLabSnippet runs the snippet's script as a GitLab job would and
// checks its artifacts are where it says.
func TestGitLabSnippet(t *testing.T) {
	bin := yardstickBin(t)
	data, err := os.ReadFile(filepath.Join(repoRoot, "ci", "gitlab", "yardstick.gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]struct {
		Image     string              `yaml:"image"`
		Variables map[string]string   `yaml:"variables"`
		Rules     []map[string]string `yaml:"rules"`
		Script    []string            `yaml:"script"`
		Artifacts struct {
			When     string            `yaml:"when"`
			ExposeAs string            `yaml:"expose_as"`
			Paths    []string          `yaml:"paths"`
			Reports  map[string]string `yaml:"reports"`
		} `yaml:"artifacts"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("snippet: %v", err)
	}
	job, ok := doc[".yardstick"]
	if !ok || job.Image == "" || len(job.Script) == 0 || job.Artifacts.When != "always" || job.Artifacts.Reports["junit"] == "" {
		t.Fatalf("snippet lacks the .yardstick job, its image, script or artifacts: %+v", job)
	}
	for _, tt := range []struct {
		thresholds, failOn string
		code               int
	}{{"", "true", 0}, {"pass_rate >= 0.9\nerror_rate < 0.1", "true", 99}, {"pass_rate >= 0.9", "false", 0}} {
		oa := providertest.NewOpenAIServer(t)
		oa.SetResponder(capitals)
		ws := t.TempDir()
		suite, _ := os.ReadFile("testdata/capitals.yaml")
		os.WriteFile(filepath.Join(ws, "capitals.yaml"), suite, 0o644)
		vars := map[string]string{}
		for k, v := range job.Variables {
			vars[k] = v
		}
		vars["YARDSTICK_SUITES"], vars["YARDSTICK_TARGETS"] = "capitals.yaml", "openai:gpt-4o-mini"
		vars["YARDSTICK_THRESHOLDS"], vars["YARDSTICK_FAIL_ON_THRESHOLD"] = tt.thresholds, tt.failOn
		vars["YARDSTICK_BIN"] = bin
		vars["OPENAI_API_KEY"], vars["OPENAI_BASE_URL"] = "sk-fake", oa.URL()
		vars["YARDSTICK_CACHE_DIR"], vars["HOME"], vars["PATH"] = filepath.Join(ws, ".cache"), ws, os.Getenv("PATH")
		cmd := exec.CommandContext(context.Background(), "bash", "-e", "-c", strings.Join(job.Script, "\n"))
		cmd.Dir = ws
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code {
			t.Errorf("thresholds %q: exit %d, want %d\n%s", tt.thresholds, code, tt.code, out)
		}
		if !strings.Contains(string(out), "## ") {
			t.Errorf("the job log lacks report.md:\n%s", out)
		}
		expand := func(s string) string { return strings.ReplaceAll(s, "$YARDSTICK_OUT", vars["YARDSTICK_OUT"]) }
		for _, p := range append(job.Artifacts.Paths, job.Artifacts.Reports["junit"]) {
			if _, err := os.Stat(filepath.Join(ws, expand(p))); err != nil {
				t.Errorf("artifact %s: %v", p, err)
			}
		}
		if oa.Count() != 5 {
			t.Errorf("provider got %d requests", oa.Count())
		}
	}
}
