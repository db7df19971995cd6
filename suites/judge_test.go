package suites

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// noCalls is a provider the load tests must never call.
type noCalls struct{ t *testing.T }

func (p noCalls) Generate(context.Context, *providers.Request) (*providers.Response, error) {
	p.t.Error("a judge provider was called while loading")
	return nil, errors.New("not called in load tests")
}

// fakeJudge stands in for the CLI's registry-backed hook.
func fakeJudge(t *testing.T) func(string) (providers.Provider, string, error) {
	return func(target string) (providers.Provider, string, error) {
		switch {
		case target == "fake" || target == "openai:gpt-4o-mini":
			return noCalls{t}, strings.TrimPrefix(target, "openai:"), nil
		case strings.HasPrefix(target, "keyless:"):
			return nil, "", errors.New("OPENAI_API_KEY is not set")
		}
		return nil, "", fmt.Errorf("unknown provider %q (known: openai, gemini, ollama)", target)
	}
}

const judgeHead = validHead + `cases: [{id: a, vars: {text: hi}}]
scorers:
`

var judgeMalformed = []struct {
	name  string
	files map[string]string
	want  []string
}{
	{"target the hook rejects", map[string]string{"suite.yaml": judgeHead + `  - type: judge
    model: nope:x
    rubric: Polite.
`}, []string{`suite.yaml:7: scorers[0].model: unknown provider "nope:x" (known: openai, gemini, ollama)`}},

	{"hook error without the target", map[string]string{"suite.yaml": judgeHead + `  - {type: not-judge, model: "keyless:gpt-4o", rubric: Rude.}
`}, []string{`suite.yaml:6: scorers[0].model: judge model "keyless:gpt-4o": OPENAI_API_KEY is not set`}},

	{"rubric variable a case lacks", map[string]string{"suite.yaml": validHead + `cases:
  - {id: a, vars: {text: hi, criteria: polite}}
  - {id: b, vars: {text: yo}}
scorers:
  - {type: judge, model: "openai:gpt-4o-mini", rubric: "Meets: {{.criteria}}"}
`}, []string{`suite.yaml:6: case "b": scorers[0].rubric: missing variable "criteria"`}},

	{"rubric variable a dataset row lacks", map[string]string{"suite.yaml": validHead + `cases: {file: cases.jsonl}
scorers:
  - {type: judge, model: fake, rubric: "Meets: {{.criteria}}"}
`, "cases.jsonl": `{"id": "a", "text": "hi", "criteria": "polite"}
{"id": "b", "text": "yo"}
`}, []string{`cases.jsonl:2: case "b": scorers[0].rubric: missing variable "criteria"`}},

	{"rubric needs an expected answer", map[string]string{"suite.yaml": judgeHead + `  - {type: judge, model: fake, rubric: "Agrees with {{.expected}}"}
`}, []string{`suite.yaml:4: case "a": expected: scorers[0] (judge): the rubric uses {{.expected}} but the case has no expected answer`}},

	{"rubric syntax error in a block", map[string]string{"suite.yaml": judgeHead + `  - type: judge
    model: fake
    rubric: |
      The answer is polite.
      It mentions {{.order | nofunc}}.
`}, []string{`suite.yaml:10: scorers[0].rubric: template: function "nofunc" not defined`}},

	{"choice value out of range", map[string]string{"suite.yaml": judgeHead + `  - type: judge
    model: fake
    rubric: Polite.
    choices:
      PASS: 1
      MEH: 1.5
      FAIL: 0
`}, []string{`suite.yaml:11: scorers[0].choices[1]: grade MEH: value must be in [0, 1], got 1.5`}},

	{"choices as a list", map[string]string{"suite.yaml": judgeHead + `  - {type: judge, model: fake, rubric: Polite., choices: [PASS, FAIL]}
`}, []string{`suite.yaml:6: scorers[0].choices: expected a mapping of grade to score, e.g. {PASS: 1, FAIL: 0}, got a list`}},

	{"duplicate choice", map[string]string{"suite.yaml": judgeHead + `  - type: judge
    model: fake
    rubric: Polite.
    choices: {PASS: 1, FAIL: 0,
      PASS: 0.5}
`}, []string{`suite.yaml:10: scorers[0].choices[2]: duplicate grade "PASS" (first at line 9)`}},

	{"choice not a number", map[string]string{"suite.yaml": judgeHead + `  - {type: judge, model: fake, rubric: Polite., choices: {PASS: yes, FAIL: 0}}
`}, []string{`suite.yaml:6: scorers[0].choices[0]: expected a number, got "yes"`}},

	{"no full marks", map[string]string{"suite.yaml": judgeHead + `  - type: judge
    model: fake
    rubric: Polite.
    choices:
      GOOD: 0.9
      BAD: 0
`}, []string{`suite.yaml:9: scorers[0].choices: no grade is worth 1, so no answer could get full marks`}},

	{"samples and temperature", map[string]string{"suite.yaml": judgeHead + `  - {type: judge, model: fake, rubric: Polite., samples: 0}
  - {type: judge, model: fake, rubric: Polite., samples: three}
  - {type: judge, model: fake, rubric: Polite., temperature: -1}
`}, []string{
		`suite.yaml:6: scorers[0].samples: must be between 1 and 100, got 0`,
		`suite.yaml:7: scorers[1].samples: expected an integer, got "three"`,
		`suite.yaml:8: scorers[2].temperature: must be a finite number ≥ 0, got -1`,
	}},

	{"missing model and rubric", map[string]string{"suite.yaml": judgeHead + `  - type: judge
    rubric: Polite.
  - type: judge
    model: fake
  - {type: judge, model: "", rubric: x}
`}, []string{
		`suite.yaml:6: scorers[0].model: required for scorer "judge": the grading model, e.g. openai:gpt-4o-mini`,
		`suite.yaml:8: scorers[1].rubric: required for scorer "judge": what a good answer does`,
		`suite.yaml:10: scorers[2].model: empty model`,
	}},

	{"judge fields on another scorer", map[string]string{"suite.yaml": judgeHead + `  - type: exact
    value: hi
    model: fake
`}, []string{`suite.yaml:8: scorers[0].model: not used by scorer "exact"`}},

	{"misspelt judge field", map[string]string{"suite.yaml": judgeHead + `  - {type: judge, model: fake, rubrik: Polite.}
`}, []string{`suite.yaml:6: scorers[0]: unknown field "rubrik"; did you mean "rubric"?`}},
}

func TestJudgeMalformed(t *testing.T) {
	for _, tt := range judgeMalformed {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, text := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(text)}
			}
			var got []string
			s, err := LoadFS(fsys, "suite.yaml", LoadOptions{Judge: fakeJudge(t)})
			if err == nil {
				err = s.Check(context.Background())
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.File == "" || e.Line == 0 {
					t.Errorf("unlocated error %q", e)
				}
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
}

func TestJudgeWithoutHook(t *testing.T) {
	fsys := fstest.MapFS{"suite.yaml": {Data: []byte(judgeHead + `  - {type: exact, value: hi}
  - type: not-judge
    model: openai:gpt-4o-mini
    rubric: Rude.
`)}}
	_, err := LoadFS(fsys, "suite.yaml", LoadOptions{})
	want := `suite.yaml:7: scorers[1].type: judge scorers need a model provider; run through the yardstick CLI or set LoadOptions.Judge`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// TestJudgeHookOncePerModel checks that the hook is asked once per distinct
// model text, so scorers sharing a judge share its decorators.
func TestJudgeHookOncePerModel(t *testing.T) {
	fsys := fstest.MapFS{"suite.yaml": {Data: []byte(judgeHead + `  - {type: judge, model: fake, rubric: Polite.}
  - {type: not-judge, model: fake, rubric: Rude.}
  - {type: judge, model: "openai:gpt-4o-mini", rubric: Concrete.}
`)}}
	calls := map[string]int{}
	hook := fakeJudge(t)
	s, err := LoadFS(fsys, "suite.yaml", LoadOptions{Judge: func(target string) (providers.Provider, string, error) {
		calls[target]++
		return hook(target)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls["fake"] != 1 || calls["openai:gpt-4o-mini"] != 1 {
		t.Errorf("hook calls = %v, want one per model", calls)
	}
	parts := s.Scorer.Parts()
	if len(parts) != 3 || parts[0].Grader().Model != "fake" || parts[2].Grader().Model != "gpt-4o-mini" {
		t.Errorf("graders not set from the hook: %d parts", len(parts))
	}
}

// TestJudgeEndToEnd loads a suite whose hook builds the real OpenAI adapter
// on a fake server, renders its cases and scores answers as the runner does.
func TestJudgeEndToEnd(t *testing.T) {
	fake := providertest.NewOpenAIServer(t)
	fake.SetResponder(func(r providertest.WireRequest) string {
		if strings.Contains(r.Prompt(), "[BEGIN ANSWER]\nSure, ") {
			return "Polite and gives a next step.\nGRADE: PASS"
		}
		return "Curt.\nGRADE: FAIL"
	})
	hook := func(target string) (providers.Provider, string, error) {
		scheme, model, _ := strings.Cut(target, ":")
		if scheme != "openai" {
			return nil, "", fmt.Errorf("unknown scheme %q", scheme)
		}
		c, err := openai.New(openai.Config{BaseURL: fake.URL(), APIKey: "sk-test"})
		return c, model, err
	}
	fsys := fstest.MapFS{"suite.yaml": {Data: []byte(`name: support
prompt:
  system: You are a support agent.
  user: "Customer: {{.text}}"
cases:
  - {id: late, vars: {text: "Where is my parcel?", topic: shipping}, expected: Offer to track it.}
scorers:
  - type: judge
    model: openai:gpt-4o-mini
    rubric: "Polite, and offers a concrete next step about {{.topic}}."
    samples: 2
pass_threshold: 0.5
`)}}
	s, err := LoadFS(fsys, "suite.yaml", LoadOptions{Judge: hook})
	if err != nil {
		t.Fatal(err)
	}
	var scored []string
	for c, err := range s.Cases(CasesOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{"Sure, I can track it for you now.", "Wait."} {
			sc, err := c.Scorer.Score(providers.WithRepeat(context.Background(), 0), c, &providers.Response{Text: out})
			if err != nil {
				t.Fatal(err)
			}
			scored = append(scored, fmt.Sprintf("%v %.2f %s", sc.Pass, sc.Value, sc.Parts[0].Reason))
		}
	}
	want := []string{
		`true 1.00 judge 2/2 PASS [PASS PASS]: "Polite and gives a next step."`,
		`false 0.00 judge 2/2 FAIL [FAIL FAIL]: "Curt."`,
	}
	if strings.Join(scored, "\n") != strings.Join(want, "\n") {
		t.Errorf("scores:\n got %q\nwant %q", scored, want)
	}
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d grading requests, want 4", len(reqs))
	}
	user := reqs[0].Prompt()
	for _, w := range []string{
		"[system]\nYou are a support agent.\n[user]\nCustomer: Where is my parcel?\n[END CONVERSATION]",
		"[BEGIN REFERENCE ANSWER]\nOffer to track it.\n",
		"[BEGIN RUBRIC]\nPolite, and offers a concrete next step about shipping.\n[END RUBRIC]",
	} {
		if !strings.Contains(user, w) {
			t.Errorf("grading prompt lacks %q:\n%s", w, user)
		}
	}
	if reqs[0].Model != "gpt-4o-mini" || reqs[0].Temperature == nil || *reqs[0].Temperature != 0 {
		t.Errorf("model %q temperature %v, want gpt-4o-mini and 0", reqs[0].Model, reqs[0].Temperature)
	}
}

// TestJudgePrice checks that LoadOptions.JudgePrice prices each judge's
// grader, asked once per model after Judge resolved it, and that without it
// (or with a nil price) graders have no price.
func TestJudgePrice(t *testing.T) {
	fsys := fstest.MapFS{"suite.yaml": {Data: []byte(judgeHead + `  - {type: judge, model: fake, rubric: Polite.}
  - {type: not-judge, model: fake, rubric: Rude.}
  - {type: judge, model: "openai:gpt-4o-mini", rubric: Concrete.}
`)}}
	fakePrice := providers.Price{InputPerM: 0.15, OutputPerM: 0.6}
	t.Run("priced", func(t *testing.T) {
		resolved := map[string]bool{}
		asked := map[string]int{}
		hook := fakeJudge(t)
		s, err := LoadFS(fsys, "suite.yaml", LoadOptions{
			Judge: func(target string) (providers.Provider, string, error) {
				resolved[target] = true
				return hook(target)
			},
			JudgePrice: func(target string) *providers.Price {
				if !resolved[target] {
					t.Errorf("JudgePrice(%q) before Judge resolved it", target)
				}
				asked[target]++
				if target == "fake" {
					p := fakePrice
					return &p
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) != 2 || asked["fake"] != 1 || asked["openai:gpt-4o-mini"] != 1 {
			t.Errorf("JudgePrice calls = %v, want one per model", asked)
		}
		parts := s.Scorer.Parts()
		for i, want := range []*providers.Price{&fakePrice, &fakePrice, nil} {
			got := parts[i].Grader().Price
			if (got == nil) != (want == nil) || (got != nil && *got != *want) {
				t.Errorf("part %d: Grader().Price = %v, want %v", i, got, want)
			}
		}
	})
	t.Run("no hook", func(t *testing.T) {
		s, err := LoadFS(fsys, "suite.yaml", LoadOptions{Judge: fakeJudge(t)})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range s.Scorer.Parts() {
			if p.Grader().Price != nil {
				t.Errorf("part %d: Grader().Price = %v, want nil", i, p.Grader().Price)
			}
		}
	})
}
