package score

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

const judgeModel = "gpt-4o-mini"

var threeGrades = []Choice{{"PASS", 1}, {"PARTIAL", 0.5}, {"FAIL", 0}}

// newGrader starts an OpenAI fake and returns it with the real OpenAI
// adapter pointed at it.
func newGrader(t *testing.T) (*providertest.OpenAIServer, *openai.Client) {
	t.Helper()
	fake := providertest.NewOpenAIServer(t)
	client, err := openai.New(openai.Config{BaseURL: fake.URL(), APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	return fake, client
}

// judgeSpec fills the fields every judge test shares.
func judgeSpec(s Spec, p providers.Provider) Spec {
	if s.Type == "" {
		s.Type = "judge"
	}
	if s.Rubric == "" {
		s.Rubric = "The answer is polite and offers a concrete next step."
	}
	s.Model = "openai:" + judgeModel
	s.Grader = &Grader{Provider: p, Model: judgeModel}
	return s
}

// supportCase is a rendered customer-support case.
func supportCase() *bench.Case {
	return &bench.Case{
		ID: "late-1",
		Request: providers.Request{
			System:   "You are a support agent for an online shop.",
			Messages: []providers.Message{{Role: providers.RoleUser, Content: "My order #123 is late. What now?"}},
		},
		Expected: "Apologise and offer to track order #123.",
		Vars:     map[string]string{"order": "#123", "topic": "shipping"},
	}
}

func say(text string) providertest.Behavior { return providertest.Behavior{Text: text} }

func TestJudgeGrades(t *testing.T) {
	likert := []Choice{{"1", 0}, {"2", 0.25}, {"3", 0.5}, {"4", 0.75}, {"5", 1}}
	tests := []struct {
		name    string
		spec    Spec
		replies []providertest.Behavior
		value   float64
		pass    bool
		reason  string // exact
		err     string // substring of the error; "" for none
	}{
		{name: "pass", replies: []providertest.Behavior{say("Thanks the customer and offers tracking.\nGRADE: PASS")},
			value: 1, pass: true, reason: `judge PASS: "Thanks the customer and offers tracking."`},
		{name: "fail in bold lower case", replies: []providertest.Behavior{say("The tone is curt.\n\n**GRADE:** fail")},
			value: 0, reason: `judge FAIL: "The tone is curt."`},
		{name: "partial with markdown value", spec: Spec{Choices: threeGrades},
			replies: []providertest.Behavior{say("Polite, but no next step.\nGrade: **PARTIAL**.")},
			value:   0.5, reason: `judge PARTIAL: "Polite, but no next step."`},
		{name: "bold label then colon", replies: []providertest.Behavior{say("Fine.\n**Grade**: `PASS`")},
			value: 1, pass: true, reason: `judge PASS: "Fine."`},
		{name: "last GRADE line wins", replies: []providertest.Behavior{say("GRADE: FAIL was my first thought.\nOn reflection it is fine.\nGRADE: PASS\n")},
			value: 1, pass: true, reason: `judge PASS: "GRADE: FAIL was my first thought. On reflection it is fine."`},
		{name: "final grade heading", replies: []providertest.Behavior{say("### Reasoning\nPolite and specific.\n### Final Grade: Pass")},
			value: 1, pass: true, reason: `judge PASS: "### Reasoning Polite and specific."`},
		{name: "trailing code fence ignored", replies: []providertest.Behavior{say("```\nGRADE: FAIL\n```")},
			value: 0, reason: "judge FAIL: \"```\""},
		{name: "likert with trailing words", spec: Spec{Choices: likert},
			replies: []providertest.Behavior{say("Mostly good.\nGRADE: 4 (out of 5)")},
			value:   0.75, reason: `judge 4: "Mostly good."`},
		{name: "no reasoning", replies: []providertest.Behavior{say("GRADE: PASS")},
			value: 1, pass: true, reason: `judge PASS`},

		{name: "garbage", replies: []providertest.Behavior{say("I think the answer is fine.")},
			err: `unreadable judge grade: no "GRADE: <grade>" line (grades: PASS, FAIL); reply ends "I think the answer is fine."`},
		{name: "grade in prose is not a GRADE line", replies: []providertest.Behavior{say("The grade: PASS would be too kind.")},
			err: `no "GRADE: <grade>" line`},
		{name: "unknown grade", replies: []providertest.Behavior{say("Hmm.\nGRADE: MAYBE")},
			err: `the GRADE line gives "MAYBE", not one of PASS, FAIL`},
		{name: "grade not first word", replies: []providertest.Behavior{say("GRADE: not PASS")},
			err: `the GRADE line gives "not PASS", not one of PASS, FAIL`},
		{name: "empty grade", replies: []providertest.Behavior{say("GRADE:")},
			err: `the GRADE line gives nothing`},
		{name: "echoed list", replies: []providertest.Behavior{say("GRADE: PASS/FAIL")},
			err: `the GRADE line names several grades: "PASS/FAIL"`},
		{name: "echoed list with or", spec: Spec{Choices: threeGrades}, replies: []providertest.Behavior{say("GRADE: PASS or PARTIAL")},
			err: `names several grades`},
		{name: "cut at max tokens", replies: []providertest.Behavior{{Text: "The answer starts well but", FinishReason: "length"}},
			err: `the reply was cut at max tokens`},
		{name: "grader error", replies: []providertest.Behavior{{Status: 400}},
			err: `judge request: openai: invalid_request (HTTP 400)`},

		{name: "negated pass", spec: Spec{Type: "not-judge"}, replies: []providertest.Behavior{say("Polite.\nGRADE: PASS")},
			value: 0, reason: `judge PASS: "Polite." (not wanted)`},
		{name: "negated fail keeps reasoning", spec: Spec{Type: "not-judge"}, replies: []providertest.Behavior{say("Rude.\nGRADE: FAIL")},
			value: 1, pass: true, reason: `judge FAIL: "Rude."`},

		{name: "samples disagree", spec: Spec{Samples: ip(3)},
			replies: []providertest.Behavior{say("Good.\nGRADE: PASS"), say("No next step.\nGRADE: FAIL"), say("Fine.\nGRADE: PASS")},
			value:   2.0 / 3, pass: true, reason: `judge 2/3 PASS [PASS FAIL PASS]: "Good."`},
		{name: "samples agree", spec: Spec{Samples: ip(3)},
			replies: []providertest.Behavior{say("a\nGRADE: FAIL"), say("b\nGRADE: FAIL"), say("c\nGRADE: FAIL")},
			value:   0, reason: `judge 3/3 FAIL [FAIL FAIL FAIL]: "a"`},
		{name: "samples tie goes to the lower grade", spec: Spec{Samples: ip(2)},
			replies: []providertest.Behavior{say("ok\nGRADE: PASS"), say("meh\nGRADE: FAIL")},
			value:   0.5, reason: `judge 1/2 FAIL [PASS FAIL]: "meh"`},
		{name: "samples three ways", spec: Spec{Samples: ip(3), Choices: threeGrades},
			replies: []providertest.Behavior{say("GRADE: PASS"), say("GRADE: PARTIAL"), say("GRADE: PARTIAL")},
			value:   2.0 / 3, reason: `judge 2/3 PARTIAL [PASS PARTIAL PARTIAL]`},
		{name: "negated samples", spec: Spec{Type: "not-judge", Samples: ip(3)},
			replies: []providertest.Behavior{say("GRADE: PASS"), say("GRADE: FAIL"), say("GRADE: FAIL")},
			value:   1 - 1.0/3, pass: true, reason: `judge 2/3 FAIL [PASS FAIL FAIL]`},
		{name: "garbage sample", spec: Spec{Samples: ip(3)},
			replies: []providertest.Behavior{say("GRADE: PASS"), say("no idea")},
			err:     `unreadable judge grade (sample 2): no "GRADE: <grade>" line`},
		{name: "grader error on a sample", spec: Spec{Samples: ip(2)},
			replies: []providertest.Behavior{say("GRADE: PASS"), {Status: 404}},
			err:     `judge request 2 of 2: openai: not_found (HTTP 404)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newGrader(t)
			fake.Script(tt.replies...)
			p, err := NewPart(judgeSpec(tt.spec, client))
			if err != nil {
				t.Fatalf("NewPart: %v", err)
			}
			c := supportCase()
			if err := p.Check(c); err != nil {
				t.Fatalf("Check: %v", err)
			}
			got, err := p.JudgeContext(context.Background(), c, "Sorry about the delay! I can track order #123 for you now.")
			if fake.Count() != len(tt.replies) {
				t.Errorf("grader got %d requests, want %d", fake.Count(), len(tt.replies))
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				var ge *GradeError
				var pe *providers.Error
				if !errors.As(err, &ge) && !errors.As(err, &pe) {
					t.Errorf("err is %T, want a *GradeError or a *providers.Error in its chain", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("JudgeContext: %v", err)
			}
			if math.Abs(got.Value-tt.value) > 1e-12 || got.Pass != tt.pass || got.Reason != tt.reason {
				t.Errorf("got value %v pass %v reason %q\nwant value %v pass %v reason %q",
					got.Value, got.Pass, got.Reason, tt.value, tt.pass, tt.reason)
			}
			if want := judgeSpec(tt.spec, client).Type; got.Name != want || got.Weight != 1 {
				t.Errorf("Name, Weight = %q, %v; want %q, 1", got.Name, got.Weight, want)
			}
		})
	}
}

func ip(i int) *int { return &i }

// TestJudgeRequest reads the grading request as the fake received it.
func TestJudgeRequest(t *testing.T) {
	tests := []struct {
		name   string
		spec   Spec
		c      func() *bench.Case
		temp   float64
		golden string
	}{
		{name: "default", spec: Spec{Rubric: "Polite; explains the {{.topic}} status of order {{.order}}."},
			c: supportCase, temp: 0, golden: "judge_request.golden"},
		{name: "three grades, temperature, no reference", spec: Spec{Rubric: "Polite.", Choices: threeGrades, Temperature: fp(0.7)},
			c: func() *bench.Case {
				c := supportCase()
				c.Expected = ""
				c.Request.System = ""
				c.Request.Messages = append(c.Request.Messages,
					providers.Message{Role: providers.RoleAssistant, Content: "Which order?"},
					providers.Message{Role: providers.RoleUser, Content: "#123\n"})
				return c
			}, temp: 0.7, golden: "judge_request_choices.golden"},
	}
	const answer = "Sorry about the delay! I can track order #123 for you now."
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newGrader(t)
			fake.Script(say("Polite.\nGRADE: PASS"))
			p, err := NewPart(judgeSpec(tt.spec, client))
			if err != nil {
				t.Fatal(err)
			}
			c := tt.c()
			if _, err := p.Judge(c, answer); err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Model != judgeModel {
				t.Errorf("model = %q, want %q", r.Model, judgeModel)
			}
			if r.Temperature == nil || *r.Temperature != tt.temp {
				t.Errorf("temperature = %v, want explicitly %v", r.Temperature, tt.temp)
			}
			if tt.temp == 0 && !strings.Contains(string(r.Body), `"temperature":0`) {
				t.Errorf("body does not carry temperature 0: %s", r.Body)
			}
			if r.MaxTokens != nil || r.JSONSchema != nil || r.Seed != nil || r.Stream {
				t.Errorf("unexpected knobs: max_tokens %v, schema %s, seed %v, stream %v", r.MaxTokens, r.JSONSchema, r.Seed, r.Stream)
			}
			if len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[1].Role != "user" {
				t.Fatalf("messages = %+v, want system then user", r.Messages)
			}
			sys, user := r.Messages[0].Content, r.Messages[1].Content
			rubric, _ := p.cj.(*modelJudge).renderRubric(c)
			for _, want := range []string{"[BEGIN RUBRIC]\n" + rubric + "\n[END RUBRIC]", "[BEGIN ANSWER]\n" + answer + "\n[END ANSWER]"} {
				if !strings.Contains(user, want) {
					t.Errorf("user message lacks %q", want)
				}
			}
			if strings.Contains(rubric, "{{") {
				t.Errorf("rubric not rendered: %q", rubric)
			}
			if hasRef := strings.Contains(user, "[BEGIN REFERENCE ANSWER]\n"+c.Expected+"\n"); hasRef != (c.Expected != "") {
				t.Errorf("reference answer present = %v, want %v", hasRef, c.Expected != "")
			}
			for _, m := range c.Request.Messages {
				if !strings.Contains(user, "["+m.Role+"]\n"+m.Content) {
					t.Errorf("conversation lacks %s message %q", m.Role, m.Content)
				}
			}
			if !strings.Contains(sys, "GRADE: <grade>") {
				t.Errorf("system message does not ask for a GRADE line:\n%s", sys)
			}
			checkGolden(t, tt.golden, fmt.Sprintf("== system\n%s\n== user\n%s\n", sys, user))
		})
	}
}

// TestJudgeSamplesThroughCache checks that samples and repeats reach a
// response cache as distinct repeat indexes, and that a rerun hits it.
func TestJudgeSamplesThroughCache(t *testing.T) {
	fake, client := newGrader(t)
	var n int
	var mu sync.Mutex
	fake.SetResponder(func(providertest.WireRequest) string {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%3 == 2 {
			return "GRADE: FAIL"
		}
		return "GRADE: PASS"
	})
	store := &providers.MemStore{}
	cached := providers.Cached(client, store, providers.CacheConfig{Scope: "openai@fake"})
	p, err := NewPart(judgeSpec(Spec{Samples: ip(3)}, cached))
	if err != nil {
		t.Fatal(err)
	}
	c := supportCase()
	steps := []struct {
		repeat   int
		requests int // total requests the fake has seen after the step
		reason   string
	}{
		{0, 3, "judge 2/3 PASS [PASS FAIL PASS]"},
		{0, 3, "judge 2/3 PASS [PASS FAIL PASS]"}, // rerun: every sample from the cache
		{1, 6, "judge 2/3 PASS [PASS FAIL PASS]"}, // the runner's next repeat: fresh samples
		{1, 6, "judge 2/3 PASS [PASS FAIL PASS]"},
	}
	for i, st := range steps {
		sp, err := p.JudgeContext(providers.WithRepeat(context.Background(), st.repeat), c, "answer")
		if err != nil {
			t.Fatal(err)
		}
		if fake.Count() != st.requests || sp.Reason != st.reason {
			t.Errorf("step %d (repeat %d): %d requests, reason %q; want %d, %q", i, st.repeat, fake.Count(), sp.Reason, st.requests, st.reason)
		}
	}
	if store.Len() != 6 {
		t.Errorf("cache holds %d entries, want 6 (3 samples × 2 repeats)", store.Len())
	}
}

func TestJudgeCheck(t *testing.T) {
	_, client := newGrader(t)
	tests := []struct {
		name   string
		rubric string
		c      bench.Case
		field  string
		msg    string
	}{
		{"ok", "Mentions {{.order}} and {{.expected}}", bench.Case{Expected: "x", Vars: map[string]string{"order": "#1"}}, "", ""},
		{"missing variable", "Explains the {{.topic}} status.", bench.Case{Vars: map[string]string{}}, "rubric", `missing variable "topic"`},
		{"expected needed", "Agrees with: {{.expected}}", bench.Case{}, "expected", "the rubric uses {{.expected}} but the case has no expected answer"},
		{"renders empty", "{{.topic}}", bench.Case{Vars: map[string]string{"topic": " "}}, "rubric", "renders empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPart(t, judgeSpec(Spec{Rubric: tt.rubric}, client))
			err := p.Check(&tt.c)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var re *RefError
			if !errors.As(err, &re) || re.Field != tt.field || re.Err.Error() != tt.msg {
				t.Fatalf("Check = %v, want *RefError %s: %s", err, tt.field, tt.msg)
			}
			// Judging such a case fails the same way, without a request.
			if _, err := p.Judge(&tt.c, "answer"); !errors.As(err, &re) {
				t.Errorf("Judge = %v, want *RefError", err)
			}
		})
	}
}

func TestJudgeSpecErrors(t *testing.T) {
	_, client := newGrader(t)
	g := &Grader{Provider: client, Model: judgeModel}
	tests := []struct {
		name  string
		spec  Spec
		field string
		msg   string
	}{
		{"missing model", Spec{Type: "judge", Rubric: "x"}, "model", `required for scorer "judge"`},
		{"unresolved model", Spec{Type: "judge", Model: "openai:gpt-4o", Rubric: "x"}, "model", `model "openai:gpt-4o" is not resolved`},
		{"missing rubric", Spec{Type: "judge", Grader: g}, "rubric", `required for scorer "judge"`},
		{"blank rubric", Spec{Type: "not-judge", Grader: g, Rubric: "  "}, "rubric", `required for scorer "not-judge"`},
		{"bad rubric template", Spec{Type: "judge", Grader: g, Rubric: "{{.x"}, "rubric", "unclosed action"},
		{"one choice", Spec{Type: "judge", Grader: g, Rubric: "x", Choices: []Choice{{"PASS", 1}}}, "choices", "needs at least two grades"},
		{"choice value", Spec{Type: "judge", Grader: g, Rubric: "x", Choices: []Choice{{"PASS", 1}, {"FAIL", -1}}}, "choices[1]", "grade FAIL: value must be in [0, 1], got -1"},
		{"choice label", Spec{Type: "judge", Grader: g, Rubric: "x", Choices: []Choice{{"PASS", 1}, {"NOT OK", 0}}}, "choices[1]", `grade "NOT OK": use one word`},
		{"choice duplicate", Spec{Type: "judge", Grader: g, Rubric: "x", Choices: []Choice{{"PASS", 1}, {"pass", 0}}}, "choices[1]", "same as choices[0]"},
		{"no full marks", Spec{Type: "judge", Grader: g, Rubric: "x", Choices: []Choice{{"GOOD", 0.8}, {"BAD", 0}}}, "choices", "no grade is worth 1"},
		{"samples zero", Spec{Type: "judge", Grader: g, Rubric: "x", Samples: ip(0)}, "samples", "must be between 1 and 100, got 0"},
		{"samples many", Spec{Type: "judge", Grader: g, Rubric: "x", Samples: ip(101)}, "samples", "must be between 1 and 100, got 101"},
		{"negative temperature", Spec{Type: "judge", Grader: g, Rubric: "x", Temperature: fp(-0.5)}, "temperature", "must be a finite number ≥ 0"},
		{"value on judge", Spec{Type: "judge", Grader: g, Rubric: "x", Value: sp("y")}, "value", `not used by scorer "judge"`},
		{"rubric on exact", Spec{Type: "exact", Rubric: "x"}, "rubric", `not used by scorer "exact"`},
		{"grader on exact", Spec{Type: "exact", Grader: g}, "model", `not used by scorer "exact"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPart(tt.spec)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldError", err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Err.Error(), tt.msg) {
				t.Errorf("got %q: %q; want %q containing %q", fe.Field, fe.Err, tt.field, tt.msg)
			}
		})
	}
}

// TestJudgeComposite scores a judge next to a plain scorer through
// Composite.Score, as the runner does.
func TestJudgeComposite(t *testing.T) {
	fake, client := newGrader(t)
	judge := mustPart(t, judgeSpec(Spec{Weight: fp(3)}, client))
	apology := mustPart(t, Spec{Type: "not-icontains", Value: sp("as an ai")})
	comp, err := NewComposite(1, judge, apology)
	if err != nil {
		t.Fatal(err)
	}
	c := supportCase()
	fake.Script(say("No next step offered.\nGRADE: FAIL"))
	s, err := comp.Score(context.Background(), c, &providers.Response{Text: "As an AI, I cannot help."})
	if err != nil {
		t.Fatal(err)
	}
	want := `judge: judge FAIL: "No next step offered."; not-icontains: output contains "as an ai" (not wanted)`
	if s.Pass || s.Value != 0 || s.Reason != want || len(s.Parts) != 2 {
		t.Errorf("got %+v\nwant reason %q", s, want)
	}

	fake.Script(say("Polite and offers tracking.\nGRADE: PASS"))
	s, err = comp.Score(context.Background(), c, &providers.Response{Text: "Sorry! I'll track it."})
	if err != nil || !s.Pass || s.Value != 1 || s.Parts[0].Reason != `judge PASS: "Polite and offers tracking."` {
		t.Errorf("got %+v, %v", s, err)
	}

	// A grader failure is a scorer error naming the part, with the
	// provider's error in its chain for the runner's error kind.
	fake.Script(providertest.Behavior{Status: 401})
	_, err = comp.Score(context.Background(), c, &providers.Response{Text: "x"})
	var pe *PartError
	if !errors.As(err, &pe) || pe.Index != 0 || providers.KindOf(err) != providers.KindAuth {
		t.Errorf("err = %v (kind %s), want a *PartError for scorers[0] of kind auth", err, providers.KindOf(err))
	}

	// The context reaches the grading request.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := fake.Count()
	_, err = comp.Score(ctx, c, &providers.Response{Text: "x"})
	if providers.KindOf(err) != providers.KindCanceled || fake.Count() != before {
		t.Errorf("canceled ctx: err = %v (kind %s), %d new requests", err, providers.KindOf(err), fake.Count()-before)
	}
}

// TestJudgeConcurrent grades from several goroutines at once (run with
// -race) with a grader that passes polite answers.
func TestJudgeConcurrent(t *testing.T) {
	fake, client := newGrader(t)
	fake.SetResponder(func(r providertest.WireRequest) string {
		_, ans, _ := strings.Cut(r.Prompt(), "[BEGIN ANSWER]\n")
		ans, _, _ = strings.Cut(ans, "[END ANSWER]")
		if strings.Contains(ans, "please") {
			return "Polite.\nGRADE: PASS"
		}
		return "Curt.\nGRADE: FAIL"
	})
	comp, err := NewComposite(1, mustPart(t, judgeSpec(Spec{Samples: ip(2)}, client)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				polite := (g+i)%2 == 0
				out := fmt.Sprintf("answer %d-%d", g, i)
				if polite {
					out += ", please"
				}
				s, err := comp.Score(context.Background(), supportCase(), &providers.Response{Text: out})
				if err != nil || s.Pass != polite {
					t.Errorf("%q: pass %v (%v), want %v", out, s.Pass, err, polite)
				}
			}
		}()
	}
	wg.Wait()
	if fake.Count() != 8*5*2 {
		t.Errorf("%d grading requests, want %d", fake.Count(), 8*5*2)
	}
}

func TestParseGrade(t *testing.T) {
	_, client := newGrader(t)
	j := mustPart(t, judgeSpec(Spec{Choices: []Choice{{"CORRECT", 1}, {"MOSTLY_CORRECT", 0.7}, {"v1.0", 0.2}, {"WRONG", 0}}}, client)).cj.(*modelJudge)
	tests := []struct {
		reply string
		want  string // grade label, or "error"
	}{
		{"GRADE: CORRECT", "CORRECT"},
		{"grade: mostly_correct", "MOSTLY_CORRECT"},
		{"GRADE: __MOSTLY_CORRECT__", "MOSTLY_CORRECT"},
		{"> **Final grade:** *Wrong*.", "WRONG"},
		{"- GRADE: \"correct\"", "CORRECT"},
		{"GRADE：CORRECT", "CORRECT"},
		{"GRADE = CORRECT", "error"},
		{"GRADE: v1.0.", "v1.0"},
		{"GRADE: [CORRECT]", "CORRECT"},
		{"GRADE: <WRONG>", "WRONG"},
		{"GRADE: CORRECT | WRONG", "error"},
		{"GRADE: CORRECT, WRONG", "error"},
		{"GRADE: CORRECTLY", "error"},
		{"GRADES: CORRECT", "error"},
		{"Upgrade: CORRECT", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.reply, func(t *testing.T) {
			g, _, err := j.parse(tt.reply)
			got := "error"
			if err == nil {
				got = j.choices[g].Label
			}
			if got != tt.want {
				t.Errorf("parse(%q) = %s (%v), want %s", tt.reply, got, err, tt.want)
			}
		})
	}
}
